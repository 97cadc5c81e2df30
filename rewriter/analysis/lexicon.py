"""Phrase lexicons matched by lemma, tolerant to inflection, small gaps and (optionally) order.

Phrase syntax, as written in the YAML files under guardrails/:
  «вернуть деньги»   each word matches any inflection (lemmas of all parses);
  «=вы»              an exact word form (lower-cased, ё→е);
  «промокод*»        any word starting with «промокод»;
  «спасибо|благодарить за терпение»  alternatives for one word, each as above (same kind).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from rewriter.analysis.morph import normalise_word, phrase_lemmas
from rewriter.analysis.text import Doc, Token


@cache
def grammar(name: str) -> frozenset[str]:
    """A closed word list of guardrails/lexicons/grammar.yaml (negations, modals…)."""
    from rewriter.paths import lexicon_data

    return frozenset(lexicon_data("grammar")[name])


@dataclass(frozen=True, slots=True)
class Word:
    kind: str  # "lemma" | "exact" | "prefix"
    values: frozenset[str]
    # The Doc keys the word matches (`_keys_of`), computed once when it is compiled.
    keys: frozenset[str] = frozenset()

    def matches(self, token: Token) -> bool:
        if self.kind == "lemma":
            return not self.values.isdisjoint(token.lemmas)
        if self.kind == "exact":
            return token.norm in self.values
        return any(token.norm.startswith(v) for v in self.values)


def _keys_of(word: Word) -> frozenset[str]:
    """The Doc keys a lemma or exact word matches (a prefix word has none)."""
    return word.keys


def _word(kind: str, values: frozenset[str]) -> Word:
    keys = values if kind == "lemma" else frozenset("=" + v for v in values)
    return Word(kind, values, keys)


def word_kind(raw: str) -> str:
    """How a phrase word matches, from its syntax alone: exact «=форма», prefix «слово*», lemma."""
    if raw.startswith("="):
        return "exact"
    if raw.endswith("*") and len(raw) > 1:
        return "prefix"
    return "lemma"


def phrase_syntax_error(source: str) -> str | None:
    """What the matcher cannot read in a phrase, found without morphology (so rule files are
    checked when they load, before pymorphy3 starts): None when the phrase is fine."""
    parts = source.split()
    if not parts:
        return "empty phrase"
    for raw in parts:
        options = [o for o in raw.split("|") if o]
        if not options:
            return f"empty word in {source!r}"
        if len({word_kind(o) for o in options}) != 1:
            return f"alternatives of one kind only: {raw!r}"
    return None


@cache
def _compile_word(raw: str) -> Word:
    """One phrase word. Cached: the same words («не», «вы», «деньги») recur across the rule
    files' ~1,600 phrases, and a Word is immutable, so lexicons share them (start-up time)."""
    if "|" in raw:  # alternatives: one word position, any of them
        options = [_compile_word(part) for part in raw.split("|") if part]
        kinds = {w.kind for w in options}
        if len(kinds) != 1:
            raise ValueError(f"alternatives of one kind only: {raw!r}")
        return _word(kinds.pop(), frozenset().union(*(w.values for w in options)))
    kind = word_kind(raw)
    if kind == "exact":
        return _word("exact", frozenset({normalise_word(raw[1:])}))
    if kind == "prefix":
        return _word("prefix", frozenset({normalise_word(raw[:-1])}))
    return _word("lemma", phrase_lemmas(raw))


@dataclass(frozen=True, slots=True)
class Phrase:
    source: str
    words: tuple[Word, ...]
    extra: dict | None = None  # per-phrase data from the rule file (a replacement, a group…)

    @staticmethod
    def compile(source: str, extra: dict | None = None) -> Phrase:
        parts = source.replace("ё", "е").replace("Ё", "Е").split()
        if not parts:
            raise ValueError("empty phrase")
        return Phrase(source, tuple(_compile_word(p) for p in parts), extra)


class Match(NamedTuple):
    phrase: Phrase
    first: int  # token index
    last: int  # token index, inclusive
    start: int  # char offset
    end: int

    @property
    def sent(self) -> int:
        return -1 if self.first < 0 else self.first


