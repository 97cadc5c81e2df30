"""A configuration that cannot work fails before the first request: one line, exit 2, no retry.

Requests are counted where they would go: at the scripted server (set as the provider's base URL
too, through the variables the SDKs read) and at both transports, so "nothing was sent" is
measured, not assumed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rewriter import Case, rewrite
from rewriter.cli import main
from rewriter.errors import UsageError
from rewriter.model import llm
from rewriter.model.providers import known_providers, provider_of, validate

from .conftest import EXAMPLES

TARIFF = str(EXAMPLES / "tariff-99.json")
GOOD_TARIFF = (
    "Здравствуйте, Максим! Ох, простите, что так вышло :( С 5-го числа изменились тарифы, но ваш "
    "безлимит они не затрагивают. Списание 99 рублей ошибочное — деньги вернутся в течение трёх "
    "рабочих дней."
)


@pytest.fixture
def sent(server, monkeypatch) -> list[str]:
    """Every transport call, by model; any provider SDK that reads a base URL from the
    environment is pointed at the scripted server as well."""
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    for var in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE"):
        monkeypatch.setenv(var, server.url)
    calls: list[str] = []
    real_direct, real_litellm = llm.openai_completion, llm.litellm_completion

    def direct(messages, config):
        calls.append(config.model)
        return real_direct(messages, config)

    def through_litellm(messages, config):
        calls.append(config.model)
        return real_litellm(messages, config)

    monkeypatch.setattr(llm, "openai_completion", direct)
    monkeypatch.setattr(llm, "litellm_completion", through_litellm)
    return calls


def _one_line_exit_2(args: list[str], capsys) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("h2h: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--model", "gpt-4o-mini"], "OPENAI_API_KEY"),  # a bare id litellm knows as OpenAI's
        (["--model", "openai/gpt-4o-mini"], "OPENAI_API_KEY"),
        (["--model", "anthropic/claude-3-5-haiku-latest"], "ANTHROPIC_API_KEY"),
        (["--model", "gemini/gemini-2.0-flash"], "GEMINI_API_KEY"),
        (["--model", "nosuchprovider/some-model"], "unknown provider 'nosuchprovider'"),
        (["--model", "my-local-model", "--api-base", "{url}"], "names no provider"),
        (["--model", "openai/test-model", "--api-base", "{bare}"], "has no scheme"),
        (["--model", "openai/test-model", "--api-base", "ftp://127.0.0.1/v1"], "http or https"),
        (
            ["--model", "openai/test-model", "--api-base", "{url}", "--fallback-model", "x/y"],
            "unknown provider 'x'",
        ),
    ],
)
def test_misconfiguration_is_one_line_exit_2_and_sends_nothing(
    extra, says, server, sent, capsys
) -> None:
    bare = server.url.removeprefix("http://")
    args = [a.format(url=server.url, bare=bare) for a in extra]
    line = _one_line_exit_2(["rewrite", TARIFF, *args], capsys)
    assert says in line
    assert sent == [] and server.requests == []


def test_env_configuration_is_validated_too(server, sent, monkeypatch, capsys) -> None:
    monkeypatch.setenv("H2H_MODEL", "openai/test-model")
    monkeypatch.setenv("H2H_API_BASE", server.url.removeprefix("http://"))
    assert "has no scheme" in _one_line_exit_2(["rewrite", TARIFF], capsys)
    monkeypatch.delenv("H2H_API_BASE")
    assert "OPENAI_API_KEY" in _one_line_exit_2(["rewrite", TARIFF], capsys)
    assert sent == [] and server.requests == []


def test_eval_stops_before_the_first_case(server, sent, tmp_path, capsys) -> None:
    case = {"id": "c1", "draft": "Карта будет готова 15 марта.", "golden": "Карта — 15 марта."}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    assert "OPENAI_API_KEY" in _one_line_exit_2(
        ["eval", "--cases", str(path), "--model", "gpt-4o-mini"], capsys
    )
    judge = ["--model", "openai/test-model", "--api-base", server.url, "--judge", "judge-x/y"]
    assert "unknown provider" in _one_line_exit_2(["eval", "--cases", str(path), *judge], capsys)
    assert sent == [] and server.requests == []


def test_the_library_raises_a_usage_error(sent) -> None:
    case = Case.model_validate_json((EXAMPLES / "tariff-99.json").read_text(encoding="utf-8"))
    with pytest.raises(UsageError, match="OPENAI_API_KEY"):
        rewrite(case, "gpt-4o-mini")
    assert sent == []


def test_local_servers_and_keys_pass(monkeypatch) -> None:
    validate("openai/test-model", "http://127.0.0.1:8000/v1", None)  # local: no key needed
    validate("ollama/llama3", None, None)
    validate("ollama_chat/qwen2.5", None, None)
    validate("anthropic/claude-3-5-haiku-latest", None, "from-H2H_API_KEY")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    validate("gpt-4o-mini", None, None)
    validate("openai/gpt-4o-mini", None, None)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    validate("anthropic/claude-3-5-haiku-latest", None, None)


def test_providers_are_read_from_litellm_as_data() -> None:
    """The provider names come from litellm's source and price map, not from a list of ours."""
    providers = known_providers()
    assert {"openai", "anthropic", "ollama", "bedrock", "vertex_ai", "groq"} <= providers
    assert provider_of("gpt-4o-mini") == "openai"
    assert provider_of("openrouter/anthropic/claude-3.5-sonnet") == "openrouter"
    assert provider_of("no-such-thing") is None


