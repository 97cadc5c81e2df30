"""`check`: run every rule over a case and collect the findings."""

from __future__ import annotations

from pydantic import ValidationError

from rewriter.analysis.morph import new_phrase_words
from rewriter.errors import RuleFileError, UsageError
from rewriter.guard.checks import PARAMS_SCHEMAS
from rewriter.guard.context import Context, run_rule
from rewriter.guard.rules import (
    Rule,
    is_validated,
    load_rules,
    mark_validated,
    rule_file_error,
)
from rewriter.models import Case, CheckResult, Violation
from rewriter.paths import lexicon_data, rule_dirs

_WARM = {"done": False}
_VALIDATED: dict[int, tuple[Rule, ...]] = {}


def _warm_up() -> None:
    """Seed the phrase-word lemmas from disk (once per process)."""
    from rewriter.analysis import lemmacache

    _WARM["done"] = True
    lemmacache.load()


def active_rules() -> tuple[Rule, ...]:
    """The rules in use (shipped and a team's), every file validated down to its kind's params
    the first time they are loaded: a mistake in any rule file stops every command with one line
    naming the file and the key, before a single case is read."""
    rules = load_rules()
    if _VALIDATED.get(0) is not rules:
        if not is_validated(rules):  # the files changed since they last passed (or never did)
            validate(rules)
            mark_validated(rules, rule_dirs())
        _VALIDATED[0] = rules
    return rules


def validate(rules: tuple[Rule, ...]) -> None:
    """Each rule's params against its kind's schema (PARAMS_SCHEMAS), and a team's lexicons."""
    ids = frozenset(r.id for r in rules)
    for rule in rules:
        where = rule.path or rule.id
        schema = PARAMS_SCHEMAS.get(rule.kind)
        if schema is None:
            raise RuleFileError(f"{where}: kind: {rule.kind!r} has no params schema")
        try:
            schema.model_validate(rule.params, context={"rule_ids": ids})
        except ValidationError as exc:
            raise rule_file_error(where, exc, "params") from None
        if rule.fix and rule.fix.action == "replace" and "lexicon" not in rule.params:
            # The wordings live beside the phrases: `{phrase: …, replace: …}` in params.lexicon.
            raise RuleFileError(f"{where}: fix.action: replace needs params.lexicon")
    _validate_team_lexicons()


def _validate_team_lexicons() -> None:
    dirs = rule_dirs()
    if len(dirs) == 1:
        return  # the shipped lexicons: checked by the test suite, not at every start
    shipped = {p.stem for p in (dirs[0] / "lexicons").glob("*.yaml")}
    for folder in dirs[1:]:
        for path in sorted((folder / "lexicons").glob("*.yaml")):
            if path.stem not in shipped:
                known = ", ".join(sorted(shipped))
                raise RuleFileError(f"{path}: no shipped lexicon of this name ({known})")
            lexicon_data(path.stem)  # keys and shapes against the shipped file


def _merge_same_rule(found: list[Violation]) -> list[Violation]:
    """One violation per offending phrase per rule: of spans of one rule that overlap, the
    longest stays (two lexicon phrases over the same words are one finding)."""
    kept: list[Violation] = []
    for v in sorted(found, key=lambda v: -(v.span[1] - v.span[0]) if v.span else 0):
        if v.span is None or not any(
            k.rule == v.rule and k.span and k.span[0] < v.span[1] and v.span[0] < k.span[1]
            for k in kept
        ):
            kept.append(v)
    return kept


def violations_for(case: Case, text: str, *, grounded: bool = False) -> list[Violation]:
    """Every violation of `text` read as the reply to `case`: block rules first, then by place."""
    if not _WARM["done"]:
        _warm_up()
    ctx = Context(case, text, grounded=grounded)
    found: list[Violation] = []
    for rule in active_rules():
        hits = run_rule(rule, ctx)
        found.extend(_merge_same_rule(hits) if len(hits) > 1 else hits)
    if new_phrase_words():  # a lexicon compiled for the first time: keep its words for next time
        from rewriter.analysis import lemmacache

        lemmacache.save()
    return sorted(found, key=lambda v: (v.severity != "block", v.span[0] if v.span else -1))


def check(case: Case, grounded: bool = False) -> CheckResult:
    """Check `case.reply`, or the draft itself when there is no reply (a lint of a human reply).

    `grounded=True` holds the checked text to the facts and the thread alone: a deadline, amount
    or promise they do not state is invented even in an agent's own draft (the draft is never a
    source of its own claims)."""
    text = case.reply if case.reply is not None else case.draft
    if text is None:
        raise UsageError("nothing to check: the case has neither a reply nor a draft")
    if not text.strip():
        which = "reply" if case.reply is not None else "draft"
        raise UsageError(f"nothing to check: the {which} is blank")
    violations = violations_for(case, text, grounded=grounded)
    return CheckResult(id=case.id, ok=not any(v.blocks for v in violations), violations=violations)
