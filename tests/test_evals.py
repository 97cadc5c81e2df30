"""Golden cases: every golden reply passes every block rule; the eval runs and reports."""

from __future__ import annotations

import json

import pytest

from rewriter import evaluate
from rewriter.cli import main
from rewriter.evals.evaluate import load_eval_cases
from rewriter.guard.engine import violations_for

from .conftest import Reply

CASES = load_eval_cases()
SEEDS = {
    "000_91a5fcf5cca8dd2c.txt",
    "001_971593975f23a09e.txt",
    "002_43d4e58f13ea2b83.txt",
    "003_83dfd3440f2002e4.txt",
    "004_acada59f6e6b0f93.txt",
}


def test_golden_set_covers_the_seeds() -> None:
    assert len(CASES) >= 30
    assert {raw["seed"] for _, raw in CASES} == SEEDS
    assert len({c.id for c, _ in CASES}) == len(CASES), "case ids are unique"
    for _, raw in CASES:
        assert raw.get("golden"), raw.get("id")


@pytest.mark.parametrize(("case", "raw"), CASES, ids=[c.id for c, _ in CASES])
def test_golden_passes_every_block_rule(case, raw) -> None:
    golden = raw["golden"]
    blocks = [
        v for v in violations_for(case.model_copy(update={"reply": golden}), golden) if v.blocks
    ]
    assert blocks == [], [(v.rule, v.text) for v in blocks]


def test_offline_eval_baseline(tmp_path) -> None:
    report = evaluate()
    s = report.summary
    assert s["cases"] == len(CASES)
    assert s["golden_block_violations"] == 0
    assert s["facts_kept"] == 1.0  # the offline engine never loses a fact
    assert s["pass_rate"] >= 0.9
    for c in report.cases:
        assert c.text.strip() and c.source == "offline"


def test_eval_cli_writes_reports(tmp_path, capsys) -> None:
    code = main(["eval", "--out", str(tmp_path)])
    out, _ = capsys.readouterr()
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert set(data["summary"]) >= {"cases", "passed", "pass_rate", "wall_s", "model"}
    assert len(data["cases"]) == len(CASES)
    assert {"id", "passed", "violations", "latency_s"} <= set(data["cases"][0])
    assert (tmp_path / "report.md").exists()
    assert code == (0 if data["summary"]["passed"] == len(CASES) else 1)
    assert "passed" in out


def _one_case_file(tmp_path, **overrides):
    """A one-case JSONL file (a card question by default) for runs against the scripted server."""
    case = {
        "id": "c1",
        "seed": "000_91a5fcf5cca8dd2c.txt",
        "thread": [{"author": "customer", "text": "Когда придёт карта?"}],
        "draft": "Карта будет готова 15 марта.",
        "golden": "Карта будет готова 15 марта.",
        **overrides,
    }
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_eval_with_a_model_server(server, tmp_path, capsys) -> None:
    """One case file against the scripted server: the model answer is judged like any other."""
    path = _one_case_file(
        tmp_path,
        id="court",
        thread=[{"author": "customer", "text": "Подаю на вас в суд."}],
        draft="Держите промокод SORRY10. Ответ юристов придёт в течение 10 рабочих дней.",
        golden="Ответ юристов придёт в течение 10 рабочих дней.",
    )
    server.say(Reply(content="Ответ юристов придёт в течение 10 рабочих дней."))
    code = main(
        ["eval", "--cases", str(path), "--model", "openai/test-model", "--api-base", server.url]
    )
    out, _ = capsys.readouterr()
    assert code == 0 and "1/1 passed" in out


