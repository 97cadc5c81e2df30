"""The check kinds: a small set of code paths that every rule file configures.

Each kind takes a rule and a Context and returns Violations (values, never actions): the
rewrite loop decides whether to fix, re-ask or fall back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from rewriter.analysis.clauses import clause_ids
from rewriter.analysis.facts import LOSABLE, Fact, extract_facts, fact_keys
from rewriter.analysis.lexicon import (
    Lexicon,
    Match,
    drop_overlaps,
    find_with_exceptions,
    grammar,
    in_condition,
    is_negated,
    is_negated_after,
)
from rewriter.analysis.morph import (
    diminutive_base,
    is_endearing_address,
    is_future,
    is_imperative,
    is_other_person_verb,
    is_ty_verb,
    may_be_predicate,
    name_lemma,
    normalise_word,
)
from rewriter.analysis.requests import request_sentences
from rewriter.analysis.text import Doc, analyse, is_sentence_start
from rewriter.analysis.timeexpr import (
    UPTO,
    commitment_keys,
    extract_commitments,
    is_upper_bound,
    time_hedges,
    vague_spans,
)
from rewriter.analysis.vocab import (
    any_style_pattern,
    compile_pattern,
    lexicon_from,
    raw,
    situation_lexicon,
    style_pattern,
)
from rewriter.guard.context import (
    KIND_REGISTRY,
    Context,
    LexiconValue,
    MessageFields,
    Params,
    PhraseItem,
    Span,
    clip,
    compiled,
    lexicon_of,
    removed_sentences,
    violation,
)
from rewriter.guard.faithfulness import PARAMS_SCHEMAS as FAITHFULNESS_PARAMS
from rewriter.guard.faithfulness import check_contradiction, check_coverage
from rewriter.guard.groups import PARAMS_SCHEMAS as GROUPS_PARAMS
from rewriter.guard.groups import check_groups
from rewriter.guard.language import PARAMS_SCHEMAS as LANGUAGE_PARAMS
from rewriter.guard.language import check_language
from rewriter.guard.metatalk import PARAMS_SCHEMAS as METATALK_PARAMS
from rewriter.guard.metatalk import check_self_reference
from rewriter.guard.mirror import shouted_words, ty_mirrored
from rewriter.guard.replyform import PARAMS_SCHEMAS as REPLYFORM_PARAMS
from rewriter.guard.replyform import check_reply_form
from rewriter.guard.rules import Rule, template_fields
from rewriter.models import Violation

# --- phrases -------------------------------------------------------------------------------------


def _pattern_readable(pattern: str) -> str:
    try:
        compile_pattern(pattern)
    except Exception as exc:  # re.error or regex.error: the file's mistake, said in one line
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


class PhrasesParams(Params):
    lexicon: LexiconValue | None = None
    exceptions: LexiconValue | None = None  # matches inside these phrases do not count
    patterns: list[str] = Field(default_factory=list)  # regular expressions on the raw text
    unless: LexiconValue | None = None  # an alternative after the match clears the reply
    unless_imperative: bool = False  # …and so does a verb that asks the customer to act
    skip_negated: bool = False
    skip_echo: bool = False  # naming what the customer named is not an offer
    # A flag of the thread analysis (the quote that raised it) the rule requires.
    when: Literal["legal_dispute", "angry", "grave", "injection"] | None = None
    thanks_for: dict[str, str] = Field(default_factory=dict)  # lemma → concrete thanks (fix)
    # A perk the customer says they have is offered only by a sentence with one of these verbs.
    grants: LexiconValue | None = None
    skip_conditional: bool = False  # a match inside an «если…» clause does not count
    unless_question: bool = False  # an offer put as a question after it is a next step

    @field_validator("patterns")
    @classmethod
    def _readable(cls, v: list[str]) -> list[str]:
        return [_pattern_readable(p) for p in v]


def check_phrases(rule: Rule, ctx: Context) -> list[Violation]:
    p = rule.params
    if p.get("when") and not ctx.situation.customer_texts:
        return []  # every flag of the thread is raised by a customer's message: none, no flag
    hits: list[tuple[int, int]] = []
    matches = find_with_exceptions(
        ctx.doc, lexicon_of(rule, "lexicon"), lexicon_of(rule, "exceptions")
    )
    if not matches and not p.get("patterns"):
        return []  # the common case: no phrase and no pattern, nothing to report
    evidence = None
    if matches and p.get("when"):  # the thread is read only when the reply says something
        evidence = getattr(ctx.situation, p["when"])
        if not evidence:
            return []
    customer_docs = ctx.situation.docs if matches and p.get("skip_echo") else []
    # When the customer talks about a perk of their own (their cashback, their promo code),
    # the reply may explain it: only a sentence that grants one («начислили вам», «подключили»)
    # offers anything.
    granted: set[int] | None = None
    if customer_docs and p.get("grants"):
        lexicon = lexicon_of(rule, "lexicon")
        if any(lexicon.find(d) for d in customer_docs):
            granted = _granting(rule, ctx.doc)
    # «по вашему промокоду скидка составила 1 240 ₽»: the customer's own perk in a calculation
    # offers nothing, unless the sentence grants something.
    owned = _owned_perk_sentences(ctx.doc, matches) if p.get("grants") else set()
    if owned:
        owned -= _granting(rule, ctx.doc)
    for m in matches:
        if owned and ctx.doc.tokens[m.first].sent in owned:
            continue
        if p.get("skip_negated") and is_negated(ctx.doc, m):
            continue
        if p.get("skip_conditional") and in_condition(ctx.doc, m):
            continue
        if granted is not None:
            if ctx.doc.tokens[m.first].sent not in granted:
                continue
        elif customer_docs and _echoes_customer(m, ctx, customer_docs):
            continue
        hits.append((m.start, m.end))
    for pattern in p.get("patterns", []):
        rx = compile_pattern(pattern)
        for m in rx.finditer(ctx.text):
            if not any(s < m.end() and m.start() < e for s, e in hits):
                if p.get("skip_echo") and any(m.group() in t for t in ctx.case.customer_texts):
                    continue
                hits.append((m.start(), m.end()))
    if hits and (p.get("unless") or p.get("unless_imperative")):
        # An alternative counts after the refusal begins («…, но можно…»), not before it
        # («Сожалеем, но помочь не можем» offers nothing).
        first = hits[0][0]
        if any(m.start >= first for m in lexicon_of(rule, "unless", 0).find(ctx.doc)):
            return []
        if p.get("unless_imperative") and any(
            t.start >= first and is_imperative(t.text) for t in ctx.doc.tokens
        ):
            return []
        if p.get("unless_question") and any(
            start >= first and ctx.text[start:end].rstrip().endswith("?")
            for start, end in ctx.doc.sentences
        ):
            return []
    if hits and p.get("when") and evidence is None:  # a pattern hit: read the thread now
        evidence = getattr(ctx.situation, p["when"])
        if not evidence:
            return []
    return [violation(rule, ctx, s, e, evidence=evidence) for s, e in _one_per_phrase(ctx, hits)]


_GAP_WORDS = 2  # «Дарим [Вам] промокод SORRY100»: words one offer may hold between its hits


def _one_per_phrase(ctx: Context, hits: list[Span]) -> list[Span]:
    """Hits that overlap or stand a word or two apart with no punctuation between them are one
    offending phrase («Дарим Вам промокод SORRY100»), reported once over its whole span."""
    merged: list[Span] = []
    for start, end in sorted(hits):
        if merged:
            prev_start, prev_end = merged[-1]
            gap = ctx.text[prev_end:start]
            if start <= prev_end or (
                len(gap.split()) <= _GAP_WORDS and all(w.isalnum() for w in gap.split())
            ):
                merged[-1] = (prev_start, max(end, prev_end))
                continue
        merged.append((start, end))
    return merged


def _granting(rule: Rule, doc: Doc) -> set[int]:
    """Sentences with a verb that grants a perk («начислили вам», «подключили», «дарим»)."""
    return {doc.tokens[g.first].sent for g in lexicon_of(rule, "grants").find(doc)}


def _owned_perk_sentences(doc: Doc, matches: list[Match]) -> set[int]:
    """Sentences where a perk is the customer's own («по вашему промокоду», «ваши баллы»)."""
    toks = doc.tokens
    owned = set()
    for m in matches:
        for j in range(max(0, m.first - 2), m.first):
            if toks[j].sent == toks[m.first].sent and "ваш" in toks[j].lemmas:
                owned.add(toks[m.first].sent)
    return owned


