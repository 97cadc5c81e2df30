"""The offline engine: the draft with every safe fix applied. No model, no network, no key."""

from __future__ import annotations

from rewriter.guard.context import Context
from rewriter.guard.engine import violations_for
from rewriter.guard.fixes import apply_edits, edits_for, join_bare_address, only_address
from rewriter.guard.rules import rules_by_id
from rewriter.models import Case, Violation

MAX_PASSES = 3
# Kinds that compare the text with its draft: the draft itself never breaks them.
_UNFAITHFUL = frozenset({"lost", "coverage", "contradiction"})


def offline_rewrite(case: Case) -> tuple[str, list[Violation]]:
    """Return the fixed text and the violations that still hold in it.

    Fixes are applied in passes (a fix can reveal another: dropping a canned greeting leaves a
    sentence start whose «Вы» is now fine). The result is checked as a reply to the case, so
    lost-fact and invented-* compare it to the draft: a fix that lost a fact would show.
    """
    draft = case.draft or ""
    text = draft
    rules = rules_by_id()
    for _ in range(MAX_PASSES):
        ctx = Context(case.model_copy(update={"reply": text}), text)
        found = violations_for(ctx.case, text)
        edits = edits_for(rules, ctx, found)
        if not edits:
            break
        fixed = apply_edits(text, edits)
        if not fixed.strip() or fixed == text:
            break
        text = fixed
    if text != draft:  # a name a fix left alone opens the next sentence
        text = join_bare_address(text, case.customer_name)
    final_case = case.model_copy(update={"reply": text})
    remaining = violations_for(final_case, text)
    if any(rules[v.rule].kind in _UNFAITHFUL for v in remaining if v.rule in rules) or (
        text != draft and only_address(text, case.customer_name)
    ):
        # A fix must never lose a fact, a point of the draft or its meaning, nor leave only
        # «Здравствуйте, Ольга!» to send: then the draft is the safe answer, with what still
        # holds in it for a person to fix.
        text = draft
        remaining = violations_for(case.model_copy(update={"reply": draft}), draft)
    return text, remaining
