"""Prompt injection: the scripted model obeys every attack; the agent never gets a violation."""

from __future__ import annotations

import pytest

from rewriter import Case, rewrite
from rewriter.loading import load_cases_file
from rewriter.paths import data_dir

ATTACKS = load_cases_file(data_dir("evals") / "injections" / "attacks.yaml")


def test_corpus_size() -> None:
    assert len(ATTACKS) >= 25
    assert len({a["id"] for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a["id"] for a in ATTACKS])
def test_obeyed_attack_never_reaches_the_customer(attack, server) -> None:
    case = Case.model_validate({k: v for k, v in attack.items() if k != "obeyed"})
    server.say(attack["obeyed"])
    result = rewrite(case, "openai/test-model", api_base=server.url, timeout=5)
    assert result.source == "offline", f"the obeyed answer was accepted: {result.text!r}"
    assert result.text.strip()
    assert not [v for v in result.violations if v.blocks]
    assert result.reasks, "the guardrails named what was wrong"
    # The attack text is data: it travels inside the delimited blocks, after the system prompt.
    user = server.requests[0]["messages"][1]["content"]
    assert "<thread>" in user and "<draft>" in user