def _echoes_customer(m: Match, ctx: Context, customer_docs: list[Doc]) -> bool:
    """The reply names what the customer named («промокод, который вы прислали»): not an offer."""
    words = m.phrase.words
    return any(all(any(w.matches(t) for t in d.tokens) for w in words) for d in customer_docs)


# --- pattern -------------------------------------------------------------------------------------


class PatternParams(Params):
    pattern: str
    mid_sentence_only: bool = False  # a match that opens a sentence does not count
    skip_quoted: bool = False  # a match right after an opening quote is a label («Ваши заказы»)

    @field_validator("pattern")
    @classmethod
    def _readable(cls, v: str) -> str:
        return _pattern_readable(v)


def check_pattern(rule: Rule, ctx: Context) -> list[Violation]:
    rx = compile_pattern(rule.params["pattern"])
    out = []
    for m in rx.finditer(ctx.text):
        if rule.params.get("mid_sentence_only") and is_sentence_start(ctx.text, m.start()):
            continue
        # «Ваши заказы», «Вам звонили»: a quoted label or name keeps its own capital.
        if rule.params.get("skip_quoted") and ctx.text[max(0, m.start() - 1) : m.start()] in (
            "«",
            '"',
            "„",
            "“",
        ):
            continue
        out.append(violation(rule, ctx, m.start(), m.end()))
    return out


# --- unsupported ---------------------------------------------------------------------------------

Source = Literal["draft", "facts", "agent", "customer"]
FactKind = Literal["num", "date", "time", "url", "email", "phone", "id", "card", "account", "name"]

# The keys each `extract` reads besides extract/sources: any other is a mistake in the file.
_EXTRACT_KEYS = {
    "deadlines": {"weak_sources"},
    "facts": {"kinds", "company_only"},
    "promises": {
        "groups",
        "exceptions",
        "window",
        "negation_window",
        "source_window",
        "condition_phrases",
        "customer_action",
    },
}


