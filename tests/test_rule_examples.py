"""Every example of every rule file runs here: `fire` ones must raise the rule, `pass` ones not.

The rules are read from the folder, so a new rule file is tested as soon as it exists, and no
count or list of rules is asserted here. One rule on its own: `h2h rules --test ID`, or
`pytest tests/test_rule_examples.py -k ID` (test ids are «ID-fire-N» / «ID-pass-N»).
"""

from __future__ import annotations

import pytest

from rewriter.guard.rules import SEVERITIES, load_rules
from rewriter.guard.ruletest import run_example

RULES = load_rules()
# The ten rules SPEC §3 names must exist; others may be added beside them.
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
    "asks-for-secret",
    "disrespect",
    "off-topic",
    "meaning-flip",
    "lost-substance",
    "meta-talk",
    "wrong-language",
    "not-a-reply",
}


def _params(kind: str) -> list:
    out = []
    for rule in RULES:
        examples = rule.examples.fire if kind == "fire" else rule.examples.pass_
        out += [pytest.param(rule, i, id=f"{rule.id}-{kind}-{i}") for i in range(len(examples))]
    return out


def test_the_spec_rules_are_there() -> None:
    assert {r.id for r in RULES} >= SPEC_IDS


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_has_both_kinds_of_example(rule) -> None:
    assert rule.severity in SEVERITIES
    assert rule.examples.fire, f"{rule.id} has no example that must fire"
    assert rule.examples.pass_, f"{rule.id} has no example that must pass"


@pytest.mark.parametrize(("rule", "index"), _params("fire"))
def test_fires(rule, index) -> None:
    outcome = run_example(rule, "fire", index)
    assert outcome.problem is None, f"{outcome.name}: {outcome.problem}: {outcome.example.text!r}"


@pytest.mark.parametrize(("rule", "index"), _params("pass"))
def test_does_not_fire(rule, index) -> None:
    outcome = run_example(rule, "pass", index)
    assert outcome.problem is None, f"{outcome.name}: {outcome.problem}: {outcome.example.text!r}"
