"""An eval score is the model's: a fallback's safe text, a canned sentence or a dropped draft
never counts as the model passing a golden case."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from rewriter import Case, evaluate
from rewriter.cli import main
from rewriter.evals import substance
from rewriter.evals.evaluate import load_eval_cases, write_report
from rewriter.paths import data_dir

from .conftest import Reply

BASELINE = data_dir("evals") / "baseline" / "offline"
MODEL = "openai/test-model"
CANNED = "Спасибо, что написали! Мы всё проверим и обязательно вернёмся с ответом."
CASES = load_eval_cases()


@pytest.fixture(scope="module")
def canned_run(_server_instance, tmp_path_factory):
    """The whole golden set against a model that answers every request with one sentence."""
    server = _server_instance
    server.say(CANNED)
    report = evaluate(model=MODEL, api_base=server.url, cache=False)
    out = tmp_path_factory.mktemp("canned")
    write_report(report, out)
    server.say()
    return report, out


def test_a_canned_sentence_passes_no_golden_case(canned_run) -> None:
    report, _ = canned_run
    s = report.summary
    assert s["passed"] == 0 and s["pass_rate"] == 0.0 and s["model_pass_rate"] == 0.0
    fallbacks = [c for c in report.cases if c.from_fallback]
    assert fallbacks, "the drafts' facts and points are not in the sentence: fallbacks"
    assert s["fallback_rate"] == round(len(fallbacks) / len(report.cases), 4)
    from rewriter import check

    drafts = {case.id: case for case, _ in CASES}
    for c in fallbacks:
        # Safe, but not the model's: the fallback is as clean as the agent's own draft can be made
        # (a draft that itself breaks a block rule no fix mends keeps it, and says so).
        draft_ok = check(drafts[c.id].model_copy(update={"reply": None})).ok
        assert c.source == "offline" and not c.passed and (c.output_ok or not draft_ok)
        assert c.fail_reasons[0].startswith("fallback")
        assert any("lost-fact" in e or "lost-substance" in e for e in c.errors), c.errors
    for c in report.cases:
        if c.source == "llm":
            assert any(r.startswith("identical:") for r in c.fail_reasons), c.id
    assert s["output_pass_rate"] > 0  # the safety net still holds for the agent


def test_compare_with_the_offline_baseline_calls_it_a_regression(canned_run, capsys) -> None:
    _, out = canned_run
    code = main(["eval", "compare", str(BASELINE), str(out)])
    lines = capsys.readouterr()[0].splitlines()
    assert code == 1
    assert not [x for x in lines if x.startswith("FIXED")]
    assert lines[0].startswith("REGRESSION")
    assert "0 fixed" in lines[-2] and "→ 0.0000" in lines[-2]
    assert lines[-1].startswith("model pass rate — → 0.0000; fallback rate — → 0.")


def test_the_report_says_who_wrote_each_text_and_why(canned_run) -> None:
    report, out = canned_run
    html = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    fallback = next(c for c in report.cases if c.from_fallback)
    modelled = next(c for c in report.cases if c.source == "llm")
    section = html.split(f"id='{fallback.id}'", 1)[1].split("</section>", 1)[0]
    assert "class='src fallback'" in section
    assert "guardrails rejected the answer: lost-fact" in section  # why the model lost the turn
    assert "re-asked for: lost-fact" in section
    section = html.split(f"id='{modelled.id}'", 1)[1].split("</section>", 1)[0]
    assert "class='src llm'>model<" in section
    assert "identical: the same answer as for" in section
    assert "model pass rate" in html and "fallback rate" in html
    assert "pass^N (--repeat N)" in html and "pass^N (--repeat N)" in md
    assert "text from: fallback (offline engine)" in md
    assert "- fallback_rate: " in md


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def test_the_fallback_marks_render_in_headless_chromium(canned_run, tmp_path) -> None:
    report, out = canned_run
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-500:]
    fallbacks = sum(c.from_fallback for c in report.cases)
    assert dom.stdout.count('class="src fallback"') == fallbacks
    assert dom.stdout.count('class="why"') == len(report.cases)  # every case failed, with reasons
    assert 'id="pass-hat-n"' in dom.stdout


def test_old_reports_are_read_honestly(canned_run, tmp_path, capsys) -> None:
    """A report written before the distinction (a fallback counted as passed) is re-read."""
    _, out = canned_run
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for c in data["cases"]:
        c["passed"] = c["source"] == "offline"  # what the old scoring said for these
        c.pop("fail_reasons")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["eval", "compare", str(BASELINE), str(old)]) == 1
    out_lines = capsys.readouterr()[0].splitlines()
    assert any(x.startswith("REGRESSION") and x.endswith("(fallback)") for x in out_lines)
    assert not [x for x in out_lines if x.startswith("FIXED")]


def _case_file(tmp_path, name="one.jsonl", **overrides):
    case = {
        "id": "card",
        "thread": [{"author": "customer", "text": "Когда будет готова карта?"}],
        "draft": "Уточняю информацию. Карта будет готова 15 марта, заберите её в отделении.",
        "golden": "Карта будет готова 15 марта — заберите её в отделении.",
        **overrides,
    }
    path = tmp_path / name
    path.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_a_model_pass_keeps_the_drafts_substance(server, tmp_path) -> None:
    """A polite answer that keeps the date and the step but drops what is ready and where is no
    pass. (Dropping the step itself, «15 марта всё будет», lost-substance now blocks: a
    customer's step must stay a step.)"""
    server.say("Спасибо за терпение! Заберите её 15 марта.")
    report = evaluate(_case_file(tmp_path), model=MODEL, api_base=server.url, cache=False)
    case = report.cases[0]
    assert case.source == "llm" and not case.passed and not case.output_ok
    assert case.substance_missing and "substance lost" in case.fail_reasons[0]
    server.say("Карта будет готова 15 марта, забрать её можно в отделении.")
    report = evaluate(_case_file(tmp_path), model=MODEL, api_base=server.url, cache=False)
    assert report.cases[0].passed and report.summary["model_pass_rate"] == 1.0
    assert report.summary["fallback_rate"] == 0.0 and report.cases[0].fail_reasons == []


def test_offline_runs_have_no_model_rates(tmp_path) -> None:
    report = evaluate(_case_file(tmp_path))
    s = report.summary
    assert s["model_pass_rate"] is None and s["fallback_rate"] is None
    assert report.cases[0].passed and not report.cases[0].from_fallback


@pytest.mark.parametrize(("case", "raw"), CASES, ids=[c.id for c, _ in CASES])
def test_every_golden_reply_keeps_its_own_anchors(case, raw) -> None:
    anchors = substance.anchors(case, raw["golden"])
    assert substance.missing(anchors, raw["golden"]) == []


def test_the_golden_set_gives_anchors_and_missing_finds_lost_ones() -> None:
    """Guards the per-case test above, which passes vacuously when `anchors` returns [] or the
    golden set is empty: most golden replies keep some of their draft's words, and a text that
    shares none of them misses every anchor."""
    assert CASES
    with_anchors = [c for c, raw in CASES if substance.anchors(c, raw["golden"])]
    assert len(with_anchors) * 2 >= len(CASES), len(with_anchors)
    for case, raw in CASES:
        wanted = substance.anchors(case, raw["golden"])
        if wanted:
            assert substance.missing(wanted, "Ок.") == wanted
            assert not substance.kept_enough(wanted, wanted)


def test_anchors_leave_out_greetings_canned_phrases_and_grammar() -> None:
    case = Case(
        thread=[{"author": "customer", "text": "Где заказ?"}],
        draft="Здравствуйте! Спасибо за обращение. Заказ будет доставлен курьером завтра.",
    )
    golden = "Здравствуйте! Спасибо за обращение, заказ будет у курьера завтра."
    words = [t.text for t in substance.anchors(case, golden)]
    assert words == ["Заказ", "курьером"]


def test_identical_answers_to_drafts_that_say_the_same_are_fine(server, tmp_path) -> None:
    """Two cases whose drafts differ only by a canned phrase may get the same rewrite."""
    folder = tmp_path / "cases"
    folder.mkdir()
    base = {"thread": [{"author": "customer", "text": "Когда будет готова карта?"}]}
    cases = [
        {**base, "id": "a", "draft": "Карта будет готова 15 марта.", "golden": "Карта — 15 марта."},
        {
            **base,
            "id": "b",
            "draft": "Спасибо за обращение. Карта будет готова 15 марта.",
            "golden": "Карта — 15 марта.",
        },
    ]
    (folder / "two.json").write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    server.say("Карта будет готова 15 марта.")
    report = evaluate(folder, model=MODEL, api_base=server.url, cache=False)
    assert [c.passed for c in report.cases] == [True, True]
    assert report.summary["identical_answers"] == 0


def test_cases_folder_reads_json_files(tmp_path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    one = json.loads(_case_file(tmp_path).read_text(encoding="utf-8"))
    (folder / "single.json").write_text(json.dumps(one, ensure_ascii=False), encoding="utf-8")
    many = [{**one, "id": f"list-{i}"} for i in range(2)]
    (folder / "list.json").write_text(json.dumps(many, ensure_ascii=False), encoding="utf-8")
    (folder / "more.jsonl").write_text(
        json.dumps({**one, "id": "line"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    ids = sorted(c.id for c, _ in load_eval_cases(folder))
    assert ids == ["card", "line", "list-0", "list-1"]


def test_unreadable_judge_answers_are_counted_and_shown(server, tmp_path, capsys) -> None:
    server.say(
        "Карта будет готова 15 марта, забрать её можно в отделении.",
        Reply(content="Отличный ответ, мне всё нравится!"),  # no «principle: score» line
    )
    out = tmp_path / "run"
    code = main(
        [
            "eval",
            "--cases",
            str(_case_file(tmp_path)),
            "--model",
            MODEL,
            "--api-base",
            server.url,
            "--judge",
            "openai/judge-model",
            "--no-cache",
            "--out",
            str(out),
        ]
    )
    _, err = capsys.readouterr()
    assert code == 0
    assert "1 judge answers could not be read" in err
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["judge_unparsed"] == 1 and data["summary"]["judge_means"] is None
    case = data["cases"][0]
    assert case["judge_unparsed"] and case["judge_answer"] == "Отличный ответ, мне всё нравится!"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "judge answer: no score read" in html and "Отличный ответ" in html
    assert "judge answers unread<b>1</b>" in html


def test_repeat_counts_a_fallback_run_as_a_failed_run(server, tmp_path) -> None:
    good = "Карта будет готова 15 марта, забрать её можно в отделении."
    bad = "Карта будет готова завтра, заберите в отделении."  # invented deadline, lost date
    server.say(good, bad, bad, bad)
    report = evaluate(_case_file(tmp_path), model=MODEL, api_base=server.url, repeat=2, cache=False)
    case = report.cases[0]
    assert case.passed and case.runs == 2 and case.passes == 1
    assert report.summary["pass_hat_n"] == 0.0 and report.summary["flaky"] == ["card"]


def test_two_drafts_may_share_a_short_reply_but_not_three(server, tmp_path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    thread = [{"author": "customer", "text": "Почему не проходит платёж?"}]
    drafts = ["Проверяю.", "Смотрю, что случилось.", "Разбираюсь с платежом."]
    cases = [
        {"id": f"d{i}", "thread": thread, "draft": d, "golden": "Сейчас посмотрю."}
        for i, d in enumerate(drafts)
    ]
    path = folder / "cases.json"
    path.write_text(json.dumps(cases[:2], ensure_ascii=False), encoding="utf-8")
    server.say("Сейчас посмотрю, в чём дело.")
    report = evaluate(folder, model=MODEL, api_base=server.url, cache=False)
    assert [c.passed for c in report.cases] == [True, True]
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    report = evaluate(folder, model=MODEL, api_base=server.url, cache=False)
    assert report.summary["identical_answers"] == 3 and report.summary["passed"] == 0
