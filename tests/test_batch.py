"""`h2h check --jsonl` on several processes: the same lines, in the same order, as one process."""

from __future__ import annotations

import json
import multiprocessing

from rewriter.batch import checking, read_lines
from rewriter.cli import main
from rewriter.rulebench import load_corpus


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


def test_workers_give_what_one_process_gives(tmp_path) -> None:
    _, items = read_lines(str(_archive(tmp_path)))
    with checking(items, jobs=1) as outcomes:
        serial = list(outcomes)
    with checking(items, jobs=2) as outcomes:
        assert len(multiprocessing.active_children()) == 2  # really on two processes
        parallel = list(outcomes)
    assert parallel == serial
    assert [o.lineno for o in parallel] == list(range(1, 301))
    assert parallel[17].error and "invalid JSON" in parallel[17].error
    assert parallel[211].error and "author" in parallel[211].error
    assert sum(not o.ok for o in serial) > 50  # the corpus has plenty of violations to compare


def test_short_files_stay_in_process(tmp_path) -> None:
    _, items = read_lines(str(_archive(tmp_path, 40)))
    with checking(items) as outcomes:
        assert multiprocessing.active_children() == []
        assert len(list(outcomes)) == 40


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
