"""The fault matrix: every provider failure ends in a safe, non-empty text that keeps the
draft's facts. Requests are counted at the scripted server, so "one layer owns retries" is
measured, not assumed."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from rewriter import Case, arewrite, rewrite
from rewriter.analysis.facts import LOSABLE, extract_facts, fact_keys
from rewriter.cli import main

from .conftest import EXAMPLES, Reply

MODEL = "openai/test-model"
GOOD = (
    "Здравствуйте, Максим! Ох, простите, что так вышло :( С 5-го числа изменились тарифы, но ваш "
    "безлимит они не затрагивают. Списание 99 рублей ошибочное — деньги вернутся в течение трёх "
    "рабочих дней."
)


@pytest.fixture
def tariff() -> Case:
    return Case.model_validate_json((EXAMPLES / "tariff-99.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch) -> None:
    monkeypatch.setattr("rewriter.model.loop.BACKOFF_BASE", 0.01)


def safe(result, case: Case) -> None:
    """The agent always gets a text that keeps every fact of the draft."""
    assert result.text.strip()
    wanted = {f.key for f in extract_facts(case.draft) if f.kind in LOSABLE}
    assert wanted <= fact_keys([result.text])
    assert not [v for v in result.violations if v.blocks]


def err(status: int, message: str = "scripted", **extra) -> Reply:
    return Reply(status=status, body=json.dumps({"error": {"message": message, **extra}}))


def test_500s_are_retried_twice_then_fall_back(server, tariff) -> None:
    server.say(err(500))
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5, max_attempts=1)
    assert len(server.requests) == 3  # one call + 2 retries, and nothing underneath retries
    assert result.source == "offline" and result.attempts == 3
    assert any("retry" in e and "500" in e for e in result.errors)
    safe(result, tariff)


def test_500_then_success(server, tariff) -> None:
    server.say(err(502), GOOD)
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5)
    assert result.source == "llm" and result.attempts == 2 and len(server.requests) == 2


def test_429_retry_after_is_honoured(server, tariff) -> None:
    server.say(Reply(status=429, body="{}", headers={"retry-after": "1"}), GOOD)
    t0 = time.monotonic()
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5)
    assert time.monotonic() - t0 >= 1.0
    assert result.source == "llm" and len(server.requests) == 2


def test_retry_after_past_the_deadline_falls_back_now(server, tariff) -> None:
    server.say(Reply(status=429, body="{}", headers={"retry-after": "120"}), GOOD)
    t0 = time.monotonic()
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=2, max_attempts=2)
    assert time.monotonic() - t0 < 1.5
    assert result.source == "offline" and len(server.requests) == 1
    assert any("deadline" in e for e in result.errors)
    safe(result, tariff)


def test_hang_longer_than_timeout(server, tariff) -> None:
    server.say(Reply(content=GOOD, delay=3))
    t0 = time.monotonic()
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=0.5, max_attempts=1, retries=0)
    assert time.monotonic() - t0 < 2.5
    assert result.source == "offline" and any("Timeout" in e for e in result.errors)
    safe(result, tariff)


def test_whole_rewrite_has_a_deadline(server, tariff) -> None:
    """timeout × max_attempts bounds everything, retries included."""
    server.say(Reply(content=GOOD, delay=3))
    t0 = time.monotonic()
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=0.4, max_attempts=2)
    assert time.monotonic() - t0 < 0.4 * 2 + 1.0
    assert result.source == "offline"


def test_non_json_body(server, tariff) -> None:
    server.say(Reply(status=200, body="<html>502 Bad Gateway</html>"))
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5, max_attempts=1)
    assert result.source == "offline" and result.errors
    assert len(server.requests) <= 3
    safe(result, tariff)


def test_empty_content_is_re_asked(server, tariff) -> None:
    server.say("", GOOD)
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5)
    assert result.source == "llm" and result.attempts == 2


def test_always_empty_falls_back(server, tariff) -> None:
    server.say("")
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5)
    assert result.source == "offline" and len(server.requests) == 3
    assert all("empty answer" in e for e in result.errors)
    safe(result, tariff)


def test_connection_refused(tariff) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    result = rewrite(tariff, MODEL, api_base=f"http://127.0.0.1:{port}/v1", timeout=2)
    assert result.source == "offline" and result.attempts == 3
    assert any("Connection" in e for e in result.errors)
    safe(result, tariff)


def test_truncated_answer(server, tariff) -> None:
    server.say(Reply(content="Здравствуйте, Максим! Списание", finish_reason="length"))
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5)
    assert result.source == "offline" and all("not finished (length)" in e for e in result.errors)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (
            err(
                400,
                "This model's maximum context length is 8192 tokens",
                code="context_length_exceeded",
            ),
            "context",
        ),
        (
            err(
                400,
                "Your request was rejected by our content policy",
                code="content_policy_violation",
            ),
            "refused",
        ),
        (err(401, "Incorrect API key provided"), "misconfigured"),
        (err(403, "Project does not have access"), "misconfigured"),
        (err(404, "The model does not exist"), "misconfigured"),
    ],
)
def test_not_retried(server, tariff, reply, kind) -> None:
    server.say(reply, GOOD)
    result = rewrite(tariff, MODEL, api_base=server.url, timeout=5)
    assert len(server.requests) == 1, "misconfiguration, refusals and overflows are not retried"
    assert result.source == "offline" and any(f": {kind}:" in e for e in result.errors)
    safe(result, tariff)


def test_misconfiguration_is_loud_in_the_cli(server, capsys) -> None:
    server.say(err(401, "Incorrect API key provided"))
    code = main(
        ["rewrite", str(EXAMPLES / "tariff-99.json"), "--model", MODEL, "--api-base", server.url]
    )
    out, errs = capsys.readouterr()
    assert code == 0 and out.strip()
    assert "h2h: error: model misconfigured" in errs


def test_fallback_model_takes_over(server, tariff) -> None:
    server.say(err(404, "no such model"), GOOD)
    result = rewrite(
        tariff, MODEL, api_base=server.url, timeout=5, fallback_models=["openai/backup-model"]
    )
    assert result.source == "llm" and result.model == "openai/backup-model"
    assert [r["model"] for r in server.requests] == ["test-model", "backup-model"]


def test_429_storm_across_50_concurrent_calls(server, tariff) -> None:
    server.say(*([Reply(status=429, body="{}", headers={"retry-after": "0"})] * 90), GOOD)

    async def many():
        return await asyncio.gather(
            *(arewrite(tariff, MODEL, api_base=server.url, timeout=10) for _ in range(50))
        )

    results = asyncio.run(many())
    assert len(results) == 50
    for r in results:
        safe(r, tariff)
    assert len(server.requests) <= 50 * 3 * 3  # bounded: calls × (1 + retries) × attempts
    assert sum(r.source == "llm" for r in results) >= 1
