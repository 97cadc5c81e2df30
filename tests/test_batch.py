"""`h2h check --jsonl` on several processes: the same lines, in the same order, as one process."""

from __future__ import annotations

import json
import multiprocessing

from rewriter.cli import main
from rewriter.evals.batch import checking, read_lines
from rewriter.evals.rulebench import load_corpus
from rewriter.guard.display import Audit


def _archive(tmp_path, count: int = 300):
    """Corpus cases, numbered, with an unreadable line and an invalid case among them."""
    base = [item.case.model_dump(mode="json", exclude_none=True) for item in load_corpus()]
    lines = [
        json.dumps({**base[i % len(base)], "id": f"c{i}"}, ensure_ascii=False) for i in range(count)
    ]
    lines[17] = "{broken"
    if count > 211:
        lines[211] = json.dumps({"id": "bad", "thread": [{"author": "robot", "text": "x"}]})
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(items, jobs: int):
    with checking(items, jobs) as chunks:
        workers = len(multiprocessing.active_children())
        done = list(chunks)
    return workers, done


def test_workers_give_what_one_process_gives(tmp_path) -> None:
    _, items = read_lines(str(_archive(tmp_path)))
    workers, serial = _run(items, jobs=1)
    assert workers == 0
    workers, parallel = _run(items, jobs=2)
    assert workers == 2  # really on two processes
    output = "".join(c.output for c in parallel)
    assert output == "".join(c.output for c in serial)
    lines = [json.loads(line) for line in output.splitlines()]
    expected = [f"c{i}" for i in range(300)]
    expected[17], expected[211] = None, "bad"  # the unreadable line has no id
    assert [r["id"] for r in lines] == expected
    assert "invalid JSON" in lines[17]["error"] and "author" in lines[211]["error"]
    errors = [e for c in parallel for e in c.errors]
    assert errors == [e for c in serial for e in c.errors] and len(errors) == 2
    assert max(c.worst for c in parallel) == 2
    assert sum(not r["ok"] for r in lines) > 50  # plenty of violations to compare


def test_audits_merge_to_the_same_summary(tmp_path) -> None:
    _, items = read_lines(str(_archive(tmp_path)))
    summaries = []
    for jobs in (1, 2):
        audit = Audit()
        for chunk in _run(items, jobs)[1]:
            audit.merge(chunk.audit)
        summaries.append(audit.format())
    assert summaries[0] == summaries[1]
    assert summaries[0].startswith("298 cases:") and "2 unreadable lines" in summaries[0]


def test_short_files_stay_in_process(tmp_path) -> None:
    _, items = read_lines(str(_archive(tmp_path, 40)))
    workers, chunks = _run(items, jobs=0)
    assert workers == 0
    assert sum(c.lines for c in chunks) == 40


def test_cli_jobs_output_and_summary_match(tmp_path, capsys) -> None:
    path = str(_archive(tmp_path))
    runs = []
    for jobs in ("1", "2"):
        code = main(["check", "--jsonl", path, "--summary", "--jobs", jobs])
        out, err = capsys.readouterr()
        runs.append((code, out, err))
    assert runs[0] == runs[1]
    code, out, err = runs[0]
    assert code == 2  # an unreadable line outranks violations
    assert len(out.splitlines()) == 300
    assert "298 cases:" in err and "2 unreadable lines" in err


def test_a_line_pydantic_refuses_reads_as_before() -> None:
    """Valid lines are validated straight from JSON; every other line goes the long way, so its
    error names the problem and keeps the line's id, as it always did."""
    from rewriter.evals.batch import check_line

    def out(line: str) -> dict:
        return json.loads(check_line(("in.jsonl", 7, line)).output)

    assert out('{"id": "k", "draft": "x", "reply": "  "}') == {
        "id": "k",
        "ok": False,
        "violations": [],
        "error": "nothing to check: the reply is blank",
    }
    assert out("[1]")["error"] == "line 7: expected a JSON object, got list"
    assert out('{"id": 5, "draft": "x"}') == {
        "id": 5,
        "ok": False,
        "violations": [],
        "error": "line 7: id: Input should be a valid string",
    }
    assert out("{broken")["error"].startswith("in.jsonl:7: invalid JSON: ")
    # A lone surrogate: pydantic's JSON reader refuses it, Python's reads it; checked all the same.
    assert out('{"id": "s", "draft": "Вернём деньги \\ud83d завтра."}')["id"] == "s"
    # Duplicate keys: the last one counts, as json.loads has it.
    dup = check_line(("in.jsonl", 8, '{"draft": "Привет", "draft": "Вернём деньги завтра."}'))
    assert dup.excerpt == "Вернём деньги завтра."
