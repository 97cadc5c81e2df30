"""Check kind `reply-form`: the text is a finished reply from the company to this customer.

It is not when it breaks off (a dangling end, an unclosed quote or bracket), says nothing for
the draft it rewrites («OK», a greeting alone, «null», a template placeholder), says the same
stretch twice, or speaks as the customer (role labels, a first-person complaint or question to
the company, a letter signed with the customer's name).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel, Field

from rewriter.analysis.claims import quoted_tokens
from rewriter.analysis.lexicon import grammar
from rewriter.analysis.replyform import (
    content_tokens,
    dangling_end,
    has_words,
    more_content_than,
    repeated_stretch,
    unbalanced,
    voice,
)
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.vocab import lexicon_from
from rewriter.guard.context import Context, LexiconValue, Params, compiled, violation
from rewriter.guard.rules import Rule
from rewriter.models import Violation


class VoiceParams(Params):
    you: list[str]
    we: list[str]
    me: list[str]
    openers: list[str]
    # question words that make a first-person sentence a question
    why: list[str] = Field(default_factory=list)
    # with an imperative: a demand on the company
    impatience: list[str] = Field(default_factory=list)
    min_score: float = 2.0
    # The customer's marks must outweigh the company's this many times over.
    ratio: float = 2.0
    # A grievance or a demand on the company, one mark each (`_grievances`).
    grievances: LexiconValue | None = None


class ReplyFormParams(Params):
    reasons: dict[str, str]
    dangling_words: list[str]
    clause_words: list[str]
    placeholders: list[str]
    empty_literals: list[str]
    filler: list[str]
    min_draft_content: int = 6
    max_content: int = 2
    repeat_words: int = 8
    role_label: str
    signoff: str
    # Words one of which a sign-off holds (checked before the pattern is run).
    signoff_words: list[str]
    voice: VoiceParams


PARAMS_SCHEMAS: dict[str, type[BaseModel]] = {"reply-form": ReplyFormParams}


_PLACEHOLDER_MARK = re.compile(r"[{\[<%]|lorem", re.IGNORECASE)
# The characters a _PLACEHOLDER_MARK match starts with: one scan of a character class is several
# times cheaper than the alternation, and most texts hold none of them.
_PLACEHOLDER_FIRST = re.compile(r"[{\[<%l]", re.IGNORECASE)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE)


def _sets(rule: Rule) -> dict[str, Any]:
    p = rule.params

    def build() -> dict[str, Any]:
        v = p["voice"]
        return {
            "dangling": frozenset(p["dangling_words"]),
            "clause": frozenset(p["clause_words"]),
            "empty": frozenset(w.lower() for w in p["empty_literals"]),
            "filler": frozenset(p["filler"]) | grammar("function_words"),
            "you": frozenset(v["you"]),
            "we": frozenset(v["we"]),
            "me": frozenset(v["me"]),
            # Any of them in the (lower-cased) tail, in one scan: before the pattern is run.
            "signoff_words": (
                re.compile("|".join(re.escape(w) for w in p["signoff_words"]))
                if p["signoff_words"]
                else None
            ),
            "me_keys": frozenset("=" + w for w in v["me"]),
            "openers": frozenset(v["openers"]),
            "why": frozenset(v.get("why", [])),
            "impatience": frozenset(v.get("impatience", [])),
        }

    return compiled(rule, "sets", build)


def check_reply_form(rule: Rule, ctx: Context) -> list[Violation]:
    p, text, doc = rule.params, ctx.text, ctx.doc
    sets = _sets(rule)
    reasons: dict[str, str] = p["reasons"]
    out: list[Violation] = []

    def add(span: tuple[int, int] | None, reason: str, evidence: str | None = None) -> None:
        s, e = span if span else (None, None)
        out.append(violation(rule, ctx, s, e, reason=reasons[reason], evidence=evidence))

    stripped = text.strip()
    if not has_words(stripped) or stripped.lower().strip(".!") in sets["empty"]:
        add((0, len(text)) if stripped else None, "empty")
        return out
    if _PLACEHOLDER_FIRST.search(text) and _PLACEHOLDER_MARK.search(text):
        rx = _regex("|".join(f"(?:{x})" for x in p["placeholders"]))
        for m in rx.finditer(text):
            add(m.span(), "placeholder")
        if out:
            return out
    draft = ctx.case.draft if ctx.case.draft and ctx.case.draft != text else None
    cut = unbalanced(text) or dangling_end(doc, sets["dangling"], sets["clause"], draft)
    if cut:
        add(cut, "cut")
    repeat = repeated_stretch(doc, p.get("repeat_words", 8))
    if repeat:
        add(repeat, "repeat")
    if draft is not None and not out and len(doc.tokens) <= 12:  # a long text says something
        names = _customer_names(ctx)
        if not more_content_than(doc, sets["filler"], names, p.get("max_content", 2)):
            wanted = content_tokens(analyse(draft), sets["filler"], names)
            if len(wanted) >= p.get("min_draft_content", 6):
                add((0, len(text.rstrip())), "little")
    label = _regex(p["role_label"]).search(text) if ":" in text else None
    if label:
        add(label.span(), "customer_side")
    else:
        _customer_voice(rule, sets, ctx, doc, add)
    return out


def _customer_names(ctx: Context) -> frozenset[str]:
    names = {part.lower() for m in ctx.case.thread if m.name for part in m.name.split()}
    return frozenset(names)


def _customer_voice(rule: Rule, sets: dict[str, Any], ctx: Context, doc: Doc, add) -> None:
    p = rule.params
    tail = ctx.text[-80:]
    words = sets["signoff_words"]
    signs = words is not None and words.search(tail.lower()) is not None
    m = _regex(p["signoff"]).search(tail) if signs else None
    if m and (
        m.group("name").lower() in _customer_names(ctx) or _signs_customer(ctx, m.group("name"))
    ):
        add(
            (len(ctx.text) - len(tail) + m.start(), len(ctx.text) - len(tail) + m.end()),
            "customer_side",
        )
        return
    v = p["voice"]
    first = doc.tokens[0].norm if doc.tokens else ""
    grieved = _grievances(rule, doc)
    if (
        "?" not in ctx.text
        and first not in sets["openers"]
        and doc.keys.isdisjoint(sets["me_keys"])
        and not grieved
    ):
        return  # the common case: no question, no «я», no «ок, спасибо» — the company speaks
    found = voice(
        doc, sets["you"], sets["we"], sets["me"], sets["openers"], sets["why"], sets["impatience"]
    )
    score = found.customer + len(grieved)
    if score >= v.get("min_score", 2.0) and score > v.get("ratio", 2.0) * found.company:
        add(found.evidence or grieved[0], "customer_side")


def _grievances(rule: Rule, doc: Doc) -> list[tuple[int, int]]:
    """Sentences that complain or demand as the customer does — «так и не пришёл», «до сих
    пор нет», «Верните деньги!» (voice.grievances) — one mark each. Not in quotes (the agent
    citing the customer), and not in a question, which `voice` already counts."""
    lexicon = compiled(
        rule, "grievances", lambda: lexicon_from(rule.params["voice"].get("grievances"))
    )
    hits = lexicon.find(doc) if lexicon else []
    if not hits:
        return []
    quoted = quoted_tokens(doc)
    out: dict[int, tuple[int, int]] = {}
    for m in hits:
        sent = doc.tokens[m.first].sent
        span = doc.sentence_span(sent)
        if m.first in quoted or doc.text[span[0] : span[1]].rstrip().endswith("?"):
            continue
        out.setdefault(sent, span)
    return list(out.values())


def _signs_customer(ctx: Context, name: str) -> bool:
    """The name under the letter is one the customer signed with or introduced themselves by."""
    low = name.lower()
    return any(
        re.search(rf"\b{re.escape(low)}\b", t.lower()) is not None for t in ctx.case.customer_texts
    ) and not any(low in t.lower() for t in ctx.case.agent_texts)