def test_eval_cache_makes_a_rerun_free(server, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("H2H_CACHE_DIR", str(tmp_path / "cache"))
    path = _one_case_file(tmp_path)
    server.say("Карта будет готова 15 марта — напишем, как только её отправят.")
    args = ["eval", "--cases", str(path), "--model", "openai/test-model", "--api-base", server.url]
    assert main(args) == 0
    assert len(server.requests) == 1
    assert main(args) == 0
    assert len(server.requests) == 1, "the second run came from the cache"
    assert main([*args, "--no-cache"]) == 0
    assert len(server.requests) == 2
    capsys.readouterr()


def test_repeat_reports_pass_hat_n_and_flaky_cases(server, tmp_path, capsys) -> None:
    good = "Карта будет готова 15 марта — напишем, когда отправим."
    bad = "Карта будет готова завтра."  # invented deadline and a lost date
    server.say(good, bad, bad, bad, bad, bad, bad)
    report = evaluate(
        _one_case_file(tmp_path),
        model="openai/test-model",
        api_base=server.url,
        repeat=2,
        cache=False,
    )
    case = report.cases[0]
    assert case.runs == 2 and case.passes == 1  # first run passed, the repeat fell back
    assert report.summary["pass_hat_n"] == 0.0 and report.summary["flaky"] == ["c1"]
    assert case.chrf_spread is not None and case.chrf_spread > 0


def _eval_with_judge(server, tmp_path, *extra: str) -> int:
    """`h2h eval` of one case against the scripted server, judged by it too; report in run/."""
    return main(
        [
            "eval",
            "--cases",
            str(_one_case_file(tmp_path)),
            "--model",
            "openai/test-model",
            "--api-base",
            server.url,
            "--judge",
            "openai/judge-model",
            "--no-cache",
            "--out",
            str(tmp_path / "run"),
            *extra,
        ]
    )


def test_judge_scores_each_principle(server, tmp_path, capsys) -> None:
    server.say(
        "Карта будет готова 15 марта — напишем, когда отправим.",
        "ten_friends: 5 — тепло и по делу\nmirroring: 4 — чуть длиннее, чем у клиента\n"
        "real_question: 5 — ответ на вопрос\nno_templates: 5 — без шаблонов\n"
        "honest_timelines: 5 — дата из черновика",
    )
    code = _eval_with_judge(server, tmp_path)
    out, _ = capsys.readouterr()
    assert code == 0
    assert "judge openai/judge-model: ten_friends 5.0, mirroring 4.0" in out
    judge_request = server.requests[1]
    assert judge_request["model"] == "judge-model"
    assert "<reply>" in judge_request["messages"][0]["content"]
    data = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    assert data["cases"][0]["judge"]["mirroring"] == {
        "score": 4,
        "reason": "чуть длиннее, чем у клиента",
    }
    assert "judge: ten_friends 5" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")


def test_parse_judgement_tolerates_markup() -> None:
    from rewriter.evals.evaluate import parse_judgement

    parsed = parse_judgement(
        "**ten_friends**: 4 — ok\n- mirroring: 5\nno_templates - 3\nwhatever: 2"
    )
    assert parsed["ten_friends"]["score"] == 4 and parsed["mirroring"] == {"score": 5, "reason": ""}
    assert "whatever" not in parsed


def test_a_teams_rubric_drives_the_judge_prompt_and_the_scores(server, tmp_path, capsys) -> None:
    """prompts/judge.yaml is the one list of principles: a team's copy (--prompts) changes what
    the judge is asked and what the report keeps."""
    team = tmp_path / "team-prompts"
    team.mkdir()
    (team / "judge.yaml").write_text(
        "principles:\n"
        "  - id: ten_friends\n    text: по-дружески, но с уважением\n"
        "  - id: brevity\n    text: коротко, без лишних слов\n",
        encoding="utf-8",
    )
    server.say(
        "Карта будет готова 15 марта — напишем, когда отправим.",
        "ten_friends: 4 — тепло\nbrevity: 5 — одна фраза\nmirroring: 3 — не спрашивали",
    )
    out_dir = tmp_path / "run"
    code = _eval_with_judge(server, tmp_path, "--prompts", str(team))
    capsys.readouterr()
    assert code == 0
    asked = server.requests[1]["messages"][0]["content"]
    assert "- brevity: коротко, без лишних слов." in asked and "mirroring" not in asked
    judged = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))["cases"][0]["judge"]
    assert set(judged) == {"ten_friends", "brevity"}  # a principle not asked for is not kept