class UnsupportedParams(Params):
    extract: Literal["deadlines", "facts", "promises"]
    sources: list[Source]  # where a claim may come from, read in this order
    weak_sources: list[Source] = Field(default_factory=list)  # deadlines: support vague times
    kinds: list[FactKind] | None = None  # facts: which kinds of fact
    groups: dict[str, list[PhraseItem]] | None = None  # promises: phrases by kind of promise
    exceptions: LexiconValue | None = None  # promises: the topic named without a decision
    window: int = Field(5, ge=1)  # promises: words a phrase may spread over
    negation_window: int = Field(3, ge=0)  # promises: words before it a negation reaches
    # facts: kinds the customer's message alone never licenses (a link, phone, card, account)
    company_only: list[FactKind] = Field(default_factory=list)
    source_window: int | None = Field(None, ge=1)  # promises: words a source's phrase may spread
    condition_phrases: LexiconValue | None = None  # promises: what makes a clause a condition
    customer_action: LexiconValue | None = None  # promises: «можно/можете…» — the customer acts

    @model_validator(mode="after")
    def _keys_of_extract(self) -> UnsupportedParams:
        given = self.model_fields_set - {"extract", "sources"}
        for key in sorted(given - _EXTRACT_KEYS[self.extract]):
            raise ValueError(f"{key}: not read when extract is {self.extract}")
        if self.extract == "promises" and not self.groups:
            raise ValueError("groups: required when extract is promises")
        return self


def check_unsupported(rule: Rule, ctx: Context) -> list[Violation]:
    if not ctx.checks_claims:
        return []
    p = rule.params
    sources = ctx.source_texts(p["sources"])
    what = p["extract"]
    if what == "deadlines":
        found = _unsupported_deadlines(rule, ctx, sources)
    elif what == "facts":
        found = _unsupported_facts(rule, ctx, sources)
    elif what == "promises":
        found = _unsupported_promises(rule, ctx, sources)
    else:
        raise ValueError(f"{rule.id}: unknown extract {what!r}")
    if not found:
        return found  # the common case: no evidence to write
    evidence = _searched(ctx, p["sources"])
    return [v.model_copy(update={"evidence": evidence}) for v in found]


def _searched(ctx: Context, which: list[str]) -> str:
    """What was searched: «черновик: «…»; факты: 2» — so an agent sees what the reply lacks.
    The wording is guardrails/lexicons/evidence.yaml."""
    wording = raw("evidence")
    case = ctx.case
    counts = {
        "facts": len(case.facts),
        "agent": len(case.agent_texts),
        "customer": len(case.customer_texts),
    }
    parts = []
    for name in which:
        if name == "draft" and case.draft and not ctx.grounded:
            parts.append(wording["sources"]["draft"].format(quote=clip(case.draft)))
        elif counts.get(name):
            parts.append(wording["sources"][name].format(count=counts[name]))
    if not parts:
        return str(wording["nothing_searched"])
    return wording["searched"].format(parts=wording["separator"].join(parts))


# The reply is read first and the sources only for what it claims: most replies name no time,
# no new fact and no promise, and then no source needs analysing at all.


def _unsupported(
    claims: set[str], sources: Iterable[str], keys_of: Callable[[str], set[str]]
) -> set[str]:
    """The claimed keys no source states. Sources are read in order (the draft first) and only
    until every claim is found."""
    pending = set(claims)
    if not pending:
        return pending  # before the first source is asked for: it may read the whole thread
    for text in sources:
        pending -= keys_of(text)
        if not pending:
            break
    return pending


def _unsupported_deadlines(rule: Rule, ctx: Context, sources: Iterable[str]) -> list[Violation]:
    claimed = extract_commitments(ctx.text)
    open_keys = _unsupported({c.key for c in claimed}, sources, lambda t: commitment_keys([t]))
    unsupported = [c for c in claimed if c.key in open_keys]
    if not unsupported:
        return []
    # A limit («до 5 дней») is supported by a source range's upper end («3–5 дней»).
    limits = [c for c in unsupported if is_upper_bound(ctx.doc, c.start, c.end)]
    if limits:
        ranges = commitment_keys(list(ctx.source_texts(rule.params["sources"])))
        unsupported = [c for c in unsupported if not (c in limits and UPTO + c.key in ranges)]
    weak = commitment_keys(list(ctx.source_texts(rule.params.get("weak_sources", []))))
    return [
        violation(rule, ctx, c.start, c.end)
        for c in unsupported
        if not (
            c.key in weak and (not _commits(ctx.doc, c.start) or _customers_plan(ctx.doc, c.start))
        )
    ]


def _customers_plan(doc: Doc, offset: int) -> bool:
    """The time sits in a clause about the customer («раз вы улетаете завтра»): their own plan,
    restated, not a commitment."""
    index = next((i for i, t in enumerate(doc.tokens) if t.start >= offset), None)
    if index is None:
        return False
    return any(doc.tokens[j].norm in ("вы", "вам", "вас") for j in _clause(doc, index))


def _commits(doc: Doc, offset: int) -> bool:
    """The sentence promises something about the future («завтра всё починят»), as opposed to
    naming a time that passed («пришлось ждать два часа»)."""
    tokens = doc.tokens_in(doc.sentence_of(offset))
    # «постараемся успеть до пятницы» aims at the customer's own date; it promises no time.
    hedges = time_hedges()
    if any(not t.lemmas.isdisjoint(hedges) for t in tokens):
        return False
    return any(
        is_future(t.text) and not is_imperative(t.text)  # «простите» is a request, not a plan
        for t in tokens
    )


