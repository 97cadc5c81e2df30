"""The `groups` check kind: named phrase groups, each fired only in the context its data names.

A group is what a rule looks for (phrases by lemma, or patterns) plus the conditions that make a
mention a violation:
- `request`: a verb of the named verb sets asks the reader to do it in the same segment
  (analysis/requests.py): «пришлите код» asks, «никому не сообщайте код» does not;
- `with` / `unless`: another phrase must (must not) be in the same segment / sentence;
- `forms`, `followed_by`, `not_followed_by`, `not_after`: the grammar around the match;
- `when`: a flag of the thread (lexicons/situation.yaml), e.g. the customer reports a danger;
- `licensed_by`: company-side sources that make it legitimate — the draft *asks* the same
  (`license: asked`), names the same thing (`mentioned`), or touches the same subject
  (`subject`); `echo` lets the reply name what the customer named when it gives no advice.

asks-for-secret, disrespect and off-topic are rule files over this one kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import Pattern
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from rewriter.analysis.clauses import boundary_after, has_anaphora, segments
from rewriter.analysis.lexicon import Lexicon, Match, Phrase, is_negated
from rewriter.analysis.morph import fold, has_grammemes
from rewriter.analysis.requests import (
    asking_segments,
    imperative_at,
    requested_verbs,
    verb_between,
)
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.vocab import compile_pattern
from rewriter.guard.context import Context, Params, compiled, violation
from rewriter.guard.rules import Rule
from rewriter.models import Violation

Source = Literal["draft", "facts", "agent"]
ANY_REQUEST = "any"
_NO_PHRASE = Phrase("", ())  # a verb set name: any imperative or request cue of the segment


class Around(Params):
    """Grammar of the words right after a match: one of `tags` (each a set of pymorphy3
    grammemes, e.g. [VERB, past]) within `within` words."""

    tags: list[list[str]]
    within: int = 2


class VerbSet(Params):
    """Verbs of one action («назвать», «прислать»…). `needs`: the request counts only with one of
    these phrases in its segment («введите здесь», not «введите в приложении»)."""

    phrases: list[str]
    needs: list[str] = Field(default_factory=list)
    any_form: bool = False  # «нам понадобится …»: a need stated, not only an imperative
    in_question: bool = False  # counts only in a sentence that ends with «?» («Какой код пришёл?»)


class Group(Params):
    model_config = ConfigDict(populate_by_name=True)  # merged with Params' config

    phrases: list[str | dict[str, Any]] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    gap: int = 1
    any_order: bool = False
    window: int = 4
    exceptions: list[str] = Field(default_factory=list)
    skip_negated: bool = False
    forms: list[list[str]] = Field(default_factory=list)
    followed_by: Around | None = None
    not_followed_by: Around | None = None
    not_after: list[str] = Field(default_factory=list)
    with_: list[str] = Field(default_factory=list, alias="with")
    with_any_order: bool = False  # `with` phrases match in any order within `window` words
    with_patterns: list[str] = Field(default_factory=list)  # or one of these in the scope
    scope: Literal["segment", "sentence"] = "segment"
    unless: list[str] = Field(default_factory=list)
    request: list[str] = Field(default_factory=list)
    use_blockers: bool = True  # a request towards a company place or a third person is no ask
    when: str | None = None
    licensed_by: list[Source] = Field(default_factory=list)
    license: Literal["asked", "mentioned", "subject"] = "asked"
    echo: bool = False
    needs_draft: bool = False  # only when a draft is rewritten (nothing to compare a lint with)
    fields: dict[str, str] = Field(default_factory=dict)  # filled into the rule's message


class GroupsParams(Params):
    groups: dict[str, Group]
    verbs: dict[str, VerbSet] = Field(default_factory=dict)
    cues: list[str] = Field(default_factory=list)  # «нужно», «можете», «не могли бы»…
    blockers: list[str] = Field(default_factory=list)  # a request towards these is not a hand-over
    advice: list[str] = Field(default_factory=list)  # what makes an echo advice (`echo`)
    needs_draft: bool = False
    evidence: dict[str, str] = Field(default_factory=dict)


PARAMS_SCHEMAS: dict[str, type[BaseModel]] = {"groups": GroupsParams}


class Hit(NamedTuple):
    start: int
    end: int
    first: int  # token indexes
    last: int
    words: tuple[Any, ...] | None  # the phrase's words (None for a pattern)


def _lex(rule: Rule, key: str, phrases: list[Any], **options: Any) -> Lexicon:
    return compiled(rule, key, lambda: Lexicon(phrases, **options))


class _Compiled(NamedTuple):
    name: str
    group: Group
    lexicon: Lexicon | None
    patterns: tuple[Pattern[str], ...]
    exceptions: Lexicon | None


class _Plan(NamedTuple):
    """A rule compiled once: its groups, and what a text must hold for any group to be
    possible — most replies hold none, and then the rule costs one set test and a scan per
    pattern."""

    params: GroupsParams
    groups: tuple[_Compiled, ...]
    probe: Lexicon  # every phrase of every group: which groups a text can hold at all
    owner: tuple[int, ...]  # probe phrase index → group index
    patterned: tuple[int, ...]  # groups with patterns
    # Every group's patterns, each searched on its own: a text matches none of them in the
    # common case, and separate searches let the engine skip ahead by each one's first
    # characters (one alternation of them all tries every branch at every position).
    patterns: tuple[Pattern[str], ...]


def _plan(rule: Rule) -> _Plan:
    def build() -> _Plan:
        params = GroupsParams.model_validate(rule.params)
        groups = []
        probe_phrases: list[str | dict[str, Any]] = []
        owner: list[int] = []
        for index, (name, g) in enumerate(params.groups.items()):
            lex = None
            if g.phrases:
                lex = Lexicon(g.phrases, gap=g.gap, any_order=g.any_order, window=g.window)
                probe_phrases += g.phrases
                owner += [index] * len(g.phrases)
            compiled_patterns = tuple(compile_pattern(p) for p in g.patterns)
            exceptions = Lexicon(g.exceptions) if g.exceptions else None
            groups.append(_Compiled(name, g, lex, compiled_patterns, exceptions))
        patterned = tuple(i for i, c in enumerate(groups) if c.patterns)
        patterns = tuple(rx for c in groups for rx in c.patterns)
        return _Plan(
            params, tuple(groups), Lexicon(probe_phrases), tuple(owner), patterned, patterns
        )

    return compiled(rule, "plan", build)


def _hits(c: _Compiled, doc: Doc) -> list[Hit]:
    out: list[Hit] = []
    if c.lexicon is not None:
        for m in c.lexicon.find(doc):
            out.append(Hit(m.start, m.end, m.first, m.last, m.phrase.words))
    for rx in c.patterns:
        for m in rx.finditer(doc.text):
            first, last = _token_range(doc, m.start(), m.end())
            if first is None:
                continue
            # A pattern may match part of a word (a suffix): report the whole words.
            start = min(m.start(), doc.tokens[first].start)
            end = max(m.end(), doc.tokens[last].end)
            if not any(h.start < end and start < h.end for h in out):
                out.append(Hit(start, end, first, last, None))
    if out and c.exceptions is not None:
        blocked = [(m.start, m.end) for m in c.exceptions.find(doc)]
        out = [h for h in out if not any(s < h.end and h.start < e for s, e in blocked)]
    return out


def _token_range(doc: Doc, start: int, end: int) -> tuple[int | None, int]:
    inside = [i for i, t in enumerate(doc.tokens) if t.start < end and start < t.end]
    return (inside[0], inside[-1]) if inside else (None, 0)


def _grammar_ok(doc: Doc, g: Group, h: Hit) -> bool:
    toks = doc.tokens
    if g.forms and not any(
        has_grammemes(toks[j].text, frozenset(tags))
        for j in range(h.first, h.last + 1)
        for tags in g.forms
    ):
        return False
    if g.followed_by and not _around(doc, h, g.followed_by):
        return False
    if g.not_followed_by and _around(doc, h, g.not_followed_by):
        return False
    return not (g.skip_negated and is_negated(doc, _as_match(h), before=2))


def _around(doc: Doc, h: Hit, spec: Around) -> bool:
    toks = doc.tokens
    for j in range(h.last + 1, min(len(toks), h.last + 1 + spec.within)):
        if toks[j].sent != toks[h.first].sent:
            return False
        if any(has_grammemes(toks[j].text, frozenset(tags)) for tags in spec.tags):
            return True
    return False


def _as_match(h: Hit) -> Match:
    return Match(_NO_PHRASE, h.first, h.last, h.start, h.end)


def _in_scope(doc: Doc, g: Group, h: Hit, lex: Lexicon) -> bool:
    if g.scope == "sentence":
        sent = doc.tokens[h.first].sent
        return bool(lex.find(doc, sentences=[sent]))
    segs = segments(doc)
    seg = segs[h.first]
    return any(segs[m.first] == seg for m in lex.find(doc))


def _pattern_in_scope(rule: Rule, name: str, g: Group, doc: Doc, h: Hit) -> bool:
    if g.scope == "sentence":
        lo, hi = doc.sentence_span(doc.tokens[h.first].sent)
    else:
        segs = segments(doc)
        inside = [t for t, s in zip(doc.tokens, segs, strict=True) if s == segs[h.first]]
        lo, hi = inside[0].start, inside[-1].end
    for k, pattern in enumerate(g.with_patterns):
        rx = compiled(rule, f"wp:{name}:{k}", lambda pattern=pattern: compile_pattern(pattern))
        if rx.search(doc.text, lo, hi):
            return True
    return False


def _after_word(rule: Rule, name: str, g: Group, doc: Doc, h: Hit) -> bool:
    lex = _lex(rule, f"a:{name}", g.not_after)
    toks = doc.tokens
    words = [w for phrase in lex.phrases for w in phrase.words]
    return any(
        j >= 0 and toks[j].sent == toks[h.first].sent and any(w.matches(toks[j]) for w in words)
        for j in (h.first - 1, h.first - 2)
    )


def _request_holds(rule: Rule, p: GroupsParams, g: Group, doc: Doc, h: Hit) -> bool:
    """A verb of the group's sets asks for it: in the hit's segment; in the next one when that
    one points back («— продиктуйте его»); in the previous one when it ends with «:»."""
    segs = segments(doc)
    seg = segs[h.first]
    cues = _lex(rule, "cues", p.cues, gap=0)

    def near(vseg: int) -> bool:
        if vseg == seg:
            return True
        if vseg == seg + 1:
            return has_anaphora(doc, vseg)
        return vseg == seg - 1 and boundary_after(doc, vseg) == ":"

    sent = doc.tokens[h.first].sent
    for set_name in g.request:
        if set_name == ANY_REQUEST:
            if any(near(s) for s in asking_segments(doc, cues)):
                return True
            continue
        vs = p.verbs[set_name]
        verbs = _lex(rule, f"v:{set_name}", vs.phrases)
        for m in requested_verbs(doc, verbs, cues, any_form=vs.any_form):
            vseg = segs[m.first]
            if doc.tokens[m.first].sent != sent or not near(vseg):
                continue
            ends = (m.last, h.first) if m.last < h.first else (h.last, m.first)
            if vseg == seg and verb_between(doc, *ends):
                continue
            if vs.in_question and "?" not in doc.sentence_text(sent):
                continue
            if vs.needs and not any(
                segs[n.first] == vseg for n in _lex(rule, f"n:{set_name}", vs.needs).find(doc)
            ):
                continue
            if g.use_blockers and p.blockers and _towards(rule, p, doc, m.first):
                continue
            return True
    return False


def _towards(rule: Rule, p: GroupsParams, doc: Doc, verb: int) -> bool:
    """The request is addressed to a company place («введите в приложении», «назовите курьеру»):
    the customer's own step in the company's flow, not a hand-over. The place counts from the
    verb to its segment's end, or before it back to the nearest «и» or comma."""
    segs, toks = segments(doc), doc.tokens
    for m in _lex(rule, "blockers", p.blockers).find(doc):
        if segs[m.first] != segs[verb]:
            continue
        if m.first > verb:
            return True
        between = doc.text[toks[m.last].end : toks[verb].start]
        words = {t.norm for t in toks[m.last + 1 : verb]}
        if "," not in between and "и" not in words:
            return True
    return False


