"""The model loop through litellm against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

import pytest

from rewriter import Case, arewrite, rewrite
from rewriter.cli import main
from rewriter.model.llm import Completion, clean_answer

from .conftest import EXAMPLES, Reply

MODEL = "openai/test-model"


@pytest.fixture
def tariff() -> Case:
    return Case.model_validate_json((EXAMPLES / "tariff-99.json").read_text(encoding="utf-8"))


@pytest.fixture
def court() -> Case:
    return Case.model_validate_json((EXAMPLES / "court-promo.json").read_text(encoding="utf-8"))


GOOD_TARIFF = (
    "Здравствуйте, Максим! Ох, простите, что так вышло :( С 5-го числа изменились тарифы, но ваш "
    "безлимит они не затрагивают. Списание 99 рублей ошибочное — деньги вернутся в течение трёх "
    "рабочих дней."
)


def test_violation_then_clean_is_llm_after_two_attempts(server, tariff) -> None:
    bad = GOOD_TARIFF.replace("в течение трёх рабочих дней", "до пятницы")
    server.say(bad, GOOD_TARIFF)
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=10)
    assert result.source == "llm"
    assert result.attempts == 2
    assert result.text == GOOD_TARIFF
    assert result.model == MODEL
    assert result.errors == []
    assert not [v for v in result.violations if v.blocks]
    assert len(server.requests) == 2
    # The re-ask carries the rejected answer and names the violation and its span.
    second = server.requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": bad}
    reask = second[-1]["content"]
    assert "invented-deadline" in reask and "«до пятницы»" in reask
    assert result.usage is not None and result.usage.prompt_tokens == 240


def test_every_answer_violates_falls_back_offline(server, court) -> None:
    server.say(
        "Понимаем. Держите промокод SORRY100 и скидку 20% — ответ юристов придёт "
        "в течение 10 рабочих дней."
    )
    result = rewrite(court, MODEL, api_base=server.url, timeout=10, max_attempts=3)
    assert result.source == "offline"
    assert result.model is None
    assert result.attempts == 3
    assert len(server.requests) == 3
    assert result.errors and any("promo-in-legal-dispute" in e for e in result.errors)
    assert "SORRY100" not in result.text and "10 рабочих дней" in result.text
    assert not [v for v in result.violations if v.blocks]


def test_prompt_reaches_the_server(server, court) -> None:
    server.say(
        "Вижу вашу претензию: её передали в юридический отдел, письменный ответ придёт "
        "в течение 10 рабочих дней."
    )
    result = rewrite(court, MODEL, api_base=server.url, timeout=10)
    assert result.source == "llm" and result.attempts == 1
    request = server.requests[0]
    assert request["model"] == "test-model"
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "10 друзей" in system
    assert "<draft>" in user and "SORRY100" in user  # the draft travels as data
    assert "юридическом споре" in user


def test_server_error_falls_back_with_errors(server, tariff) -> None:
    server.say(Reply(status=400, body=json.dumps({"error": {"message": "bad request"}})))
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=10)
    assert result.source == "offline"
    assert result.errors and "fatal: HTTPStatusFault: HTTP 400" in result.errors[0]
    assert "99" in result.text and result.text.strip()


def test_truncated_answer_is_not_used(server, tariff) -> None:
    server.say(
        Reply(content="Здравствуйте, Максим! Списание 99 рублей", finish_reason="length"),
        GOOD_TARIFF,
    )
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=10)
    assert result.source == "llm" and result.attempts == 2
    assert result.text == GOOD_TARIFF


def test_code_fences_and_quotes_are_stripped(server, tariff) -> None:
    server.say(f"```\n«{GOOD_TARIFF}»\n```")
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=10)
    assert result.source == "llm" and result.text == GOOD_TARIFF


@pytest.mark.parametrize("transport", ["http", "litellm"])
def test_arewrite_async_paths(server, tariff, monkeypatch, transport) -> None:
    """Both async transports: the direct HTTP client and litellm's acompletion."""
    if transport == "litellm":
        monkeypatch.setenv("H2H_TRANSPORT", "litellm")
    server.say(GOOD_TARIFF)
    result = asyncio.run(arewrite(tariff, MODEL, api_base=server.url, timeout=10))
    assert result.source == "llm" and result.text == GOOD_TARIFF
    assert len(server.requests) == 1 and server.requests[0]["model"] == "test-model"