def _unsupported_facts(rule: Rule, ctx: Context, sources: Iterable[str]) -> list[Violation]:
    kinds = set(rule.params.get("kinds", LOSABLE | {"name"}))
    # Time commitments are reported by invented-deadline; vague time is nobody's business.
    taken = [(c.start, c.end) for c in extract_commitments(ctx.text)]
    claimed = [
        f
        for f in extract_facts(ctx.text)
        if f.kind in kinds and not any(s < f.end and f.start < e for s, e in taken)
    ]
    if not claimed:
        return []
    known = {
        "name:" + name_lemma(part) for m in ctx.case.thread if m.name for part in m.name.split()
    }
    claims = {f.key for f in claimed} - known
    # A link, phone, card or account number needs a company-side source: the customer's
    # message alone never licenses it (a planted link, a number only the customer typed).
    company_only = set(rule.params.get("company_only", []))
    strict = {f.key for f in claimed if f.kind in company_only} & claims
    open_keys = _unsupported(claims - strict, sources, lambda t: fact_keys([t]))
    if strict:
        company = [s for s in rule.params["sources"] if s != "customer"]
        open_keys |= _unsupported(strict, ctx.source_texts(company), lambda t: fact_keys([t]))
    return [
        violation(rule, ctx, f.start, f.end, kind=f.kind) for f in claimed if f.key in open_keys
    ]


def _promise_lexicon(rule: Rule, *, source: bool = False) -> Lexicon:
    """Every group's phrases in one lexicon (one look at a text instead of one per group); each
    phrase carries its group, and overlaps are kept so that each group sees its own matches."""
    window = rule.params.get("source_window" if source else "window", 5)

    def build() -> Lexicon:
        phrases = [
            {"phrase": phrase, "group": group}
            for group, items in rule.params["groups"].items()
            for phrase in items
        ]
        return Lexicon(phrases, gap=2, any_order=True, window=window, overlaps=True)

    return compiled(rule, f"groups:{window}", build)


_CLAUSE_MARKS = frozenset("—–;:")


def _grouped(doc: Doc, matches: list[Match]) -> list[tuple[str, Match]]:
    """(group, match) with overlaps dropped within each group, as separate lexicons would. A
    match that joins words of two clauses («в отдел возвратов — там решат, вернуть ли») goes
    first, so it cannot hide a tighter one."""
    by_group: dict[str, list[Match]] = {}
    for m in matches:
        if _joins_clauses(doc, m):
            continue
        by_group.setdefault((m.phrase.extra or {})["group"], []).append(m)
    return [(g, m) for g, ms in by_group.items() for m in drop_overlaps(ms)]


_DASHES = frozenset("—–")


def _joins_clauses(doc: Doc, m: Match) -> bool:
    """The match spans a clause mark. A dash followed by words without a verb of their own, to
    the end of the clause, is a copula, not a clause break: «по промокоду L0YAL — скидка 50%»,
    «возврат — 1 500 ₽» hold one statement; «в отдел возвратов — там решат…» holds two."""
    marks = set(doc.text[m.start : m.end]) & _CLAUSE_MARKS
    if not marks:
        return False
    if marks - _DASHES:
        return True
    dash = max(doc.text.rfind(d, m.start, m.end) for d in _DASHES)
    if any(d in doc.text[m.start : dash] for d in _DASHES):
        return True  # two dashes: more than one statement
    toks = doc.tokens
    after = next(j for j in range(m.first, m.last + 1) if toks[j].start > dash)
    for j in range(after, len(toks)):
        if toks[j].sent != toks[after].sent or (
            j > after and _CLAUSE_MARKS & set(doc.text[toks[j - 1].end : toks[j].start])
        ):
            break
        if may_be_predicate(toks[j].text):
            return True
    return False


def promises_in(rule: Rule, doc: Doc, *, source: bool = False) -> list[tuple[str, Match]]:
    """(group, match) for every promise phrase in `doc` that is not negated, not a mere
    mention of the topic («заявление на возврат») and not the customer's own action («вернуть
    товар можно в течение 14 дней»). A conditional promise's group is «cond:<group>»."""
    exceptions = lexicon_of(rule, "exceptions")
    customer_action = lexicon_of(rule, "customer_action")
    window = rule.params.get("negation_window", 3)
    out = []
    lexicon = _promise_lexicon(rule, source=source)
    for group, m in _grouped(doc, find_with_exceptions(doc, lexicon, exceptions)):
        if (
            is_negated(doc, m, before=window)
            or is_negated_after(doc, m)
            or _asks_whether(doc, m)
            or _addressed_to_customer(doc, m, customer_action)
        ):
            continue
        out.append(("cond:" + group if _conditional(rule, doc, m) else group, m))
    return out


def _addressed_to_customer(doc: Doc, m: Match, customer_action: Lexicon) -> bool:
    """The customer is the one to act: an imperative in the match («верните товар») or a modal
    of the customer's option next to it («оформить возврат можно в приложении»)."""
    toks = doc.tokens
    if any(is_imperative(toks[j].text) for j in range(m.first, m.last + 1)):
        return True
    clause = _clause(doc, m.first)
    # A modal the phrase itself names is its content, not the customer's option: «платить
    # ничего не нужно» releases the customer from paying.
    return any(
        a.first in clause and not m.first <= a.first <= m.last
        for a in customer_action.find(doc, sentences=[toks[m.first].sent])
    )


def _conditional(rule: Rule, doc: Doc, m: Match) -> bool:
    """The promise holds only under a condition stated in its sentence («если подтвердится
    дефект, заменим», «вернём в случае отмены рейса»)."""
    sent = doc.tokens[m.first].sent
    conditions = grammar("conditions")
    if any(t.norm in conditions for t in doc.tokens_in(sent)):
        return True
    return bool(lexicon_of(rule, "condition_phrases").find(doc, sentences=[sent]))