def _fires(rule: Rule, p: GroupsParams, c: _Compiled, doc: Doc) -> list[Hit]:
    """The group's hits in `doc` that hold every condition except licensing and `when`."""
    out = []
    name, g = c.name, c.group
    for h in _hits(c, doc):
        if not _grammar_ok(doc, g, h):
            continue
        if g.not_after and _after_word(rule, name, g, doc, h):
            continue
        if (g.with_ or g.with_patterns) and not (
            (
                g.with_
                and _in_scope(
                    doc,
                    g,
                    h,
                    _lex(rule, f"w:{name}", g.with_, any_order=g.with_any_order, window=g.window),
                )
            )
            or (g.with_patterns and _pattern_in_scope(rule, name, g, doc, h))
        ):
            continue
        if g.unless:
            sent = doc.tokens[h.first].sent
            if _lex(rule, f"u:{name}", g.unless).find(doc, sentences=[sent]):
                continue
        if g.request and not _request_holds(rule, p, g, doc, h):
            continue
        out.append(h)
    return out


def _sources(ctx: Context, which: list[Source]) -> Iterator[str]:
    c = ctx.case
    if "draft" in which and c.draft and ctx.compares_to_draft:
        yield c.draft
    if "facts" in which:
        yield from ctx.licensing_facts()  # a «fact» that instructs the model licenses nothing
    if "agent" in which:
        yield from c.agent_texts