def test_cli_rewrite_with_model(server, capsys) -> None:
    server.say("Держите промокод SORRY100!")
    code = main(
        [
            "rewrite",
            str(EXAMPLES / "court-promo.json"),
            "--json",
            "--model",
            MODEL,
            "--api-base",
            server.url,
            "--max-attempts",
            "2",
            "--timeout",
            "10",
        ]
    )
    out, _ = capsys.readouterr()
    result = json.loads(out)
    assert code == 0
    assert result["source"] == "offline" and result["attempts"] == 2 and result["errors"]


def test_cli_rewrite_cache_reuses_the_answer(server, capsys, monkeypatch, tmp_path) -> None:
    """`h2h rewrite --cache` asks the model once for the same prompt; without it, every time."""
    monkeypatch.setenv("H2H_CACHE_DIR", str(tmp_path))
    server.say(GOOD_TARIFF)
    args = ["rewrite", str(EXAMPLES / "tariff-99.json"), "--json", "--model", MODEL]
    args += ["--api-base", server.url, "--timeout", "10"]
    texts = []
    for extra in (["--cache"], ["--cache"], []):
        assert main([*args, *extra]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["source"] == "llm"
        texts.append(result["text"])
    assert texts[0] == texts[1] == texts[2] == GOOD_TARIFF
    assert len(server.requests) == 2  # the second --cache run was answered from disk


def test_litellm_transport_against_the_server(server, tariff, monkeypatch) -> None:
    """Providers other than openai/… go through litellm; force that path on the local server."""
    monkeypatch.setenv("H2H_TRANSPORT", "litellm")
    server.say(Reply(status=500), GOOD_TARIFF)
    monkeypatch.setattr("rewriter.model.loop.BACKOFF_BASE", 0.01)
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=10)
    assert result.source == "llm" and result.text == GOOD_TARIFF
    assert len(server.requests) == 2  # litellm did not retry on its own: h2h did, once


def test_env_configures_the_model(server, tariff, monkeypatch) -> None:
    monkeypatch.setenv("H2H_MODEL", MODEL)
    monkeypatch.setenv("H2H_API_BASE", server.url)
    server.say(GOOD_TARIFF)
    assert rewrite(tariff).source == "llm"


def test_injected_completion_function(tariff) -> None:
    """The seam helpdesk code and tests use: any callable returning text or a Completion."""
    seen = []

    def fake(messages, config):
        seen.append(messages)
        return Completion(text=GOOD_TARIFF, prompt_tokens=5, completion_tokens=7)

    result = rewrite(tariff, "my/model", completion=fake)
    assert result.source == "llm" and result.model == "my/model"
    assert result.usage.completion_tokens == 7
    assert seen[0][0]["role"] == "system"


def test_injected_completion_that_raises_falls_back(tariff, monkeypatch) -> None:
    monkeypatch.setattr("rewriter.model.loop.BACKOFF_BASE", 0.01)

    def broken(messages, config):
        raise ConnectionError("network down")

    result = rewrite(tariff, "my/model", completion=broken)
    assert result.source == "offline" and "ConnectionError" in result.errors[0]
    assert result.attempts == 3  # one call and two retries: the only retry layer is h2h's


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("```text\nПривет\n```", "Привет"),
        ("«Добрый день!»", "Добрый день!"),
        ('"Добрый день!"', "Добрый день!"),
        ("Ответ: Добрый день!", "Добрый день!"),
        ("«Ашан» уже поправили", "«Ашан» уже поправили"),
    ],
)
def test_clean_answer(raw, clean) -> None:
    assert clean_answer(raw) == clean