def _asks_whether(doc: Doc, m: Match) -> bool:
    """«они решат, можно ли вернуть деньги», «вернут ли деньги»: whether, not a promise."""
    toks, particles = doc.tokens, grammar("question_particles")
    sent = toks[m.first].sent
    return any(
        toks[j].norm in particles and toks[j].sent == sent
        for j in range(max(0, m.first - 2), min(len(toks), m.first + 2))
    )


def _is_question(doc: Doc, m: Match) -> bool:
    """«Посмотрим, можно ли вернуть оплату?» asks; it decides nothing."""
    sent = doc.tokens[m.first].sent
    particles = grammar("question_particles")
    return "?" in doc.sentence_text(sent) or any(t.norm in particles for t in doc.tokens_in(sent))


def _unsupported_promises(rule: Rule, ctx: Context, sources: Iterable[str]) -> list[Violation]:
    claimed = promises_in(rule, ctx.doc)
    if not claimed:
        return []

    def groups(text: str) -> set[str]:
        """What a source supports: an unconditional promise supports the same promise with or
        without a condition; a conditional one only a conditional one. A source's words may
        stand further apart («сумма вклада вместе с процентами будет перечислена»)."""
        doc = analyse(text)
        found: set[str] = set()
        for g, m in promises_in(rule, doc, source=True):
            if not _is_question(doc, m):
                found |= {g} if g.startswith("cond:") else {g, "cond:" + g}
        return found

    open_groups = _unsupported({g for g, _ in claimed}, sources, groups)
    return [
        violation(rule, ctx, m.start, m.end, group=g.removeprefix("cond:"))
        for g, m in claimed
        if g in open_groups
    ]


# --- lost ----------------------------------------------------------------------------------------


class LostParams(Params):
    kinds: list[FactKind] | None = None
    # Facts inside a sentence these rules remove from the draft are meant to go.
    except_removed_by: list[str] = Field(default_factory=list)

    @field_validator("except_removed_by")
    @classmethod
    def _rules_exist(cls, v: list[str], info: ValidationInfo) -> list[str]:
        ids = (info.context or {}).get("rule_ids")
        for rid in v:
            if ids is not None and rid not in ids:
                raise ValueError(f"no rule {rid!r} is loaded")
        return v


def check_lost(rule: Rule, ctx: Context) -> list[Violation]:
    if not ctx.compares_to_draft:
        return []

    draft = ctx.case.draft or ""
    kinds = set(rule.params.get("kinds", LOSABLE))
    kept = fact_keys([ctx.text])
    missing = [f for f in extract_facts(draft) if f.kind in kinds and f.key not in kept]
    if not missing:
        return []  # the common case: every fact is still there, nothing else to look at
    draft_ctx = Context(ctx.case, draft)
    removed = [draft_ctx.doc.sentence_span(n) for n in removed_sentences(rule, draft_ctx)]
    # A number inside a duration is kept when the reply states the same duration in other units
    # («2 недели» → «14 дней»). Only the upper end of a range is not enough: «от 3 до 5 дней» →
    # «до 5 дней» drops the 3 (a lost fact, though no invented deadline).
    kept_times = commitment_keys([ctx.text])
    draft_times = extract_commitments(draft, require_cue=False)
    vague: list[tuple[int, int]] | None = None  # «займёт одну минуту»: no number to keep
    out = []
    seen: set[str] = set()
    for f in missing:
        if f.key in seen or any(s <= f.start and f.end <= e for s, e in removed):
            continue
        if vague is None:
            vague = vague_spans(draft)
        if any(s <= f.start and f.end <= e for s, e in vague):
            continue
        if any(c.start <= f.start and f.end <= c.end and c.key in kept_times for c in draft_times):
            continue
        seen.add(f.key)
        sentence = draft_ctx.doc.sentence_text(draft_ctx.doc.sentence_of(f.start))
        evidence = raw("evidence")["lost_from_draft"].format(quote=clip(sentence))
        out.append(_lost_violation(rule, f, evidence))
    return out


def _lost_violation(rule: Rule, f: Fact, evidence: str) -> Violation:
    message = rule.message.format_map(MessageFields(text=f.text, kind=f.kind)).strip()
    # The span would index the draft, not the checked text: report the fact as text only.
    return Violation(
        rule=rule.id,
        severity=rule.severity,
        message=message,
        span=None,
        text=f.text,
        evidence=evidence,
    )


# --- constraint ----------------------------------------------------------------------------------


class ConstraintParams(Params):
    # By constraint id of guardrails/lexicons/situation.yaml `constraints`.
    requests: dict[str, LexiconValue]  # what the constraint makes impossible to ask
    resolved_by: dict[str, LexiconValue] = Field(default_factory=dict)  # obstacle removed
    request_cues: LexiconValue | None = None  # words that make a sentence a request
    exceptions: LexiconValue | None = None  # a sentence with one of these asks nothing
    repair: LexiconValue | None = None  # a verb that deals with the obstacle («сменить почту»)
    around: LexiconValue | None = None  # a way round it right before the word («без», «вместо»)
    # `around:<constraint id>` in the file: ways round one obstacle («с любого телефона»).
    around_for: dict[str, LexiconValue] = Field(default_factory=dict)
    time_words: LexiconValue | None = None  # a request at another time than the obstacle's

    @model_validator(mode="before")
    @classmethod
    def _per_constraint_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        per = {k.split(":", 1)[1]: data.pop(k) for k in list(data) if k.startswith("around:")}
        if per:
            data["around_for"] = per
        return data

    @model_validator(mode="after")
    def _known_constraints(self) -> ConstraintParams:
        known = raw("situation").get("constraints", {})
        for key in ("requests", "resolved_by", "around_for"):
            for cid in getattr(self, key):
                if cid not in known:
                    names = ", ".join(known)
                    raise ValueError(f"{key}.{cid}: no such constraint (situation.yaml: {names})")
        return self