def _licensed(rule: Rule, p: GroupsParams, c: _Compiled, ctx: Context, h: Hit) -> bool:
    g = c.group
    for text in _sources(ctx, g.licensed_by):
        doc = analyse(text)
        if g.license == "asked":
            if _fires(rule, p, c, doc):
                return True
        elif g.license == "subject":
            if _hits(c, doc):
                return True
        elif _mentions(doc, ctx.text[h.start : h.end], h):
            return True
    return False


def _mentions(doc: Doc, text: str, h: Hit) -> bool:
    """The source names the same thing: every word of the phrase, or the pattern's text."""
    if h.words is None:
        return _squash(text) in _squash(doc.text)
    return all(any(w.matches(t) for t in doc.tokens) for w in h.words)


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", fold(text))


def _echoed(rule: Rule, p: GroupsParams, ctx: Context, h: Hit) -> bool:
    """The reply names what the customer named («ваш заказ с ибупрофеном») and gives no advice
    in that clause (no request, no advice word): an echo, not a subject brought in."""
    text = ctx.text[h.start : h.end]
    if not any(_mentions(d, text, h) for d in ctx.situation.docs):
        return False
    doc = ctx.doc
    lo, hi = _clause(doc, h)
    if any(imperative_at(doc, i) for i in range(lo, hi + 1)):
        return False
    lexicons = (_lex(rule, "cues", p.cues, gap=0), _lex(rule, "advice", p.advice))
    return not any(lo <= m.first <= hi for lex in lexicons for m in lex.find(doc))


