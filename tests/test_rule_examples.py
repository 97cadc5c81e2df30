"""Every example of every rule file runs here: `fire` ones must raise the rule, `pass` ones not."""

from __future__ import annotations

import re

import pytest

from rewriter import check
from rewriter.guard.rules import SEVERITIES, load_rules
from rewriter.models import parse_case

RULES = load_rules()
SPEC_IDS = {
    "promo-in-legal-dispute",
    "invented-deadline",
    "invented-fact",
    "invented-promise",
    "lost-fact",
    "impossible-request",
    "tone-overshoot",
    "template-phrase",
    "capitalized-you",
    "flat-refusal",
    "meta-talk",
    "wrong-language",
    "not-a-reply",
}


def _params(kind: str) -> list:
    out = []
    for rule in RULES:
        examples = rule.examples.fire if kind == "fire" else rule.examples.pass_
        for i, ex in enumerate(examples):
            out.append(pytest.param(rule, ex, id=f"{rule.id}-{kind}-{i}"))
    return out


def test_one_file_per_spec_rule() -> None:
    assert {r.id for r in RULES} == SPEC_IDS
    for rule in RULES:
        assert rule.severity in SEVERITIES
        assert rule.examples.fire, f"{rule.id} has no example that must fire"
        assert rule.examples.pass_, f"{rule.id} has no example that must pass"


@pytest.mark.parametrize(("rule", "example"), _params("fire"))
def test_fires(rule, example) -> None:
    result = check(parse_case(example.case_data()))
    hits = [v for v in result.violations if v.rule == rule.id]
    assert hits, f"{rule.id} should fire on {example.reply!r}"
    for v in hits:
        assert v.severity == rule.severity
        assert re.search("[а-яё]{3}", v.message), "messages shown to agents are Russian"
        assert "{" not in v.message, f"unfilled placeholder in {v.message!r}"
        if v.span is not None:
            assert example.reply[v.span[0] : v.span[1]] == v.text
    if rule.severity == "block":
        assert result.ok is False


@pytest.mark.parametrize(("rule", "example"), _params("pass"))
def test_does_not_fire(rule, example) -> None:
    result = check(parse_case(example.case_data()))
    assert [v.text for v in result.violations if v.rule == rule.id] == []