def test_validation_never_imports_litellm_or_openai() -> None:
    probe = (
        "import sys\n"
        "from rewriter.cli import main\n"
        f"code = main(['rewrite', {TARIFF!r}, '--model', 'anthropic/claude-3-5-haiku-latest'])\n"
        "heavy = [m for m in ('litellm', 'openai', 'httpx') if m in sys.modules]\n"
        "print('RESULT', code, heavy)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if "API_KEY" not in k}
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env
    )
    assert "RESULT 2 []" in run.stdout, run.stdout + run.stderr
    assert "ANTHROPIC_API_KEY" in run.stderr


# --- --strict ------------------------------------------------------------------------------------


def _strict(server, capsys, *extra: str) -> tuple[int, str]:
    code = main(
        ["rewrite", TARIFF, "--model", "openai/test-model", "--api-base", server.url, *extra]
    )
    _, err = capsys.readouterr()
    return code, err


def test_strict_fails_a_fallback(server, capsys) -> None:
    server.say(GOOD_TARIFF.replace("в течение трёх рабочих дней", "до пятницы"))  # always bad
    code, _ = _strict(server, capsys, "--max-attempts", "2")
    assert code == 0, "without --strict the safe fallback is a success"
    code, err = _strict(server, capsys, "--max-attempts", "2", "--strict")
    assert code == 1
    assert "h2h: strict: the text is the offline fallback" in err


def test_strict_passes_the_models_own_answer(server, capsys) -> None:
    server.say(GOOD_TARIFF)
    code, err = _strict(server, capsys, "--strict")
    assert code == 0 and "strict" not in err


def test_strict_without_a_model_is_the_offline_engine_not_a_fallback(capsys) -> None:
    assert main(["rewrite", TARIFF, "--strict"]) == 0
    capsys.readouterr()


def test_a_bare_openai_id_with_a_local_server_needs_no_key(server, sent) -> None:
    """`gpt-4o-mini --api-base http://127.0.0.1…` goes through litellm with a placeholder key."""
    server.say(GOOD_TARIFF)
    case = Case.model_validate_json((EXAMPLES / "tariff-99.json").read_text(encoding="utf-8"))
    result = rewrite(case, "gpt-4o-mini", api_base=server.url, timeout=10)
    assert result.source == "llm" and result.errors == []
    assert sent == ["gpt-4o-mini"] and [r["model"] for r in server.requests] == ["gpt-4o-mini"]
