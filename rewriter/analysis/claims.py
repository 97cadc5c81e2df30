"""What a text states, as claims: a predicate (a status word of an antonym class, or any verb,
short participle or short adjective), its polarity after negation, and what it is about (the
nouns of its clause). «Заявка отклонена» and «заявку не одобрили» are one claim; «заявка
одобрена» is its reversal. Conditions, purposes and questions («если не придёт», «чтобы
разблокировать», «можно ли») assert nothing and are not read; neither are quoted labels
(«Отменить» is a button, not a statement)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rewriter.analysis.clauses import clause_ids
from rewriter.analysis.kinship import concept
from rewriter.analysis.lexicon import Lexicon, grammar
from rewriter.analysis.morph import is_future, is_past, is_we_will, main_lemma, part_of_speech
from rewriter.analysis.text import Doc

# Parts of speech that state something about a subject: finite verbs, infinitives (under a modal),
# short participles («заблокирована»), short adjectives («активен») and predicatives («нужно»).
PREDICATE_POS = frozenset({"VERB", "INFN", "PRTS", "ADJS", "PRED"})
_BREAK_CHARS = frozenset(",;:—–()\n")
_QUOTED = re.compile(r"«[^«»\n]*»|\"[^\"\n]*\"|“[^”\n]*”")
_AFTER_WINDOW = 8  # «вернуть деньги за этот период, к сожалению, не сможем»


@dataclass(frozen=True, slots=True)
class Claim:
    key: str  # "class:<name>" for a status class, "pred:<concept>" for any other predicate
    positive: bool  # after negation and the pole: «не одобрена» is the negative of «одобрить»
    sent: int
    clause: int
    start: int
    end: int
    objects: frozenset[str]  # concepts of the nouns of its clause (or sentence)
    # "past" or "future" for a finite verb of a plain predicate, else "" (status classes and
    # present forms): «курьер ещё не приехал» does not deny «курьер приедет сегодня».
    tense: str = ""


@dataclass(frozen=True)
class ClaimReader:
    """The data a reading needs, compiled once per rule: the antonym classes, one lexicon each
    (every phrase tagged with its class and pole, `positive` or `negative`), and the closed
    word lists."""

    poles: tuple[Lexicon, ...]  # one per class: a word may answer several («приостановлен»)
    stop_predicates: frozenset[str]  # courtesy and auxiliary verbs: no claim about the case
    irrealis: frozenset[str]  # words that make a clause hypothetical: если, чтобы, ли…
    not_negating: frozenset[str]  # «не только», «не позднее»: «не» that negates no predicate
    negating_after: frozenset[str]  # «присылать не нужно»: negated right after, they negate
    restrictive: frozenset[str] = frozenset()  # «только специалист»: true of some, not all
    modal_classes: frozenset[str] = frozenset()  # classes whose words govern an infinitive
    # Classes a company commitment answers yes: «перерасчёт не положен» → «перерасчёт сделаем».
    commitment_classes: frozenset[str] = frozenset()
    pole_keys: frozenset[str] = frozenset()  # every content word of every pole, as Doc keys
    # The union of the pole lexicons' prefilters (None when one looks at every text): a text
    # holding none of it holds no status word, and each class's lexicon is asked only when the
    # text holds a key of its own prefilter.
    pole_filter: frozenset[str] | None = None

    @staticmethod
    def build(
        classes: Mapping[str, Mapping[str, Iterable[str]]],
        *,
        stop_predicates: Iterable[str] = (),
        irrealis: Iterable[str] = (),
        not_negating: Iterable[str] = (),
        negating_after: Iterable[str] = (),
        restrictive: Iterable[str] = (),
        modal_classes: Iterable[str] = (),
        commitment_classes: Iterable[str] = (),
    ) -> ClaimReader:
        lexicons: list[Lexicon] = []
        for name, poles in classes.items():
            phrases: list[dict[str, Any]] = []
            for pole, positive in (("positive", True), ("negative", False)):
                for phrase in poles.get(pole, []) or []:
                    phrases.append({"phrase": phrase, "cls": name, "positive": positive})
            lexicons.append(Lexicon(phrases, gap=1))
        function_words = grammar("function_words")
        pole_keys = frozenset(
            key
            for lexicon in lexicons
            for phrase in lexicon.phrases
            for word in phrase.words
            if word.values.isdisjoint(function_words)
            for key in (word.values if word.kind == "lemma" else {"=" + v for v in word.values})
        )
        filters = [lexicon.prefilter for lexicon in lexicons]
        pole_filter = None if None in filters else frozenset().union(*filters)
        return ClaimReader(
            poles=tuple(lexicons),
            pole_filter=pole_filter,
            stop_predicates=frozenset(stop_predicates),
            irrealis=frozenset(irrealis),
            not_negating=frozenset(not_negating),
            negating_after=frozenset(negating_after),
            restrictive=frozenset(restrictive),
            modal_classes=frozenset("class:" + c for c in modal_classes),
            commitment_classes=frozenset("class:" + c for c in commitment_classes),
            pole_keys=pole_keys,
        )


def quoted_tokens(doc: Doc) -> set[int]:
    """Tokens inside «…» or "…": interface labels and titles, not statements."""
    spans = [m.span() for m in _QUOTED.finditer(doc.text)]
    if not spans:
        return set()
    return {i for i, t in enumerate(doc.tokens) if any(s < t.start < e for s, e in spans)}


@lru_cache(maxsize=100_000)
def _word(text: str) -> tuple[str, str, bool]:
    """(part of speech, concept of the likely lemma, a content noun?) of a word, once per word:
    every reading asks all three of nearly every token."""
    pos = part_of_speech(text)
    if text.isdigit():
        noun = True
    elif text.isascii() and text.isalpha():
        noun = len(text) > 1
    else:
        noun = pos == "NOUN"
    return pos, concept(main_lemma(text)), noun


class _Nouns:
    """The noun concepts of each clause and sentence of a doc, computed once per reading."""

    def __init__(self, doc: Doc, clauses: Sequence[int], skip: set[int]) -> None:
        self.by_clause: dict[int, set[str]] = {}
        self.by_sent: dict[int, set[str]] = {}
        for i, tok in enumerate(doc.tokens):
            _, key, noun = _word(tok.text)
            if not noun or i in skip:
                continue
            self.by_clause.setdefault(clauses[i], set()).add(key)
            self.by_sent.setdefault(tok.sent, set()).add(key)

    def about(self, clause: int, sent: int) -> frozenset[str]:
        """What a predicate is about: the nouns of its clause, or of its sentence when the
        clause names none («продлить его нельзя»: «его» is the sentence's «пробный период»)."""
        return frozenset(self.by_clause.get(clause) or self.by_sent.get(sent) or ())


def _negator(
    doc: Doc, clauses: Sequence[int], first: int, last: int, reader: ClaimReader
) -> int | None:
    """Negation scope of the predicate tokens first..last: a negation up to three words before
    it in its clause («не был одобрен», «никаких блокировок»; «без» only right before a noun),
    «нет» just after a noun («блокировок нет»), or, for an infinitive, a negated modal soon
    after it («продлить его нельзя», «перенести не получилось»). A finite verb is not negated
    by a modal after it: «был подтверждён, поэтому банк не может…» confirms. Returns the
    negation's token index, or None."""
    tokens = doc.tokens
    negations = grammar("negations")
    modals = grammar("modals") | reader.negating_after
    clause = clauses[first]
    reach = 3  # words, not counting auxiliaries: «не должен был так оставлять» is negated
    j = first
    while reach > 0 and j > 0:
        j -= 1
        if clauses[j] != clause:
            break
        norm = tokens[j].norm
        if tokens[j].lemmas.isdisjoint(reader.stop_predicates):
            reach -= 1
        if norm not in negations:
            continue
        if norm == "без" and first - j > 2:
            continue
        if norm in ("не", "ни") and not tokens[j + 1].lemmas.isdisjoint(reader.not_negating):
            continue
        return j
    pos = _word(tokens[first].text)[0]
    if pos not in ("INFN", "NOUN"):
        return None
    n = len(tokens)
    crossed_comma = False
    for j in range(last + 1, min(n, last + 1 + _AFTER_WINDOW)):
        if tokens[j].sent != tokens[first].sent:
            break
        gap = doc.text[tokens[j - 1].end : tokens[j].start]
        if (_BREAK_CHARS - {","}) & set(gap) or tokens[j].norm in grammar("new_clause"):
            break
        crossed_comma = crossed_comma or "," in gap
        norm = tokens[j].norm
        if pos == "NOUN":
            if norm == "нет" and j - last <= 3:
                return j
            continue
        if norm in grammar("negating_predicates"):
            return j
        if norm in ("не", "ни") and j + 1 < n:
            nxt = tokens[j + 1]
            if not nxt.lemmas.isdisjoint(modals):
                return j
            # «вернуть деньги не предусмотрено»: the infinitive under a negated predicate of
            # the same clause («выключить…, тогда деньги не спишутся» is another clause)
            if (
                not crossed_comma
                and nxt.lemmas.isdisjoint(reader.not_negating)
                and _word(nxt.text)[0] in PREDICATE_POS
            ):
                return j
        if _word(tokens[j].text)[0] in PREDICATE_POS:
            return None  # another predicate first: «перейти можно…, платить не нужно»
    return None


def _hypothetical(doc: Doc, clauses: Sequence[int], first: int, reader: ClaimReader) -> bool:
    """A condition, a purpose or a question: «если карта не придёт», «чтобы разблокировать»,
    «можно ли вернуть», «Вы получили код?». A restricted claim («меняет только мастер») is
    skipped too: its negation for someone else («самому поменять не получится») agrees."""
    tokens = doc.tokens
    clause = clauses[first]
    for j in range(first - 1, -1, -1):
        if clauses[j] != clause:
            break
        if tokens[j].norm in reader.irrealis:
            return True
        if tokens[j].norm in reader.restrictive:
            return True
    j = first + 1
    while j < len(tokens) and clauses[j] == clause:
        if tokens[j].norm in ("ли", "бы") or tokens[j].norm in reader.restrictive:
            return True
        j += 1
    return doc.sentence_text(tokens[first].sent).rstrip().endswith("?")


def read_claims(doc: Doc, reader: ClaimReader, wanted: frozenset[str] | None = None) -> list[Claim]:
    """Every asserted claim of `doc`, status classes first, then the other predicates. With
    `wanted`, only claims with those keys (a reply is read for what its draft claims)."""
    tokens = doc.tokens
    if not tokens:
        return []
    clauses = clause_ids(doc)
    quoted = quoted_tokens(doc)
    negators = grammar("negations")
    stop = reader.stop_predicates
    taken: set[int] = set()
    spans: list[tuple[int, int, str, bool]] = []
    # Exact: `find` returns nothing for a text with no key of the lexicon's prefilter.
    present = None if reader.pole_filter is None else doc.keys & reader.pole_filter
    for lexicon in reader.poles:
        if present is not None and present.isdisjoint(lexicon.prefilter or ()):
            continue
        for m in lexicon.find(doc):
            extra = m.phrase.extra or {}
            spans.append((m.first, m.last, "class:" + extra["cls"], bool(extra["positive"])))
            taken.update(range(m.first, m.last + 1))
    commitments = sorted(reader.commitment_classes)
    if wanted is not None:
        commitments = [k for k in commitments if k in wanted]
    for i, tok in enumerate(tokens):
        if i in taken or tok.norm in negators or not tok.lemmas.isdisjoint(stop):
            continue
        pos, lemma_key, _ = _word(tok.text)
        if pos not in PREDICATE_POS:
            continue
        key = "pred:" + lemma_key
        if wanted is None or key in wanted:
            spans.append((i, i, key, True))
        if commitments and is_we_will(tok.text):
            spans.extend((i, i, k, True) for k in commitments)
    read: list[tuple[int, int, str, bool, bool]] = []
    used: set[int] = set()  # negations spent on a pole word («блокировок нет»)
    for first, last, key, pole in spans:
        if first in quoted or _hypothetical(doc, clauses, first, reader):
            continue
        negator = _negator(doc, clauses, first, last, reader)
        if negator is not None and negator > last:
            used.add(negator)
        read.append((first, last, key, pole, negator is not None))
    nouns: _Nouns | None = None  # read only when some claim is kept
    claims: list[Claim] = []
    for first, last, key, pole, negated in read:
        if first in used or (wanted is not None and key not in wanted):
            continue
        if nouns is None:
            nouns = _Nouns(doc, clauses, taken)
        sent = tokens[first].sent
        word = tokens[first].text
        tense = ""
        if key.startswith("pred:"):
            tense = "past" if is_past(word) else "future" if is_future(word) else ""
        claims.append(
            Claim(
                key=key,
                positive=pole != negated,
                sent=sent,
                clause=clauses[first],
                start=tokens[first].start,
                end=tokens[last].end,
                objects=nouns.about(clauses[first], sent),
                tense=tense,
            )
        )
    return claims


def may_reverse(draft: Doc, reply: Doc, reader: ClaimReader) -> bool:
    """A cheap test before reading claims: a reversal needs a negation that one text has and
    the other lacks, a status word of one that the other lacks, or a commitment («сделаем») the
    draft does not make. Most rewrites keep all three, and then nothing needs reading."""
    negations = grammar("negations")
    if sorted(t.norm for t in draft.tokens if t.norm in negations) != sorted(
        t.norm for t in reply.tokens if t.norm in negations
    ):
        return True
    poles = reader.pole_keys
    if (draft.keys & poles) != (reply.keys & poles):
        return True
    if reader.commitment_classes:
        said = draft.keys
        return any("=" + t.norm not in said and is_we_will(t.text) for t in reply.tokens)
    return False


def reversals(
    draft: list[Claim], reply: list[Claim], modal_classes: frozenset[str] = frozenset()
) -> list[tuple[Claim, Claim]]:
    """(draft claim, reply claim) pairs where the reply says the opposite about the same thing:
    the same predicate or class, objects in common, and no claim of the reply about that thing
    keeps the draft's polarity. A draft that itself says both («нельзя вернуть, но можно
    перенести») reverses nothing when the reply takes its other side."""
    out: list[tuple[Claim, Claim]] = []
    for d in draft:
        about = [
            r for r in reply if r.key == d.key and r.objects & d.objects and not _not_yet(d, r)
        ]
        if not about or any(r.positive == d.positive for r in about):
            continue
        if d.key in modal_classes and _confirmed(d, draft, reply):
            continue
        best = max(about, key=lambda r: len(r.objects & d.objects))
        shared = len(best.objects & d.objects)
        if any(
            o is not d
            and o.key == d.key
            and o.positive == best.positive
            and len(o.objects & best.objects) >= shared
            for o in draft
        ):
            continue
        out.append((d, best))
    return out


def _not_yet(a: Claim, b: Claim) -> bool:
    """One says it has not happened, the other that it will: «курьер так и не приехал» and
    «курьер приедет сегодня» are both true at once — no reversal. (That it happened and that it
    will not, «доставили» / «не доставят», still are.)"""
    return {(a.tense, a.positive), (b.tense, b.positive)} == {("past", False), ("future", True)}


def _confirmed(d: Claim, draft: list[Claim], reply: list[Claim]) -> bool:
    """The verb a modal claim governs keeps its polarity in the reply about the same thing:
    «пакет нельзя вскрывать» → «Да, можно: … не вскрывайте пакет» reverses no «нельзя», the
    «можно» is about something else."""
    for g in draft:
        if (
            g is d
            or not g.key.startswith("pred:")
            or g.sent != d.sent
            or g.clause != d.clause
            or g.positive != d.positive
        ):
            continue
        if any(
            r.key == g.key and r.positive == g.positive and r.objects & g.objects for r in reply
        ):
            return True
    return False
