"""When two lemmas name the same thing: one synonym group (guardrails/lexicons/synonyms.yaml),
or one word with another prefix or suffix («блокировка» / «заблокировать», «звонок» /
«позвонить»). Faithfulness checks compare a reply with its draft by meaning, and a rewrite is
free to change a noun into a verb or a verb's aspect."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache

from rewriter.analysis.morph import fold
from rewriter.analysis.vocab import raw

_VERB_ENDINGS = ("ться", "тись", "ть", "ти", "чь")
_VOWELS = set("аеиоуыэюя")


@cache
def _groups() -> dict[str, str]:
    """lemma → the first word of its group (the concept's name)."""
    out: dict[str, str] = {}
    for group in raw("synonyms").get("groups", []):
        words = [fold(str(w)) for w in group]
        for w in words:
            out.setdefault(w, words[0])
    return out


@lru_cache(maxsize=50_000)
def aspect_stem(lemma: str) -> str:
    """One key for an aspect pair or a reflexive twin: «выдать»/«выдавать», «отменить»/«отменять»,
    «продлить»/«продлевать», «списать»/«списывать». Not every pair meets («принять»/«принимать»
    does not); a miss only means the pair is not compared."""
    w = lemma
    for end in ("ся", "сь"):
        if w.endswith(end) and len(w) > 5:
            w = w[: -len(end)]
            break
    for end in _VERB_ENDINGS:
        if w.endswith(end) and len(w) > len(end) + 2:
            w = w[: -len(end)]
            break
    else:
        return lemma  # not a verb: the lemma is its own key
    for suffix in ("ыва", "ива"):
        if w.endswith(suffix) and len(w) > 5:
            return w[: -len(suffix)]
    if w.endswith("ва") and len(w) > 4 and w[-3] in _VOWELS:
        w = w[:-2]
    if w and w[-1] in _VOWELS and len(w) > 3:
        w = w[:-1]
    return w


def concept(lemma: str) -> str:
    """The key two wordings of one predicate or object share."""
    group = _groups().get(lemma)
    return "=" + group if group else aspect_stem(lemma)


def _stem(word: str) -> str:
    """The first four or five letters: «измен» is «изменение» and «измениться»."""
    return word[: max(4, min(5, len(word) - 3))]


@lru_cache(maxsize=200_000)
def related(a: str, b: str) -> bool:
    """Same lemma, same synonym group, or one word's stem inside the other near its start
    (a prefix such as «за-», «по-», «пере-» may precede it)."""
    if a == b:
        return True
    groups = _groups()
    ga, gb = groups.get(a), groups.get(b)
    if ga is not None and ga == gb:
        return True
    if len(a) < 4 or len(b) < 4:
        return False
    for x, y in ((a, b), (b, a)):
        at = y.find(_stem(x))
        if 0 <= at <= 4:
            return True
    return False


class KinIndex:
    """`related` against a whole set of lemmas at once, in constant time per question: the
    lemmas themselves, their synonym groups, their stems, and every four- or five-letter window
    that starts within four letters of their beginning (where a stem of a related word sits)."""

    def __init__(self, lemmas: Iterable[str]) -> None:
        groups = _groups()
        self.exact: set[str] = set()
        self.groups: set[str] = set()
        self.windows: set[str] = set()
        self.stems: set[str] = set()
        for b in lemmas:
            self.exact.add(b)
            group = groups.get(b)
            if group is not None:
                self.groups.add(group)
            if len(b) >= 4:
                self.stems.add(_stem(b))
                self.windows.update(_windows(b))

    def has_kin(self, a: str) -> bool:
        if a in self.exact:
            return True
        group = _groups().get(a)
        if group is not None and group in self.groups:
            return True
        if len(a) < 4:
            return False
        return _stem(a) in self.windows or not self.stems.isdisjoint(_windows(a))


@lru_cache(maxsize=100_000)
def _windows(word: str) -> frozenset[str]:
    return frozenset(word[i : i + n] for i in range(5) for n in (4, 5) if i + n <= len(word))