class Lexicon:
    """A compiled phrase list; `find` returns every occurrence in a Doc."""

    def __init__(
        self,
        phrases: Iterable[str | dict],
        *,
        gap: int = 1,
        any_order: bool = False,
        window: int = 6,
        overlaps: bool = False,
    ) -> None:
        compiled: list[Phrase] = []
        for item in phrases:
            if isinstance(item, str):
                compiled.append(Phrase.compile(item))
            else:
                extra = {k: v for k, v in item.items() if k != "phrase"}
                compiled.append(Phrase.compile(item["phrase"], extra))
        self.phrases = tuple(compiled)
        self.gap = gap
        self.any_order = any_order
        self.window = window
        # Keep overlapping matches (one lexicon standing for several: the caller groups them).
        self.overlaps = overlaps
        # Index: which phrases a token can start (ordered) or take part in (unordered), by lemma
        # or exact form; prefix words are few and checked directly. Built once per lexicon.
        self._by_key: dict[str, list[int]] = {}
        self._by_prefix: list[tuple[str, int]] = []
        # Ordered phrases are indexed by their first word; unordered ones by their most distinctive
        # word (the anchor), so «не» or «в» does not wake every phrase that contains them.
        distinctive_at = [_anchor_of(phrase.words) for phrase in self.phrases]
        self._anchor: list[int] = distinctive_at if any_order else [0] * len(self.phrases)
        for index, phrase in enumerate(self.phrases):
            word = phrase.words[self._anchor[index]]
            if word.kind == "prefix":
                self._by_prefix += [(value, index) for value in word.values]
            else:
                for key in _keys_of(word):
                    self._by_key.setdefault(key, []).append(index)
        self._keys = frozenset(self._by_key)
        # What a text must hold for a phrase to be possible at all: a key of each of its words
        # (prefix words aside). One set test per word rejects «в течение» in a text with «в» alone.
        self._needs = tuple(
            tuple(_keys_of(w) for w in phrase.words if w.kind != "prefix")
            for phrase in self.phrases
        )
        # The text-level test: some phrase's most distinctive word must be there. For ordered
        # phrases this is stronger than their first word («в настоящее время» needs «настоящий»,
        # not «в»). None when a phrase is all prefixes: then every text is looked at.
        self._by_distinctive: dict[str, list[int]] = {}
        for index, (phrase, needs) in enumerate(zip(self.phrases, self._needs, strict=True)):
            anchor = phrase.words[distinctive_at[index]]
            if anchor.kind != "prefix":
                distinctive = _keys_of(anchor)
            elif needs:
                distinctive = needs[0]  # any other word is as necessary
            else:  # all prefixes: no key to test a text by
                self._prefilter: frozenset[str] | None = None
                break
            for key in distinctive:
                self._by_distinctive.setdefault(key, []).append(index)
        else:
            self._prefilter = frozenset(self._by_distinctive)

    def _candidates(self, token: Token) -> set[int]:
        found: set[int] = set()
        for key in token.keys & self._keys:
            found.update(self._by_key[key])
        for prefix, index in self._by_prefix:
            if token.norm.startswith(prefix):
                found.add(index)
        return found

    def __bool__(self) -> bool:
        return bool(self.phrases)

    @property
    def prefilter(self) -> frozenset[str] | None:
        """Doc keys of which a text must hold one for any phrase to match; None when a phrase
        made only of prefixes makes every text a candidate."""
        return self._prefilter

    def possible(self, doc: Doc) -> set[int] | None:
        """Indexes of the phrases whose every word is in the text (found without looking at a
        single token); None when a phrase of prefixes alone makes every phrase possible."""
        if self._prefilter is None:
            return None
        doc_keys = doc.keys
        present = doc_keys & self._prefilter
        if not present:
            return set()  # the common case: no phrase of this lexicon can be in the text
        return {
            index
            for key in present
            for index in self._by_distinctive[key]
            if not any(map(doc_keys.isdisjoint, self._needs[index]))
        }

    def find(self, doc: Doc, *, sentences: Sequence[int] | None = None) -> list[Match]:
        prefilter = self._prefilter
        if prefilter is not None and prefilter.isdisjoint(doc.keys):
            return []  # what `possible` finds first, without a call: most texts stop here
        keys, prefixes = self._keys, self._by_prefix
        viable = self.possible(doc)  # None: every phrase may be there
        if viable is not None and not viable:
            return []
        tokens = doc.tokens
        found: list[Match] = []
        for i, tok in enumerate(tokens):
            if sentences is not None and tok.sent not in sentences:
                continue
            if keys.isdisjoint(tok.keys) and not prefixes:
                continue  # this word starts nothing
            for index in self._candidates(tok):
                if viable is not None and index not in viable:
                    continue
                phrase = self.phrases[index]
                if self.any_order:
                    m = self._match_unordered(index, tokens, i)
                else:
                    m = self._match_ordered(phrase, tokens, i)
                if m is not None:
                    found.append(m)
        if len(found) < 2:
            return found
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        return found if self.overlaps else _drop_overlaps(found)

    def _match_ordered(self, phrase: Phrase, tokens: Sequence[Token], i: int) -> Match | None:
        last = i
        for word in phrase.words[1:]:
            nxt = None
            for j in range(last + 1, min(len(tokens), last + 2 + self.gap)):
                if tokens[j].sent != tokens[i].sent:
                    break
                if word.matches(tokens[j]):
                    nxt = j
                    break
            if nxt is None:
                return None
            last = nxt
        return Match(phrase, i, last, tokens[i].start, tokens[last].end)

    def _match_unordered(self, index: int, tokens: Sequence[Token], i: int) -> Match | None:
        """Token i matched the phrase's anchor word; the other words must occur within `window`
        tokens on either side, in the same sentence, each on its own token."""
        phrase, anchor = self.phrases[index], self._anchor[index]
        sent = tokens[i].sent
        used = {i}
        lo = hi = i
        for k, word in enumerate(phrase.words):
            if k == anchor:
                continue
            hit = None
            for j in _around(i, self.window, len(tokens)):
                if tokens[j].sent == sent and j not in used and word.matches(tokens[j]):
                    hit = j
                    break
            if hit is None:
                return None
            used.add(hit)
            lo, hi = min(lo, hit), max(hi, hit)
        return Match(phrase, lo, hi, tokens[lo].start, tokens[hi].end)

    def any_in(self, doc: Doc) -> bool:
        return bool(self.find(doc))