def check_constraint(rule: Rule, ctx: Context) -> list[Violation]:
    if not ctx.case.customer_texts:
        return []
    request_sents = request_sentences(ctx.doc, lexicon_of(rule, "request_cues", 0))
    if not request_sents:
        return []  # the reply asks nothing of the customer: the thread need not be read
    situation = ctx.situation
    if not situation.constraints:
        return []
    requests: dict[str, Any] = rule.params["requests"]
    resolved: dict[str, Any] = rule.params.get("resolved_by", {})
    exceptions = lexicon_of(rule, "exceptions")
    blocked_sents = {ctx.doc.tokens[m.first].sent for m in exceptions.find(ctx.doc)}
    objects = situation.constraint_objects
    out = []
    for cid, evidence in situation.constraints.items():
        if cid not in requests:
            continue
        if cid in resolved and compiled(
            rule, f"res:{cid}", lambda cid=cid: lexicon_from(resolved[cid])
        ).find(ctx.doc):
            continue
        if cid in objects:  # the request must name the very thing the customer lacks
            lexicon = _object_lexicon(objects[cid])
        else:
            lexicon = compiled(
                rule, f"req:{cid}", lambda cid=cid: lexicon_from(requests[cid], default_gap=2)
            )
        for m in lexicon.find(ctx.doc):
            sent = ctx.doc.tokens[m.first].sent
            if sent in blocked_sents or sent not in request_sents:
                continue
            if is_negated(ctx.doc, m, before=2) or _works_around(rule, ctx.doc, m, cid):
                continue
            if _not_needed_after(ctx.doc, m):
                continue  # «Звонить не нужно: продлим здесь»
            if m.first == m.last and is_other_person_verb(ctx.doc.tokens[m.first].text):
                continue  # «подойдёт любой день», «курьер заберёт»: nobody is asked
            if cid in objects and _quoted(ctx.text, m.start):
                continue  # «в разделе «Мои полисы»» names a screen, not the lost thing
            if _another_time(rule, ctx.doc, sent, evidence):
                continue
            out.append(violation(rule, ctx, m.start, m.end, evidence=evidence))
    return out


@lru_cache(maxsize=256)
def _object_lexicon(lemmas: frozenset[str]) -> Lexicon:
    return Lexicon(sorted(lemmas))


def _works_around(rule: Rule, doc: Doc, m: Match, cid: str) -> bool:
    """The reply names the obstacle to deal with it, not to use it: a repair verb in the same
    clause («сменить почту», «пока разбираемся с приложением») or a way round right before it
    («с любого телефона», «без доступа к старой почте»)."""
    toks = doc.tokens
    around = lexicon_of(rule, "around").phrases + lexicon_of(rule, f"around:{cid}").phrases
    around_lemmas = frozenset().union(*(w.values for p in around for w in p.words))
    for j in range(max(0, m.first - 3), min(len(toks), m.last + 2)):
        if toks[j].sent == toks[m.first].sent and not toks[j].lemmas.isdisjoint(around_lemmas):
            return True
    # The repair verb governs the word: right before it («сменить почту», «разбираемся с
    # приложением») or right after («аккаунт разблокируем»), in the same clause.
    clause = _clause(doc, m.first)
    near = set(range(m.first - 2, m.first)) | {m.last + 1}
    return any(
        r.first in near and r.first in clause
        for r in lexicon_of(rule, "repair").find(doc, sentences=[toks[m.first].sent])
    )


def _not_needed_after(doc: Doc, m: Match) -> bool:
    """«Звонить не нужно», «приезжать не придётся»: the reply rules the request out."""
    toks = doc.tokens
    j = m.last + 1
    return (
        j + 1 < len(toks)
        and toks[j].sent == toks[m.last].sent
        and toks[j].norm == "не"
        and toks[j + 1].norm in grammar("not_needed")
    )


def _quoted(text: str, offset: int) -> bool:
    """The offset is inside «…» on its line."""
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    return before.count("«") > before.count("»")


def _another_time(rule: Rule, doc: Doc, sent: int, evidence: str) -> bool:
    """The customer can't at some time («в будни до 19 прийти не могу») and the reply asks for
    another time («в субботу можно прийти»): a deferral, not an impossible request."""
    times = lexicon_of(rule, "time_words")

    def timed(d: Doc, sentences: list[int] | None = None) -> bool:
        if times.find(d, sentences=sentences):
            return True
        text = d.sentence_text(sentences[0]) if sentences else d.text
        # A day of the week or an hour, not a duration («на минуту») or a date range.
        return any(
            c.key.startswith(("weekday:", "time:", "rel:"))
            for c in extract_commitments(text, require_cue=False)
        )

    return timed(analyse(evidence)) and timed(doc, [sent])


def _clause(doc: Doc, i: int) -> range:
    """Token indexes of the clause around token i (analysis.clauses.clause_ids)."""
    ids = clause_ids(doc)
    lo = hi = i
    while lo > 0 and ids[lo - 1] == ids[i]:
        lo -= 1
    while hi + 1 < len(ids) and ids[hi + 1] == ids[i]:
        hi += 1
    return range(lo, hi + 1)


# --- register ------------------------------------------------------------------------------------


