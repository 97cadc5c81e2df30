"""The CLI: exit codes 0/1/2, stdin, --json, --jsonl, and one clean line for every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewriter.cli import main
from rewriter.guard.rules import load_rules
from rewriter.models import MAX_MESSAGES, MAX_TEXT

from .conftest import EXAMPLES

CLEAN_REPLY = {
    "thread": [{"author": "customer", "text": "Здравствуйте! Где мой заказ?"}],
    "draft": "Заказ в пути.",
    "reply": "Заказ уже в пути.",
}
BLOCKED_REPLY = {
    "thread": [{"author": "customer", "text": "Я подаю на вас в суд."}],
    "reply": "Держите промокод на 100 рублей.",
}


def run(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    stdin: str | bytes | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        data = stdin.encode() if isinstance(stdin, str) else stdin
        import io

        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data: object, name: str = "case.json") -> str:
    p = tmp_path / name
    p.write_text(
        data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8"
    )
    return str(p)


def test_rewrite_example_offline(capsys) -> None:
    code, out, err = run(["rewrite", str(EXAMPLES / "tariff-99.json")], capsys)
    assert code == 0 and err == ""
    assert "99" in out and "3 рабочих дней" in out
    assert "уважаемый клиент" not in out.lower()
    assert "Спасибо за обращение" not in out
    assert "Ваш" not in out  # lower-cased mid-sentence


def test_rewrite_json_shape(capsys) -> None:
    code, out, _ = run(["rewrite", str(EXAMPLES / "court-promo.json"), "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert set(result) >= {"text", "source", "model", "attempts", "violations", "errors"}
    assert result["source"] == "offline" and result["model"] is None and result["attempts"] == 0
    assert "SORRY100" not in result["text"] and "промокод" not in result["text"].lower()
    assert "10 рабочих дней" in result["text"]


def test_rewrite_exit_1_when_a_block_violation_cannot_be_fixed(tmp_path, capsys) -> None:
    case = {
        "thread": [{"author": "customer", "text": "Здравствуйте, подскажите тариф."}],
        "draft": "Смотри, тариф меняется в твоих настройках.",
    }
    code, out, err = run(["rewrite", write(tmp_path, case)], capsys)
    assert code == 1
    assert out.strip()  # the text is still printed: the agent never loses the draft
    assert "tone-overshoot" in err


def test_check_exit_codes(tmp_path, capsys) -> None:
    assert run(["check", write(tmp_path, CLEAN_REPLY)], capsys)[0] == 0
    code, out, _ = run(["check", write(tmp_path, BLOCKED_REPLY), "--json"], capsys)
    assert code == 1
    result = json.loads(out)
    assert result["ok"] is False
    v = result["violations"][0]
    assert set(v) >= {"rule", "severity", "message", "span", "text"}
    assert v["rule"] == "promo-in-legal-dispute"


def test_check_warn_only_is_exit_0(tmp_path, capsys) -> None:
    code, out, _ = run(
        ["check", write(tmp_path, {"draft": "Спасибо за обращение! Проверим."})], capsys
    )
    assert code == 0
    assert "template-phrase" in out


def test_check_stdin(capsys, monkeypatch) -> None:
    code, out, _ = run(["check", "-", "--json"], capsys, json.dumps(BLOCKED_REPLY), monkeypatch)
    assert code == 1 and json.loads(out)["ok"] is False


def test_check_yaml(tmp_path, capsys) -> None:
    path = write(tmp_path, "draft: Уточняю информацию.\n", "case.yaml")
    code, out, _ = run(["check", path, "--json"], capsys)
    assert code == 0
    assert json.loads(out)["violations"][0]["rule"] == "template-phrase"


def test_check_jsonl_keeps_order_and_reports_bad_lines(tmp_path, capsys) -> None:
    lines = [
        json.dumps({**CLEAN_REPLY, "id": "a"}),
        json.dumps({**BLOCKED_REPLY, "id": "b"}),
        "{not json",
        json.dumps({"id": "d", "thread": [{"author": "bot", "text": "x"}], "draft": "x"}),
    ]
    path = write(tmp_path, "\n".join(lines) + "\n", "cases.jsonl")
    code, out, err = run(["check", "--jsonl", path], capsys)
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in results] == ["a", "b", None, "d"]
    assert [r["ok"] for r in results] == [True, False, False, False]
    assert "error" in results[2] and "error" in results[3]
    assert code == 2
    assert "Traceback" not in err


def test_check_jsonl_all_good_is_0(tmp_path, capsys) -> None:
    path = write(tmp_path, json.dumps(CLEAN_REPLY) + "\n", "cases.jsonl")
    assert run(["check", "--jsonl", path], capsys)[0] == 0


def test_rules_lists_every_rule(capsys) -> None:
    code, out, _ = run(["rules"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == len(load_rules())
    assert lines[0].split()[1] == "block"
    assert any(line.startswith("capitalized-you") and " warn " in line for line in lines)


def test_version(capsys) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("h2h ")


def test_prompt_prints_messages(capsys) -> None:
    code, out, _ = run(["prompt", str(EXAMPLES / "court-promo.json")], capsys)
    assert code == 0
    assert "----- system (" in out and "----- user (" in out and "tokens in all" in out
    assert "юридическом споре" in out  # the situation line for this thread


BAD_INPUTS = {
    "empty file": ("", "empty"),
    "invalid json": ('{"thread": [', "invalid JSON"),
    "wrong type": ('{"thread": "hello", "draft": "x"}', "thread"),
    "unknown author": ('{"thread": [{"author": "bot", "text": "x"}], "draft": "x"}', "author"),
    "not an object": ("[1, 2]", "expected a JSON object"),
    "over-limit text": (json.dumps({"draft": "а" * (MAX_TEXT + 1)}), "limit"),
    "too many messages": (
        json.dumps(
            {"draft": "x", "thread": [{"author": "customer", "text": "x"}] * (MAX_MESSAGES + 1)}
        ),
        "limit",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["rewrite", "check"])
def test_bad_input_is_one_line_exit_2(name, command, tmp_path, capsys) -> None:
    content, expected = BAD_INPUTS[name]
    code, out, err = run([command, write(tmp_path, content)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err
    assert "Traceback" not in err


def test_blank_draft_is_usage_error(tmp_path, capsys) -> None:
    code, _, err = run(["rewrite", write(tmp_path, {"draft": "   ", "thread": []})], capsys)
    assert code == 2 and "draft" in err and len(err.strip().splitlines()) == 1


def test_invalid_utf8(tmp_path, capsys) -> None:
    p = tmp_path / "bad.json"
    p.write_bytes(b'{"draft": "\xff\xfe"}')
    code, _, err = run(["check", str(p)], capsys)
    assert code == 2 and "UTF-8" in err


def test_missing_file_and_bad_option(capsys) -> None:
    code, _, err = run(["check", "/nonexistent/case.json"], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = run(["rewrite", "x.json", "--max-attempts", "many"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run(["check"], capsys)
    assert code == 2 and "--jsonl" in err


@pytest.mark.slow
def test_subprocess_exit_codes_and_stdin(tmp_path) -> None:
    """The installed console script, as a person runs it."""
    exe = [sys.executable, "-m", "rewriter.cli"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    ok = subprocess.run(
        [*exe, "rewrite", str(EXAMPLES / "tariff-99.json")], capture_output=True, text=True, env=env
    )
    assert ok.returncode == 0 and "99" in ok.stdout and ok.stderr == ""
    blocked = subprocess.run(
        [*exe, "check", "-", "--json"],
        input=json.dumps(BLOCKED_REPLY),
        capture_output=True,
        text=True,
        env=env,
    )
    assert blocked.returncode == 1 and json.loads(blocked.stdout)["ok"] is False
    bad = subprocess.run(
        [*exe, "check", "-"], input="{oops", capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr
