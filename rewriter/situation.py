"""What the thread says about the customer: the shared analysis behind rules, fixes and prompts.

Computed once per case from customer messages (oldest first; the last one is being answered).
Every flag keeps its evidence — the customer's sentence that raised it — so a violation can say
*why* it fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rewriter.lexicon import find_with_exceptions
from rewriter.morph import is_ty_verb
from rewriter.text import Doc, analyse
from rewriter.vocab import (
    constraint_lexicons,
    situation_exceptions,
    situation_lexicon,
    style_pattern,
    topic_lexicons,
)


@dataclass(frozen=True)
class Register:
    """How the customer writes: what a reply may mirror."""

    uses_ty: bool = False
    uses_vy: bool = False
    informal_greeting: bool = False
    formal_greeting: bool = False
    playful: int = 0  # most emoji + playful smileys in one customer message
    shouting: bool = False  # «!!!», «?!»
    positive: bool = False  # the last customer message is upbeat («Супер, спасибо!»)


@dataclass(frozen=True)
class Situation:
    legal_dispute: str | None = None  # evidence sentence, or None
    angry: str | None = None
    grave: str | None = None
    constraints: dict[str, str] = field(default_factory=dict)  # constraint id -> evidence
    register: Register = Register()
    customer_name: str | None = None
    customer_texts: tuple[str, ...] = ()
    injection: str | None = None  # a customer sentence that tries to instruct the model
    instructing: frozenset[int] = frozenset()  # indexes (in customer_texts) of such messages

    @property
    def serious(self) -> bool:
        """Angry, grave or a legal dispute: no play at all."""
        return bool(self.angry or self.grave or self.legal_dispute)


def _evidence(doc: Doc, offset: int) -> str:
    return doc.sentence_text(doc.sentence_of(offset)).strip()


def _flag(docs: list[Doc], name: str) -> str | None:
    lexicon, exceptions = situation_lexicon(name), situation_exceptions(name)
    for doc in reversed(docs):  # the latest evidence is the most relevant
        hits = find_with_exceptions(doc, lexicon, exceptions)
        if hits:
            return _evidence(doc, hits[0].start)
    return None


def count_playful(text: str) -> int:
    """Emoji (not sad ones) plus playful text smileys."""
    emoji = [
        m
        for m in style_pattern("emoji").finditer(text)
        if not style_pattern("sad_emoji").fullmatch(m.group())
    ]
    return len(emoji) + len(style_pattern("playful_smiley").findall(text))


def _angry(docs: list[Doc]) -> str | None:
    found = _flag(docs, "anger")
    if found:
        return found
    for doc in reversed(docs):
        caps = [m for m in style_pattern("caps_word").finditer(doc.text) if not m.group().isascii()]
        if len(caps) >= 2:
            return _evidence(doc, caps[0].start())
        shout = style_pattern("shouting").search(doc.text)
        if shout and "!!" in shout.group():
            return _evidence(doc, shout.start())
    return None


def _register(docs: list[Doc]) -> Register:
    def any_doc(name: str) -> bool:
        return any(situation_lexicon(name).find(d) for d in docs)

    last = docs[-1] if docs else None
    return Register(
        uses_ty=any_doc("informal_you") or any(is_ty_verb(t.text) for d in docs for t in d.tokens),
        uses_vy=any_doc("formal_you"),
        informal_greeting=any_doc("informal_greeting"),
        formal_greeting=any_doc("formal_greeting"),
        playful=max((count_playful(d.text) for d in docs), default=0),
        shouting=any(style_pattern("shouting").search(d.text) for d in docs),
        positive=bool(last and situation_lexicon("positive").find(last)),
    )


@lru_cache(maxsize=1024)
def analyse_thread(customer_texts: tuple[str, ...], customer_name: str | None = None) -> Situation:
    docs = [analyse(t) for t in customer_texts]
    constraints: dict[str, str] = {}
    for cid, lexicon in constraint_lexicons().items():
        for doc in reversed(docs):
            hits = lexicon.find(doc)
            if hits:
                constraints[cid] = _evidence(doc, hits[0].start)
                break
    lexicon, exceptions = situation_lexicon("injection"), situation_exceptions("injection")
    instructing: dict[int, str] = {}
    for i, d in enumerate(docs):
        hits = find_with_exceptions(d, lexicon, exceptions)
        if hits:
            instructing[i] = _evidence(d, hits[0].start)
    return Situation(
        injection=instructing[max(instructing)] if instructing else None,
        instructing=frozenset(instructing),
        legal_dispute=_flag(docs, "legal_dispute"),
        angry=_angry(docs),
        grave=_flag(docs, "grave"),
        constraints=constraints,
        register=_register(docs),
        customer_name=customer_name,
        customer_texts=customer_texts,
    )


@lru_cache(maxsize=1024)
def thread_topics(customer_texts: tuple[str, ...]) -> frozenset[str]:
    """billing, outage, eta… (lexicons/situation.yaml: topics). Prompts need them, checks don't,
    so they are kept out of `analyse_thread`."""
    docs = [analyse(t) for t in customer_texts]
    return frozenset(
        name for name, lexicon in topic_lexicons().items() if any(lexicon.find(d) for d in docs)
    )