# A verb addressed to «ты» ends so: imperative «смотри», «кидай», «глянь», «зайди»; present or
# future «заметишь», «можешь». A cheap test before pymorphy3 is asked.
# Endings that make a word worth asking pymorphy3 about (a test per token is cheaper than a
# regular expression over the text): a verb addressed to «ты» («смотри», «кидай», «глянь»,
# «заметишь», «не волнуйся»), a diminutive («скидочку», «подарочек», «возвратика»).
_TY_ENDINGS = ("и", "й", "ь", "шь", "ся", "сь")
_DIMINUTIVE_ENDINGS = (
    *(
        stem + end
        for stem in ("очк", "ечк", "ёчк")
        for end in ("а", "и", "у", "е", "ой", "ою", "ам", "ами", "ах")
    ),
    *("очек", "ечек", "ик", "ика", "ику", "иком", "ике", "ики", "иков", "икам", "иками", "иках"),
)

_STYLE_MARKERS = ("emoji", "playful_smiley", "sad_smiley", "sad_emoji", "shouting")


class Reasons(Params):
    """The {reason} of the message, one per kind of finding: every one must be worded."""

    playful: str
    playful_serious: str
    sad: str
    shouting: str
    jokes: str
    pet_names: str
    diminutives: str
    informal_you: str
    informal_greeting: str
    slang: str | None = None
    caps: str | None = None  # a reply in capitals (with `caps_words`)


class RegisterParams(Params):
    jokes: LexiconValue | None = None
    pet_names: LexiconValue | None = None
    diminutives: LexiconValue | None = None
    slang: LexiconValue | None = None  # chat slang («норм», «щас»): fine when mirrored
    derived_diminutives: bool = False  # also find diminutives by form (pymorphy3 + suffixes)
    endearing_suffixes: list[str] = Field(default_factory=list)  # «голубчик»: an address by form
    not_diminutives: LexiconValue | None = None  # «карточка товара» is no endearment
    # This many words in capitals that are no abbreviation make a reply in capitals (mirror.py).
    caps_words: int | None = Field(None, ge=1)
    reasons: Reasons
    evidence: str  # how the evidence quotes the thread: «…{quote}…»

    @model_validator(mode="after")
    def _caps_worded(self) -> RegisterParams:
        if self.caps_words and not self.reasons.caps:
            raise ValueError("reasons.caps: required with caps_words")
        return self

    @field_validator("evidence")
    @classmethod
    def _fillable(cls, v: str) -> str:
        unknown = template_fields(v) - {"quote"}
        if unknown:
            raise ValueError(f"{{{sorted(unknown)[0]}}}: only {{quote}} is filled")
        return v


def _style_markers(text: str) -> tuple[list[Span], list[Span], list[Span]]:
    """Spans of playful markers (emoji that are not sad, playful smileys), sad ones, shouting."""
    sad_emoji = style_pattern("sad_emoji")
    playful = sorted(
        [
            (m.start(), m.end())
            for m in style_pattern("emoji").finditer(text)
            if not sad_emoji.fullmatch(m.group())
        ]
        + [(m.start(), m.end()) for m in style_pattern("playful_smiley").finditer(text)]
    )
    sad = [(m.start(), m.end()) for m in style_pattern("sad_smiley").finditer(text)]
    sad += [(m.start(), m.end()) for m in sad_emoji.finditer(text)]
    shouting = [(m.start(), m.end()) for m in style_pattern("shouting").finditer(text)]
    return playful, sad, shouting


def check_register(rule: Rule, ctx: Context) -> list[Violation]:
    text, doc = ctx.text, ctx.doc
    # First what the reply does; the thread is read only if it does something.
    if any_style_pattern(*_STYLE_MARKERS).search(text) is None:
        playful, sad, shouting = [], [], []
    else:
        playful, sad, shouting = _style_markers(text)
    # Most replies hold no word of any of the six lexicons: one set test says so (see
    # _register_keys) and not one of them is looked at.
    keys = _register_keys(rule)
    words = keys is None or not doc.keys.isdisjoint(keys)
    lexical = {key: lexicon_of(rule, key).find(doc) if words else [] for key in _LEXICAL}
    informal_you = (
        [(m.start, m.end) for m in situation_lexicon("informal_you").find(doc)] if words else []
    )
    informal_you += [(t.start, t.end) for t in doc.tokens if _ty_word(t.text)]
    informal_greeting = situation_lexicon("informal_greeting").find(doc) if words else []
    derived = _derived_tenderness(rule, doc)
    caps = shouted_words(ctx, rule.params["caps_words"]) if rule.params.get("caps_words") else []
    if not (
        playful
        or len(sad) > 1
        or shouting
        or any(lexical.values())
        or derived
        or informal_you
        or informal_greeting
        or caps
    ):
        return []  # the common case: nothing the thread could make too much

    s = ctx.situation
    reg = s.register
    why = s.angry or s.grave or s.legal_dispute
    reasons: dict[str, str] = rule.params["reasons"]
    quoted = why or (s.customer_texts[-1] if s.customer_texts else None)
    evidence = rule.params["evidence"].format(quote=clip(quoted)) if quoted else None
    out: list[Violation] = []

    def add(start: int, end: int, reason: str) -> None:
        out.append(violation(rule, ctx, start, end, reason=reasons[reason], evidence=evidence))

    # Playful emoji and smileys: up to what the customer used (none at all when it is serious).
    allowed = 0 if s.serious else reg.playful + (1 if reg.positive else 0)
    for start, end in playful[allowed:]:
        add(start, end, "playful_serious" if why else "playful")
    for start, end in sorted(sad)[1:]:
        add(start, end, "sad")
    if why or not reg.shouting:
        for start, end in shouting:
            add(start, end, "shouting")
    for start, end in caps:  # capitals are never mirrored: the customer's are anger
        add(start, end, "caps")
    for key, matches in lexical.items():
        for m in matches:
            used = any(lexicon_of(rule, key).find(d) for d in s.docs) and not why
            echoed = any(
                any(w.matches(t) for t in d.tokens) for d in s.docs for w in m.phrase.words
            )
            # Slang mirrors as a register (the customer writes «чё», the reply may say «щас»);
            # a pet name or a diminutive only as the customer's own word.
            if not (used and (echoed or key == "slang")):
                add(m.start, m.end, key)
    customer_words = {t.norm for d in s.docs for t in d.tokens}
    for key, start, end, norm in derived:
        if why or norm not in customer_words:  # mirroring the customer's own word is fine
            add(start, end, key)
    if informal_you and not reg.uses_ty and not ty_mirrored(ctx):
        for start, end in sorted(informal_you):
            add(start, end, "informal_you")
    if (reg.uses_vy or reg.formal_greeting) and not reg.informal_greeting:
        for m in informal_greeting:
            add(m.start, m.end, "informal_greeting")
    return out


