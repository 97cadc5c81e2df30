"""What a golden case's rewrite must keep: the draft's substance, as the golden reply keeps it.

A rule can only ask that numbers, links and dates survive (lost-fact). A model that answers
every case with one polite canned sentence keeps no fact only where the draft has one; for the
rest of the golden set it would pass. The eval has more to go on than a rule: the golden
reply, correct by definition. The content words the golden reply keeps from the draft —
nouns, verbs, adjectives, participles, by lemma, leaving out canned phrases and greetings the
rewrite is meant to drop — are the substance any good rewrite of that draft carries too
(«бригада», «линия», «срок» for «Бригада работает на линии, сроки восстановления неизвестны»).

The golden reply keeps all of its anchors by construction; a rewrite must keep at least
`MIN_KEPT` of them. A draft whose golden reply keeps none of its words (the reply is built
from the facts instead) asks nothing here.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache

from rewriter.analysis.lexicon import grammar
from rewriter.analysis.morph import analyzer
from rewriter.analysis.text import Doc, Token, analyse
from rewriter.analysis.units import CONTENT_POS
from rewriter.analysis.vocab import situation_lexicon
from rewriter.guard.engine import violations_for
from rewriter.models import Case

MIN_KEPT = 0.5  # share of the anchors a rewrite keeps: synonyms may replace the rest

# Parts of speech that carry what a sentence says: the content units' own set (pymorphy3 tags),
# less adverbs and predicatives. A unit of lost-substance may hinge on «срочно»; an anchor here
# must name the matter, and «сейчас», «уже», «можно» survive any canned reply. Numerals (facts,
# judged by lost-fact), pronouns and particles are in neither set.
_CONTENT_POS = CONTENT_POS - {"ADVB", "PRED"}
_NOT_CONTENT = frozenset({"Apro", "Anum", "Name", "Surn", "Patr"})  # «ваш», «пятый», names


@lru_cache(maxsize=20_000)
def _is_content(word: str) -> bool:
    if not word.isalpha() or len(word) < 3:
        return False
    tag = analyzer().parse(word.lower())[0].tag
    return tag.POS in _CONTENT_POS and not any(g in tag for g in _NOT_CONTENT)


def _dropped_spans(case: Case, doc: Doc) -> list[tuple[int, int]]:
    """Where the draft says nothing a rewrite must keep: greetings and canned phrases."""
    spans = [
        (m.start, m.end)
        for name in ("formal_greeting", "informal_greeting")
        for m in situation_lexicon(name).find(doc)
    ]
    lint = Case(thread=case.thread, reply=doc.text)  # no draft: only the style rules apply
    spans += [
        tuple(v.span)
        for v in violations_for(lint, doc.text)
        if v.rule == "template-phrase" and v.span
    ]
    return spans


@cache
def _function_lemmas() -> frozenset[str]:
    """Lemmas that carry grammar, not substance (grammar.yaml), united once per process."""
    names = ("function_words", "negations", "modals", "auxiliaries")
    return frozenset().union(*(grammar(name) for name in names))


def content_tokens(case: Case, text: str) -> list[Token]:
    """The content words of `text`, outside its greetings and canned phrases."""
    doc = analyse(text)
    dropped = _dropped_spans(case, doc)
    function = _function_lemmas()
    return [
        t
        for t in doc.tokens
        if _is_content(t.text)
        and t.lemmas.isdisjoint(function)
        and not any(s <= t.start < e for s, e in dropped)
    ]


def anchors(case: Case, golden: str | None) -> list[Token]:
    """The draft's content words the golden reply keeps (one per lemma set, in draft order)."""
    if not golden or not case.draft:
        return []
    golden_lemmas = frozenset().union(*(t.lemmas for t in analyse(golden).tokens))
    seen: set[frozenset[str]] = set()
    out = []
    for t in content_tokens(case, case.draft):
        if not t.lemmas.isdisjoint(golden_lemmas) and t.lemmas not in seen:
            seen.add(t.lemmas)
            out.append(t)
    return out


def missing(wanted: list[Token], text: str) -> list[Token]:
    """The anchors `text` does not carry in any inflection."""
    have = frozenset().union(*(t.lemmas for t in analyse(text).tokens))
    return [t for t in wanted if t.lemmas.isdisjoint(have)]


def kept_enough(wanted: list[Token], lost: list[Token]) -> bool:
    return len(wanted) - len(lost) >= math.ceil(MIN_KEPT * len(wanted))


def content_key(case: Case, text: str) -> frozenset[frozenset[str]]:
    """What a text says, as its set of content lemma sets: two drafts with the same key say the
    same thing (and may get the same rewrite)."""
    return frozenset(t.lemmas for t in content_tokens(case, text))
