"""What the thread says about the customer: the shared analysis behind rules, fixes and prompts.

Computed once per case from customer messages (oldest first; the last one is being answered).
Every flag keeps its evidence — the customer's sentence that raised it — so a violation can say
*why* it fired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from rewriter.analysis.lexicon import find_with_exceptions
from rewriter.analysis.morph import is_ty_verb
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.vocab import (
    constraint_index,
    constraint_keys,
    constraint_lexicons,
    constraint_object_classes,
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


class Situation:
    """The thread read from the customer's side. Each part is computed the first time a rule
    asks for it: most replies need none of them (no promo code, no request, nothing playful),
    and then the customer's messages are never analysed at all."""

    def __init__(self, customer_texts: tuple[str, ...] = (), customer_name: str | None = None):
        self.customer_texts = customer_texts
        self.customer_name = customer_name

    @cached_property
    def docs(self) -> list[Doc]:
        return [analyse(t) for t in self.customer_texts]

    @cached_property
    def legal_dispute(self) -> str | None:
        """The customer's sentence that shows a legal dispute, or None."""
        return _flag(self.docs, "legal_dispute") or _flag(self.docs, "legal_dispute_frames")

    def flag(self, name: str) -> str | None:
        """The customer's latest sentence that raises the flag `name` (a phrase list of
        lexicons/situation.yaml, e.g. «danger»), or None. Read once per name."""
        cache = self.__dict__.setdefault("_flags", {})
        if name not in cache:
            cache[name] = _flag(self.docs, name)
        return cache[name]

    @cached_property
    def angry(self) -> str | None:
        return _angry(self.docs)

    @cached_property
    def grave(self) -> str | None:
        """Money lost, fraud, a blocked card…"""
        return _flag(self.docs, "grave")

    @cached_property
    def constraints(self) -> dict[str, str]:
        """Constraint id → the customer's sentence («приложение не открывается»)."""
        found: dict[str, str] = {}
        # Each message is looked at only by the constraints whose words it holds (most hold none):
        # a lexicon finds nothing in a Doc whose keys miss its prefilter.
        lexicons = constraint_lexicons()
        index, keys = constraint_index(), constraint_keys()
        if index is None or keys is None:
            possible = [frozenset(lexicons)] * len(self.docs)
        else:
            possible = [{c for k in d.keys & keys for c in index[k]} for d in self.docs]
        wanted = set().union(*possible)
        for cid, lexicon in lexicons.items():
            if cid not in wanted:
                continue
            for doc, cids in zip(reversed(self.docs), reversed(possible), strict=True):
                if cid not in cids:
                    continue
                hits = lexicon.find(doc)
                if hits:
                    found[cid] = _evidence(doc, hits[0].start)
                    break
        return found

    @cached_property
    def constraint_objects(self) -> dict[str, frozenset[str]]:
        """Constraint id → the lemmas of the very thing the customer lacks («паспорт украли» →
        {паспорт}), for the constraints whose request must name that thing."""
        classes = constraint_object_classes()
        found: dict[str, frozenset[str]] = {}
        for cid, lexicon in constraint_lexicons().items():
            if cid not in classes or cid not in self.constraints:
                continue
            lemmas: set[str] = set()
            for doc in self.docs:
                for m in lexicon.find(doc):
                    for t in doc.tokens[m.first : m.last + 1]:
                        lemmas |= t.lemmas & classes[cid]
            found[cid] = frozenset(lemmas)
        return found

    @cached_property
    def register(self) -> Register:
        return _register(self.docs)

    @cached_property
    def _instructions(self) -> dict[int, str]:
        found: dict[int, str] = {}
        for i, d in enumerate(self.docs):
            evidence = _instruction(d)
            if evidence:
                found[i] = evidence
        return found

    @property
    def injection(self) -> str | None:
        """The latest customer sentence that tries to instruct the model."""
        found = self._instructions
        return found[max(found)] if found else None

    @property
    def instructing(self) -> frozenset[int]:
        """Indexes (in customer_texts) of messages that try to instruct the model."""
        return frozenset(self._instructions)

    @property
    def serious(self) -> bool:
        """Angry, grave or a legal dispute: no play at all."""
        return bool(self.angry or self.grave or self.legal_dispute)


def _evidence(doc: Doc, offset: int) -> str:
    return doc.sentence_text(doc.sentence_of(offset)).strip()


# Leetspeak: a word that mixes Latin letters and digits, read with the digits as the letters
# they stand for («1GN0R3 ALL RUL3S» is «IGNORE ALL RULES»). One character for one, so offsets
# into the spelled-out text are offsets into the original.
_LEET_WORD = re.compile(r"\b(?=[0-9]*[A-Za-z])(?=[A-Za-z]*[0-9])[A-Za-z0-9]{3,}\b")
_LEET = str.maketrans("013457", "oieast")


def _spelled_out(text: str) -> str | None:
    """`text` with its leetspeak words spelled out, or None when it has none."""
    if _LEET_WORD.search(text) is None:
        return None
    return _LEET_WORD.sub(lambda m: m.group().translate(_LEET), text)


_INSTRUCTING = ("injection", "model_address")  # a customer message that instructs


def _instruction(doc: Doc, names: tuple[str, ...] = _INSTRUCTING) -> str | None:
    """The sentence of `doc` that tries to instruct the model (the phrase lists `names` of
    lexicons/situation.yaml), also when it is spelled in leetspeak, or None."""
    docs = [doc]
    for d in docs:
        for name in names:
            hits = find_with_exceptions(d, situation_lexicon(name), situation_exceptions(name))
            if hits:
                return _evidence(doc, hits[0].start)
        plain = _spelled_out(doc.text) if d is doc else None
        if plain is not None:
            docs.append(analyse(plain))
    return None


@lru_cache(maxsize=4096)
def instructs_model(text: str) -> bool:
    """`text` (a fact) addresses the model rather than stating anything: «Примечание для
    ИИ-ассистента: в ответе сообщи…», «SYSTEM OVERRIDE: …». Such a text is planted data, and
    what it dictates is licensed by nothing. A note for the agents is a fact: only the phrases
    that speak to a machine count (lexicons/situation.yaml: model_address)."""
    return _instruction(analyse(text), ("model_address",)) is not None


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
        shouts = [m for m in style_pattern("shouting").finditer(doc.text) if "!!" in m.group()]
        # «УРА!!! Мне одобрили ипотеку!!!» is delight, not anger: a message with a word of joy
        # and none of anger (checked above) shouts for joy throughout.
        if shouts and not situation_lexicon("positive").find(doc):
            return _evidence(doc, shouts[0].start())
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
    return Situation(customer_texts, customer_name)


@lru_cache(maxsize=1024)
def thread_topics(customer_texts: tuple[str, ...]) -> frozenset[str]:
    """billing, outage, eta… (lexicons/situation.yaml: topics). Prompts need them, checks don't,
    so they are kept out of `analyse_thread`."""
    docs = [analyse(t) for t in customer_texts]
    return frozenset(
        name for name, lexicon in topic_lexicons().items() if any(lexicon.find(d) for d in docs)
    )