def drop_overlaps(matches: list[Match]) -> list[Match]:
    """Matches sorted by start (longest first), without those that overlap an earlier one."""
    return _drop_overlaps(matches)


def _drop_overlaps(matches: list[Match]) -> list[Match]:
    kept: list[Match] = []
    for m in matches:
        if kept and m.start < kept[-1].end:
            continue
        kept.append(m)
    return kept


def anchor_index(phrase: Phrase) -> int:
    """The word least likely to occur by chance: not a function word, the longest."""
    return _anchor_of(phrase.words)


def _anchor_of(words: tuple[Word, ...]) -> int:
    function_words = grammar("function_words")

    def weight(k: int) -> tuple[bool, int]:
        word = words[k]
        function = word.kind == "lemma" and not word.values.isdisjoint(function_words)
        return (not function, min((len(v) for v in word.values), default=0))

    return max(range(len(words)), key=weight)


def _around(i: int, window: int, n: int) -> list[int]:
    """Token indexes nearest first: i+1, i-1, i+2, i-2 … within `window`."""
    out = []
    for d in range(1, window + 1):
        if i + d < n:
            out.append(i + d)
        if i - d >= 0:
            out.append(i - d)
    return out


_CLAUSE_BREAK = frozenset(",;:—–()")


def is_negated(doc: Doc, match: Match, *, before: int = 3) -> bool:
    """A negation word inside the match, or up to `before` words before it in the same clause.

    «не сможем вернуть» is negated; «если не найдём — вернём» is not: the dash ends the clause.
    """
    tokens = doc.tokens
    negations = grammar("negations")
    # A negation the phrase itself names («без оплаты», «не начислять») is its content.
    own = any(not w.values.isdisjoint(negations) for w in match.phrase.words)
    if not own and any(tokens[j].norm in negations for j in range(match.first, match.last + 1)):
        return True
    return _in_clause_before(doc, match, before, negations)


def in_condition(doc: Doc, match: Match, *, before: int = 4) -> bool:
    """The match sits in a condition clause: «вернём, если не сможем починить» states no
    refusal; «если не подтвердится — вернём» no promise. Looks back to the clause break."""
    return _in_clause_before(doc, match, before, grammar("conditions"))


def _in_clause_before(doc: Doc, match: Match, before: int, words: frozenset[str]) -> bool:
    """One of `words` among the `before` words before the match, in its sentence and clause
    (a comma, dash, colon or bracket ends the look back)."""
    tokens = doc.tokens
    j = match.first - 1
    while j >= 0 and match.first - j <= before:
        gap = doc.text[tokens[j].end : tokens[j + 1].start]
        if tokens[j].sent != tokens[match.first].sent or _CLAUSE_BREAK & set(gap):
            return False
        if tokens[j].norm in words:
            return True
        j -= 1
    return False


def is_negated_after(doc: Doc, match: Match, *, after: int = 8) -> bool:
    """«Вернуть деньги не получится», «Возместить, к сожалению, невозможно»: a negated modal
    soon after the match. Commas may intervene (a parenthetical), dashes and colons may not.
    Only modals count, so «вернём не позднее пятницы» stays a promise."""
    tokens = doc.tokens
    end = min(len(tokens), match.last + 1 + after)
    for j in range(match.last + 1, end):
        gap = doc.text[tokens[j - 1].end : tokens[j].start]
        if (
            tokens[j].sent != tokens[match.first].sent
            or (_CLAUSE_BREAK - {","}) & set(gap)
            or tokens[j].norm
            in grammar("new_clause")  # «вернём, если не сможем починить» still promises
        ):
            return False
        if tokens[j].norm in grammar("negating_predicates"):
            return True
        if (
            tokens[j].norm == "не"
            and j + 1 < end
            and not tokens[j + 1].lemmas.isdisjoint(grammar("modals"))
        ):
            return True
    return False


def find_with_exceptions(doc: Doc, lexicon: Lexicon, exceptions: Lexicon) -> list[Match]:
    """Matches of `lexicon` that do not overlap a match of `exceptions`."""
    hits = lexicon.find(doc)
    if not hits or not exceptions:
        return hits
    blocked = [(m.start, m.end) for m in exceptions.find(doc)]
    return [h for h in hits if not any(s < h.end and h.start < e for s, e in blocked)]