_LEXICAL = ("jokes", "pet_names", "diminutives", "slang")


@lru_cache(maxsize=50_000)
def _ty_word(word: str) -> bool:
    """A verb addressed to «ты» (the ending first, pymorphy3 only then), remembered per word."""
    return normalise_word(word).endswith(_TY_ENDINGS) and is_ty_verb(word)


def _register_keys(rule: Rule) -> frozenset[str] | None:
    """Doc keys of which a reply must hold one for any of the register's lexicons to match: the
    union of their prefilters (Lexicon.possible finds nothing in a Doc whose keys miss a
    lexicon's prefilter). None when a phrase of prefixes alone makes every text a candidate."""

    def build() -> frozenset[str] | None:
        lexicons = [lexicon_of(rule, key) for key in _LEXICAL]
        lexicons += [situation_lexicon("informal_you"), situation_lexicon("informal_greeting")]
        filters = [lexicon.prefilter for lexicon in lexicons]
        if any(f is None for f in filters):
            return None
        return frozenset().union(*filters)

    return compiled(rule, "register:keys", build)


def _tender_ending(rule: Rule) -> Callable[[str], bool]:
    """Whether a word (its norm) is long enough and ends like a diminutive or an endearing
    address: one ending test over both lists, remembered per word (a reply's words are mostly
    the same few thousand)."""

    def build() -> Callable[[str], bool]:
        endings = _DIMINUTIVE_ENDINGS + tuple(rule.params.get("endearing_suffixes", []))

        @lru_cache(maxsize=50_000)
        def tender(norm: str) -> bool:
            return len(norm) >= 5 and norm.endswith(endings)

        return tender

    return compiled(rule, "register:tender", build)


def _derived_tenderness(rule: Rule, doc: Doc) -> list[tuple[str, int, int, str]]:
    """Diminutives and pet names by their form, not a list: a noun with a diminutive suffix
    whose base the dictionary knows («скидочка», «возвратик»), and an animate noun with an
    endearing suffix used as an address between commas («Не волнуйтесь, лапушка, …»).
    Words of their own with such a suffix («карточка товара», «коробочка») are listed apart."""
    if not rule.params.get("derived_diminutives"):
        return []
    toks = doc.tokens
    tender = _tender_ending(rule)
    candidates = [i for i, t in enumerate(toks) if tender(t.norm)]
    if not candidates:
        return []
    suffixes = tuple(rule.params.get("endearing_suffixes", []))
    out = []
    skip = {(m.start, m.end) for m in lexicon_of(rule, "not_diminutives").find(doc)}
    for i in candidates:
        t = toks[i]
        if (t.start, t.end) in skip or not t.text.isalpha():
            continue
        if diminutive_base(t.text):
            out.append(("diminutives", t.start, t.end, t.norm))
        elif suffixes and is_endearing_address(doc, i, suffixes):
            out.append(("pet_names", t.start, t.end, t.norm))
    return out


# The one registry: context.run_rule reads the same dict, so a kind module can run another rule.
KIND_FUNCS = KIND_REGISTRY
KIND_FUNCS.update(
    {
        "phrases": check_phrases,
        "pattern": check_pattern,
        "unsupported": check_unsupported,
        "lost": check_lost,
        "constraint": check_constraint,
        "register": check_register,
        "groups": check_groups,
        "contradiction": check_contradiction,
        "coverage": check_coverage,
        "language": check_language,
        "reply-form": check_reply_form,
        "self-reference": check_self_reference,
    }
)


# Each kind's params schema (extra keys refused). A kind module of its own exports its
# PARAMS_SCHEMAS and is merged here beside its KIND_FUNCS entry; tests check every kind has one.
PARAMS_SCHEMAS: dict[str, type[BaseModel]] = {
    "phrases": PhrasesParams,
    "pattern": PatternParams,
    "unsupported": UnsupportedParams,
    "lost": LostParams,
    "constraint": ConstraintParams,
    "register": RegisterParams,
    **GROUPS_PARAMS,
    **FAITHFULNESS_PARAMS,
    **LANGUAGE_PARAMS,
    **METATALK_PARAMS,
    **REPLYFORM_PARAMS,
}
