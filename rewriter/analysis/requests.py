"""Requests to the reader: which sentences, segments and verbs ask the customer to do something.

One reading shared by every rule that cares whether the reply *asks* («пришлите», «нужно
прислать», «не могли бы вы прислать», «продиктуете?») rather than *mentions* («никому не
сообщайте код», «код мы не запрашиваем»). A verb asks when it is:
- an imperative (every parse says so, or it opens its sentence and some parse does);
- a «вы»-future («пришлёте нам фото?»);
- an infinitive after a request cue of its segment («нужно», «можете», «просим», «не могли бы»).
It does not ask when a negation stands just before it or before its cue («не нужно присылать»).
"""

from __future__ import annotations

from rewriter.analysis.clauses import segments
from rewriter.analysis.lexicon import Lexicon, Match, grammar, is_negated
from rewriter.analysis.morph import (
    is_gerund,
    is_imperative,
    is_infinitive,
    is_second_future,
    is_verb,
    may_be_imperative,
)
from rewriter.analysis.text import Doc

_CLAUSE_BREAK = frozenset(",;:—–()")
CUE_REACH = 4  # an infinitive this many words after its cue is still governed by it


def _negated_before(doc: Doc, i: int, reach: int = 2) -> bool:
    toks, negations = doc.tokens, grammar("negations")
    for j in range(i - 1, max(-1, i - 1 - reach), -1):
        if toks[j].sent != toks[i].sent or _CLAUSE_BREAK & set(
            doc.text[toks[j].end : toks[j + 1].start]
        ):
            return False
        if toks[j].norm in negations or toks[j].norm in grammar("request_negators"):
            return True
    return False


def _opens(doc: Doc, i: int) -> bool:
    toks = doc.tokens
    return i == 0 or toks[i - 1].sent != toks[i].sent


def imperative_at(doc: Doc, i: int) -> bool:
    """Token i is an imperative addressed to the reader. «Приходите в отделение» is a request
    though «вы приходите» reads the same: with no «вы» (or «не») right before a «-те» form, the
    imperative reading wins, wherever it stands («Чтобы войти, введите код»). A form without
    «-те» that only may be imperative asks nothing of the reader («Отправим» is «let us»)."""
    t = doc.tokens[i]
    if is_imperative(t.text):
        return True
    if not t.norm.endswith("те"):
        return False
    subject = not _opens(doc, i) and doc.tokens[i - 1].norm in ("вы", "не")
    return not subject and may_be_imperative(t.text)


def _cue_hits(doc: Doc, cues: Lexicon) -> list[Match]:
    """Cues not negated («не нужно»). A cue may hold its own «не» («не могли бы»): then only a
    negation before it counts."""
    toks, negations = doc.tokens, grammar("negations")
    out = []
    for m in cues.find(doc):
        if any(toks[j].norm in negations for j in range(m.first, m.last + 1)):
            j = m.first - 1
            gap = doc.text[toks[j].end : toks[m.first].start] if j >= 0 else ""
            if (
                j >= 0
                and toks[j].sent == toks[m.first].sent
                and toks[j].norm in negations
                and not (_CLAUSE_BREAK & set(gap))
            ):
                continue
            out.append(m)
        elif not is_negated(doc, m, before=1):
            out.append(m)
    return out


def request_sentences(doc: Doc, cues: Lexicon) -> set[int]:
    """Sentences that ask the customer to do something: a request cue or an imperative verb, not
    negated («роутер перезагружать не нужно» asks for nothing)."""
    sents = {doc.tokens[m.first].sent for m in _cue_hits(doc, cues)}
    toks = doc.tokens
    for i, t in enumerate(toks):
        if imperative_at(doc, i) and not (not _opens(doc, i) and toks[i - 1].norm == "не"):
            sents.add(t.sent)
    return sents


def asking_segments(doc: Doc, cues: Lexicon) -> set[int]:
    """Segments (analysis/clauses.py) with a request of any kind: an imperative not negated, or a
    cue not negated."""
    segs = segments(doc)
    found = {segs[m.first] for m in _cue_hits(doc, cues)}
    for i in range(len(doc.tokens)):
        if segs[i] not in found and imperative_at(doc, i) and not _negated_before(doc, i):
            found.add(segs[i])
    return found


def requested_verbs(
    doc: Doc, verbs: Lexicon, cues: Lexicon, *, any_form: bool = False
) -> list[Match]:
    """Matches of `verbs` that ask the reader to do them (see the module docstring). With
    `any_form`, every form not negated counts («нам понадобится…», «нужен ваш…»). A gerund
    in a segment that asks is part of the request («подтвердите, назвав код»)."""
    matches = verbs.find(doc)
    if not matches:
        return []
    segs = segments(doc)
    toks = doc.tokens
    cue_ends: list[tuple[int, int]] | None = None
    asking: set[int] | None = None
    out = []
    for m in matches:
        i = m.first
        if _negated_before(doc, i):
            continue
        word = toks[i].text
        if any_form or imperative_at(doc, i) or is_second_future(word):
            out.append(m)
            continue
        if is_gerund(word):
            if asking is None:
                asking = asking_segments(doc, cues)
            if segs[i] in asking:
                out.append(m)
            continue
        if not is_infinitive(word):
            continue
        if cue_ends is None:
            cue_ends = [(c.last, segs[c.first]) for c in _cue_hits(doc, cues)]
        if any(seg == segs[i] and 0 < i - last <= CUE_REACH for last, seg in cue_ends):
            out.append(m)
    return out


_SUBORDINATORS = frozenset({"если", "когда", "чтобы", "пока", "хотя", "потому", "поскольку", "раз"})


def verb_between(doc: Doc, a: int, b: int) -> bool:
    """A verb form or a subordinate clause stands strictly between tokens a and b: what lies past
    it belongs to that verb («пришлите скриншот, только закройте на нём номер карты»; «напишите
    нам, если код не придёт»)."""
    lo, hi = min(a, b), max(a, b)
    return any(
        doc.tokens[j].norm in _SUBORDINATORS or is_verb(doc.tokens[j].text)
        for j in range(lo + 1, hi)
    )
