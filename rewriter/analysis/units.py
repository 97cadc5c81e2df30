"""The content units of a draft: what happened, what the customer must do, on what condition,
and what to beware of — each with the content words that carry it. A rewrite keeps a unit when
enough of those words (or their synonyms, or the same word with another prefix) appear
anywhere in it, so a reply may reorder and shorten freely but may not leave a point out.
Greetings, thanks, apologies and sign-offs are no units."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from rewriter.analysis.clauses import clause_ids
from rewriter.analysis.kinship import KinIndex
from rewriter.analysis.lexicon import Lexicon
from rewriter.analysis.morph import (
    first_person_plural,
    is_imperative,
    is_infinitive,
    is_name,
    part_of_speech,
)
from rewriter.analysis.text import Doc, Token

_DIGITS = re.compile(r"\d+")
CONTENT_POS = frozenset(
    {"NOUN", "VERB", "INFN", "PRTF", "PRTS", "ADJF", "ADJS", "GRND", "ADVB", "PRED"}
)


@dataclass(frozen=True, slots=True)
class Unit:
    kind: str  # "event" | "action" | "condition" | "warning"
    sent: int
    keys: tuple[frozenset[str], ...]  # per content word: its lemmas
    words: tuple[str, ...]  # the same words as written, for reports
    numbers: tuple[str, ...] = ()  # digit runs: kept ones count for the unit, lost ones don't
    # The lemmas of the unit's imperatives («загрузите»): the step the customer must take. A
    # reply keeps such a unit only as a step too — the verb, or the unit's words in a sentence
    # that asks the customer to act — not by its topic words in «мы уже разбираемся».
    steps: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class UnitReader:
    """The data a reading needs, compiled once per rule."""

    courtesy: Lexicon  # greetings, thanks, apologies, sign-offs, offers of help
    clarifying: Lexicon  # «уточните, какой перевод»: a question the reply may answer instead
    conditions: Lexicon  # «если», «при условии», «только»: a condition is a unit of its own
    warnings: Lexicon  # «никому», «не сообщайте», «осторожно», «учтите»
    actions: Lexicon  # «нужно», «необходимо», «следует», «просим»
    stop: frozenset[str]  # lemmas that carry no content of their own
    contrasts: Lexicon = field(default_factory=lambda: Lexicon([]))  # «но», «иначе», «дальше»
    courtesy_min: int = 3  # a sentence with a courtesy phrase is a unit only with this many keys
    min_keys: int = 2  # «Проверяем.» is a holding phrase, not a point a reply must keep


@lru_cache(maxsize=100_000)
def _word_key(text: str, norm: str, lemmas: frozenset[str]) -> frozenset[str] | None:
    """The lemmas a content word is looked up by, or None for a word that carries no content
    of its own: a number (lost-fact's to guard, and a rewrite may spell it out), a function
    word, a name (the customer's, in a greeting). Stop words are the reader's to remove."""
    if text.isdigit():
        return None
    if text.isascii():
        return frozenset({norm}) if len(text) > 1 and text.isalpha() else None
    if len(norm) < 3 or part_of_speech(text) not in CONTENT_POS:
        return None
    if text[:1].isupper() and is_name(text):
        return None
    return lemmas - {norm} or lemmas


def _content_key(tok: Token, stop: frozenset[str]) -> frozenset[str] | None:
    key = _word_key(tok.text, tok.norm, tok.lemmas)
    return (
        None if key is None or not key.isdisjoint(stop) or not tok.lemmas.isdisjoint(stop) else key
    )


def _covered(matches: Iterable) -> set[int]:
    out: set[int] = set()
    for m in matches:
        out.update(range(m.first, m.last + 1))
    return out


def _has_imperative(tokens: Sequence[Token], idx: list[int]) -> bool:
    """Some word of the sentence asks the reader to act. Asked only of a sentence that makes a
    unit (most have too few content words)."""
    return any(is_imperative(tokens[i].text) for i in idx)


def content_units(doc: Doc, reader: UnitReader, known: frozenset[str] = frozenset()) -> list[Unit]:
    """The units of `doc`, sentence by sentence; a condition clause is split off its sentence.
    Words of `known` (lemmas the customer used) are context, not the draft's point: a reply may
    leave «выписка» out when the customer asked for the statement. Questions to the customer are
    no units: a reply may answer them from the facts instead of asking."""
    tokens = doc.tokens
    if not tokens:
        return []
    clauses = clause_ids(doc)
    courtesy_matches = reader.courtesy.find(doc)
    courtesy = _covered(courtesy_matches)
    courtesy_sents = {tokens[m.first].sent for m in courtesy_matches}
    asking = {tokens[m.first].sent for m in reader.clarifying.find(doc)}
    asking.update(
        i for i in range(len(doc.sentences)) if doc.sentence_text(i).rstrip().endswith("?")
    )
    warn_sents = {tokens[m.first].sent for m in reader.warnings.find(doc)}
    action_sents = {tokens[m.first].sent for m in reader.actions.find(doc)}
    cond_tokens: dict[int, int] = {}  # token → the marker that opens its clause part
    marks = [(m.first, "condition") for m in reader.conditions.find(doc)]
    marks += [(m.first, "contrast") for m in reader.contrasts.find(doc)]
    kinds_at: dict[int, str] = {}
    for first, what in sorted(marks):
        kinds_at.setdefault(first, what)
        j = first
        while j < len(tokens) and clauses[j] == clauses[first]:
            cond_tokens.setdefault(j, first)
            j += 1
    units: list[Unit] = []
    drafts: list[
        tuple[
            str, int, list[tuple[int, frozenset[str]]], tuple[str, ...], tuple[frozenset[str], ...]
        ]
    ] = []
    by_sent: dict[int, list[int]] = {}
    for i, t in enumerate(tokens):
        if i not in courtesy:
            by_sent.setdefault(t.sent, []).append(i)
    for sent, idx in by_sent.items():
        if sent in asking:
            continue
        parts: dict[int, list[int]] = {}
        for i in idx:
            parts.setdefault(cond_tokens.get(i, -1), []).append(i)
        for marker, members in sorted(parts.items()):
            keyed = [(i, _content_key(tokens[i], reader.stop)) for i in members]
            keys = [(i, k) for i, k in keyed if k and k.isdisjoint(known)]
            if len(keys) < reader.min_keys:
                continue
            if sent in courtesy_sents and len(keys) < reader.courtesy_min:
                continue
            if marker >= 0 and kinds_at[marker] == "condition":
                kind = "condition"
            elif sent in warn_sents:
                kind = "warning"
            elif sent in action_sents or _has_imperative(tokens, idx):
                kind = "action"
            else:
                kind = "event"
            # A word of letters alone holds no digit: only the others are searched.
            numbers = tuple(
                n
                for i in members
                if not tokens[i].text.isalpha()
                for n in _DIGITS.findall(tokens[i].text)
            )
            steps = (
                tuple(tokens[i].lemmas for i in members if is_imperative(tokens[i].text))
                if kind == "action"
                else ()
            )
            drafts.append((kind, sent, keys, numbers, steps))
    # A word several units share names the topic («посылка»), not the point of any one of them:
    # a unit is judged by its own words when it has enough of them.
    # A lone unit has no others to share words with: no index to build (its own words are all
    # of its words).
    indexes = (
        [KinIndex(lemma for _, k in ks for lemma in k) for _, _, ks, _, _ in drafts]
        if len(drafts) > 1
        else []
    )
    for n, (kind, sent, keys, numbers, steps) in enumerate(drafts):
        chosen = keys
        if indexes:
            others = [index for m, index in enumerate(indexes) if m != n]
            own = [(i, k) for i, k in keys if not any(o.has_kin(a) for o in others for a in k)]
            if len(own) >= reader.min_keys:
                chosen = own
        units.append(
            Unit(
                kind=kind,
                sent=sent,
                keys=tuple(k for _, k in chosen),
                words=tuple(tokens[i].text for i, _ in chosen),
                numbers=numbers,
                steps=steps,
            )
        )
    return units


class ReplyWords:
    """What a reply says, for asking whether a unit's word is in it: every lemma (as a
    KinIndex, so synonyms and related words count) and every run of digits («8-800-301» keeps
    «800»)."""

    def __init__(self, doc: Doc, actions: Lexicon | None = None) -> None:
        self.lemmas = doc.keys  # every lemma, and every form as «=form»
        self.digits = frozenset(_DIGITS.findall(doc.text))
        self._doc = doc
        self._actions = actions

    @cached_property
    def acting(self) -> frozenset[str]:
        """The lemmas of the sentences that ask the customer to act or tell them what they can
        do: an imperative, a word of `actions` («нужно», «необходимо»), or an infinitive in a
        sentence where the company is not the one acting («тариф можно сменить в приложении»,
        not «мы начали разбираться»)."""
        doc = self._doc
        sents = {t.sent for t in doc.tokens if is_imperative(t.text)}
        ours = {t.sent for t in doc.tokens if t.norm == "мы" or first_person_plural(t.text)}
        sents |= {t.sent for t in doc.tokens if t.sent not in ours and is_infinitive(t.text)}
        if self._actions is not None:
            sents |= {doc.tokens[m.first].sent for m in self._actions.find(doc)}
        return frozenset(lemma for t in doc.tokens if t.sent in sents for lemma in t.lemmas)

    @cached_property
    def kin(self) -> KinIndex:  # built only when a word is not in the reply as it is
        return KinIndex(k for k in self.lemmas if not k.startswith("="))


def found(key: frozenset[str], reply: ReplyWords) -> bool:
    """A unit word is in the reply: one of its lemmas, a synonym or a related word."""
    return not key.isdisjoint(reply.lemmas) or any(map(reply.kin.has_kin, key))


def kept_as_step(unit: Unit, reply: ReplyWords) -> bool:
    """A customer's step of the draft is still a step in the reply: its verb is there (or a
    synonym or relative of it: «загрузите» ~ «загрузка»), or one of its words stands in a
    sentence that asks the customer to act («добавьте декларацию», «декларацию нужно…»)."""
    if not unit.steps or any(found(step, reply) for step in unit.steps):
        return True
    return any(not key.isdisjoint(reply.acting) for key in unit.keys)


def kept(unit: Unit, lemmas: ReplyWords, share: float) -> bool:
    """Enough of the unit's words are in the reply: `share` of them (rounded half up), and at
    least one. A number of the unit the reply keeps («с 15:00 до 18:00») counts as a kept word;
    a number it drops is lost-fact's finding, not this one's. A customer's step must stay a
    step (kept_as_step)."""
    if not kept_as_step(unit, lemmas):
        return False
    kept_numbers = sum(1 for n in unit.numbers if n in lemmas.digits)
    need = max(1, math.floor(share * (len(unit.keys) + kept_numbers) + 0.5))
    hits = kept_numbers
    if hits >= need:
        return True
    for key in unit.keys:
        if found(key, lemmas):
            hits += 1
            if hits >= need:
                return True
    return False
