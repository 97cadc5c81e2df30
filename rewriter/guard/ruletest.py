"""A rule's examples, run: every `fire` example must raise the rule, every `pass` one must not.

One judge for the test suite (tests/test_rule_examples.py) and for a support lead's
`h2h rules --test ID`, so both say the same about a rule they have just edited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rewriter.guard.engine import check
from rewriter.guard.rules import Example, Rule
from rewriter.models import parse_case


@dataclass(frozen=True)
class Outcome:
    rule: str
    expect: Literal["fire", "pass"]
    index: int
    example: Example
    problem: str | None  # None: the example behaves as the file says

    @property
    def name(self) -> str:
        return f"{self.rule} {self.expect}[{self.index}]"


def run_examples(rule: Rule) -> list[Outcome]:
    """Every example of the rule, judged."""
    return [
        run_example(rule, expect, index)
        for expect, examples in (("fire", rule.examples.fire), ("pass", rule.examples.pass_))
        for index in range(len(examples))
    ]


def run_example(rule: Rule, expect: Literal["fire", "pass"], index: int) -> Outcome:
    example = (rule.examples.fire if expect == "fire" else rule.examples.pass_)[index]
    return Outcome(rule.id, expect, index, example, _judge(rule, expect, example))


def _judge(rule: Rule, expect: str, example: Example) -> str | None:
    case = parse_case(example.case_data(), where=f"{rule.id} {expect} example")
    result = check(case, grounded=example.grounded)
    hits = [v for v in result.violations if v.rule == rule.id]
    if expect == "pass":
        return f"fired on «{hits[0].text}»" if hits else None
    if not hits:
        return "did not fire"
    text = example.text
    for v in hits:
        if v.severity != rule.severity:
            return f"severity {v.severity}, the rule says {rule.severity}"
        if not re.search("[а-яё]{3}", v.message):
            return "the message is not in Russian (agents read it)"
        if "{" in v.message:
            return f"unfilled placeholder in the message: {v.message!r}"
        if v.span is not None and text[v.span[0] : v.span[1]] != v.text:
            return f"span {v.span} does not hold «{v.text}»"
    if rule.severity == "block" and result.ok:
        return "fired, yet the result is ok"
    return None
