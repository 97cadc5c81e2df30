"""Two check kinds that compare a rewrite with the draft it rewrites, by meaning rather than by
numbers: `contradiction` (the reply states the opposite of a draft claim) and `coverage` (a
content unit of the draft is missing from the reply). Both read only when a draft is given and
the reply differs from it, and both leave a reply in another script to the language rule."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, Field

from rewriter.analysis.claims import ClaimReader, may_reverse, read_claims, reversals
from rewriter.analysis.lexicon import Lexicon
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.units import ReplyWords, UnitReader, content_units, kept
from rewriter.analysis.vocab import lexicon_from, raw
from rewriter.guard.context import Context, MessageFields, Params, clip, compiled, removed_sentences
from rewriter.guard.rules import Rule, rules_by_id
from rewriter.models import Violation


class ContradictionParams(Params):
    antonyms: str = "antonyms"  # a file of guardrails/lexicons/ with `classes`
    stop_predicates: list[str] = Field(default_factory=list)
    irrealis: list[str] = Field(default_factory=list)
    not_negating: list[str] = Field(default_factory=list)
    negating_after: list[str] = Field(default_factory=list)
    restrictive: list[str] = Field(default_factory=list)
    modal_classes: list[str] = Field(default_factory=list)
    commitment_classes: list[str] = Field(default_factory=list)


class CoverageParams(Params):
    courtesy: list[str] = Field(default_factory=list)
    # Rules whose `lexicon` is courtesy too (template-phrase: «ваша заявка принята в работу»).
    courtesy_from: list[str] = Field(default_factory=list)
    clarifying: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    contrasts: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    stop: list[str] = Field(default_factory=list)
    share: float = Field(0.4, gt=0, le=1)
    courtesy_min: int = 3
    min_keys: int = 2
    # Sentences these rules remove from the draft are meant to go (a promo code to a customer
    # who is suing): their units need not be kept.
    except_removed_by: list[str] = Field(default_factory=list)
    kinds: dict[str, str] = Field(default_factory=dict)  # unit kind → what the message calls it


PARAMS_SCHEMAS: dict[str, type[BaseModel]] = {
    "contradiction": ContradictionParams,
    "coverage": CoverageParams,
}

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _russian(text: str) -> bool:
    """Mostly Cyrillic letters: English UI labels inside a Russian reply still count as Russian.
    Cached: both kinds ask it of the same draft and reply."""
    if not _LATIN.search(text):
        return _CYRILLIC.search(text) is not None
    cyr = len(_CYRILLIC.findall(text))
    return cyr > 0 and cyr >= 2 * len(_LATIN.findall(text))


def _draft_doc(ctx: Context) -> Doc | None:
    if not ctx.compares_to_draft:
        return None
    draft = ctx.case.draft or ""
    if not (_russian(draft) and _russian(ctx.text)):
        return None
    return analyse(draft)


_QUOTE = 160  # these kinds quote a whole draft sentence: a longer clip than the other kinds' 120


def _evidence(doc: Doc, sent: int) -> str:
    quote = clip(doc.sentence_text(sent), _QUOTE)
    return raw("evidence")["lost_from_draft"].format(quote=quote)


# --- contradiction -------------------------------------------------------------------------------


def _claim_reader(rule: Rule) -> ClaimReader:
    def build() -> ClaimReader:
        p = ContradictionParams.model_validate(rule.params)
        return ClaimReader.build(
            raw(p.antonyms).get("classes", {}),
            stop_predicates=p.stop_predicates,
            irrealis=p.irrealis,
            not_negating=p.not_negating,
            negating_after=p.negating_after,
            restrictive=p.restrictive,
            modal_classes=p.modal_classes,
            commitment_classes=p.commitment_classes,
        )

    return compiled(rule, "claims", build)


def check_contradiction(rule: Rule, ctx: Context) -> list[Violation]:
    draft_doc = _draft_doc(ctx)
    if draft_doc is None:
        return []
    reader = _claim_reader(rule)
    if not may_reverse(draft_doc, ctx.doc, reader):
        return []
    draft_claims = read_claims(draft_doc, reader)
    if not draft_claims:
        return []
    out: list[Violation] = []
    seen: set[int] = set()
    wanted = frozenset(c.key for c in draft_claims)
    reply_claims = read_claims(ctx.doc, reader, wanted)
    for d, r in reversals(draft_claims, reply_claims, reader.modal_classes):
        if r.start in seen:
            continue
        seen.add(r.start)
        quote = clip(draft_doc.sentence_text(d.sent), _QUOTE)
        text = ctx.text[r.start : r.end]
        message = rule.message.format_map(MessageFields(text=text, quote=quote)).strip()
        out.append(
            Violation(
                rule=rule.id,
                severity=rule.severity,
                message=message,
                span=(r.start, r.end),
                text=text,
                evidence=_evidence(draft_doc, d.sent),
            )
        )
    return out


# --- coverage ------------------------------------------------------------------------------------


def _unit_reader(rule: Rule) -> UnitReader:
    def build() -> UnitReader:
        p = CoverageParams.model_validate(rule.params)
        courtesy: list[str | dict] = list(p.courtesy)
        for rid in p.courtesy_from:
            spec = rules_by_id()[rid].params.get("lexicon") or []
            courtesy += spec.get("phrases", []) if isinstance(spec, dict) else spec
        return UnitReader(
            courtesy=Lexicon(courtesy, gap=2),
            clarifying=Lexicon(p.clarifying, gap=2),  # «уточните, пожалуйста, с какой…»
            conditions=lexicon_from(p.conditions),
            contrasts=lexicon_from(p.contrasts),
            warnings=lexicon_from(p.warnings, default_gap=2),
            actions=lexicon_from(p.actions),
            stop=frozenset(w.replace("ё", "е") for w in p.stop),
            courtesy_min=p.courtesy_min,
            min_keys=p.min_keys,
        )

    return compiled(rule, "units", build)


@lru_cache(maxsize=1024)
def _customer_lemmas(texts: tuple[str, ...]) -> frozenset[str]:
    """The lemmas the customer used (of three letters or more): context, not the draft's point.
    Cached by the thread: every rewrite of one case is compared against the same messages."""
    return frozenset(
        lemma for t in texts for tok in analyse(t).tokens for lemma in tok.lemmas if len(lemma) > 2
    )


def check_coverage(rule: Rule, ctx: Context) -> list[Violation]:
    draft_doc = _draft_doc(ctx)
    if draft_doc is None:
        return []
    reply_keys = ctx.doc.keys
    reader = _unit_reader(rule)
    if all(
        not t.lemmas.isdisjoint(reply_keys) or not t.lemmas.isdisjoint(reader.stop)
        for t in draft_doc.tokens
        if len(t.norm) > 2 and not t.text.isdigit()
    ):
        return []  # every content word of the draft is in the reply: nothing can be missing
    units = content_units(draft_doc, reader, _customer_lemmas(ctx.case.customer_texts))
    if not units:
        return []
    lemmas = ReplyWords(ctx.doc, reader.actions)
    share = float(rule.params.get("share", 0.4))
    names: dict[str, str] = rule.params.get("kinds", {})
    missing = [u for u in units if not kept(u, lemmas, share)]
    if not missing:
        return []  # the common case: every point of the draft is still there
    removed = removed_sentences(rule, Context(ctx.case, draft_doc.text))
    out: list[Violation] = []
    reported: set[int] = set(removed)
    for unit in missing:
        if unit.sent in reported:
            continue
        reported.add(unit.sent)
        quote = clip(draft_doc.sentence_text(unit.sent), _QUOTE)
        what = names.get(unit.kind, unit.kind)
        message = rule.message.format_map(MessageFields(text="", quote=quote, what=what)).strip()
        out.append(
            Violation(
                rule=rule.id,
                severity=rule.severity,
                message=message,
                span=None,
                text=quote,
                evidence=_evidence(draft_doc, unit.sent),
            )
        )
    return out