def _clause(doc: Doc, h: Hit) -> tuple[int, int]:
    """Token range around a hit up to the nearest comma or segment boundary on each side."""
    segs, toks = segments(doc), doc.tokens
    lo, hi = h.first, h.last
    while (
        lo > 0
        and segs[lo - 1] == segs[h.first]
        and "," not in doc.text[toks[lo - 1].end : toks[lo].start]
    ):
        lo -= 1
    while (
        hi + 1 < len(toks)
        and segs[hi + 1] == segs[h.first]
        and "," not in doc.text[toks[hi].end : toks[hi + 1].start]
    ):
        hi += 1
    return lo, hi


def check_groups(rule: Rule, ctx: Context) -> list[Violation]:
    plan = _plan(rule)
    p = plan.params
    if p.needs_draft and not ctx.compares_to_draft:
        return []
    doc = ctx.doc
    # Which groups can be in the text at all: those with every word of some phrase present, and
    # those with patterns when one of the rule's patterns matches. Usually none.
    possible = plan.probe.possible(doc)
    wanted = set(range(len(plan.groups))) if possible is None else {plan.owner[i] for i in possible}
    if any(rx.search(ctx.text) for rx in plan.patterns):
        wanted.update(plan.patterned)
    if not wanted:
        return []
    out: list[Violation] = []
    seen: set[tuple[str, int]] = set()
    spans: set[tuple[int, int]] = set()  # two groups of one rule on the same words: report once
    for index in sorted(wanted):
        c = plan.groups[index]
        name, g = c.name, c.group
        if g.needs_draft and not ctx.compares_to_draft:
            continue
        hits = _fires(rule, p, c, doc)
        if not hits:
            continue
        evidence = None
        if g.when:
            evidence = ctx.situation.flag(g.when)
            if not evidence:
                continue
        for h in hits:
            key = (name, ctx.doc.tokens[h.first].sent)
            if key in seen or (h.start, h.end) in spans:
                continue
            if g.licensed_by and _licensed(rule, p, c, ctx, h):
                continue
            if g.echo and _echoed(rule, p, ctx, h):
                continue
            seen.add(key)
            spans.add((h.start, h.end))
            why = evidence
            if why is None and p.evidence.get(name):
                why = p.evidence[name]
            elif why is None:
                why = doc.sentence_text(doc.tokens[h.first].sent).strip()
            out.append(violation(rule, ctx, h.start, h.end, evidence=why, **g.fields))
    return out
