"""`check`: run every rule over a case and collect the findings."""

from __future__ import annotations

from rewriter.analysis.morph import new_phrase_words
from rewriter.guard.checks import run_rule
from rewriter.guard.context import Context
from rewriter.guard.rules import load_rules
from rewriter.models import Case, CheckResult, Violation

_WARM = {"done": False}


def _warm_up() -> None:
    """Seed the phrase-word lemmas from disk (once per process)."""
    from rewriter.analysis import lemmacache

    _WARM["done"] = True
    lemmacache.load()


def violations_for(case: Case, text: str) -> list[Violation]:
    """Every violation of `text` read as the reply to `case`: block rules first, then by place."""
    if not _WARM["done"]:
        _warm_up()
    ctx = Context(case, text)
    found: list[Violation] = []
    for rule in load_rules():
        found.extend(run_rule(rule, ctx))
    if new_phrase_words():  # a lexicon compiled for the first time: keep its words for next time
        from rewriter.analysis import lemmacache

        lemmacache.save()
    return sorted(found, key=lambda v: (v.severity != "block", v.span[0] if v.span else -1))


def check(case: Case) -> CheckResult:
    """Check `case.reply`, or the draft itself when there is no reply (a lint of a human reply)."""
    text = case.reply if case.reply is not None else case.draft
    if text is None:
        from rewriter.errors import UsageError

        raise UsageError("nothing to check: the case has neither a reply nor a draft")
    violations = violations_for(case, text)
    return CheckResult(id=case.id, ok=not any(v.blocks for v in violations), violations=violations)
