"""`h2h check --jsonl`: an archive of replies checked line by line, on every core when it is long.

A line's whole job — parse, validate, check, serialise — is one pure function, so it can run in
worker processes. They take lines in chunks and send back, per chunk, the finished output text,
the error lines and a partial audit; the parent only writes and merges, in input order, so its
own share of the CPU stays small. Under `fork` the workers share the parent's loaded analyzer and
compiled lexicons; elsewhere each one warms up once on its own.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import NamedTuple

from pydantic import ValidationError

from rewriter.errors import UsageError
from rewriter.guard.display import Audit
from rewriter.guard.engine import check
from rewriter.models import Case, parse_case

# Below this many lines the start of the workers costs more than they save.
PARALLEL_FROM = 1000
WARM_LINES = 16  # input lines the parent checks before it forks the workers (see _warm_up)
_CHUNK = 64  # the smallest chunk; long files get larger ones (see `_chunk_size`)


class Outcome(NamedTuple):
    """One input line, checked."""

    lineno: int
    output: str  # the JSON line for stdout
    error: str | None  # the line's one-line problem, when it could not be checked
    ok: bool
    case_id: str
    excerpt: str  # the checked text, for the audit's worst cases
    marks: tuple[tuple[str, str], ...]  # (rule, severity) of every violation


def check_line(item: tuple[str, int, str], grounded: bool = False) -> Outcome:
    """A valid line is parsed and validated by pydantic in one step, with no dict of Python
    objects in between (a tenth of the per-line overhead); a line it refuses, or one that cannot
    be checked, is read again the long way, which names the problem exactly as it always did."""
    _, lineno, line = item
    try:
        case = Case.model_validate_json(line)
        result = check(case, grounded=grounded)
    except (ValidationError, UsageError):
        return _check_line_slowly(item, grounded)
    marks = tuple((v.rule, v.severity) for v in result.violations)
    text = case.reply if case.reply is not None else case.draft or ""
    case_id = case.id or f"line {lineno}"
    return Outcome(lineno, result.model_dump_json(), None, result.ok, case_id, text, marks)


def _check_line_slowly(item: tuple[str, int, str], grounded: bool = False) -> Outcome:
    name, lineno, line = item
    obj = None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        error = f"{name}:{lineno}: invalid JSON: {exc.msg}"
    else:
        try:
            case = parse_case(obj, where=f"line {lineno}")
            result = check(case, grounded=grounded)
        except UsageError as exc:
            error = str(exc)
        else:
            marks = tuple((v.rule, v.severity) for v in result.violations)
            text = case.reply if case.reply is not None else case.draft or ""
            output = result.model_dump_json()
            case_id = case.id or f"line {lineno}"
            return Outcome(lineno, output, None, result.ok, case_id, text, marks)
    case_id = obj.get("id") if isinstance(obj, dict) else None
    output = json.dumps(
        {"id": case_id, "ok": False, "violations": [], "error": error},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return Outcome(lineno, output, error, False, str(case_id), "", ())


class Checked(NamedTuple):
    """A chunk of lines, checked: what the CLI prints and counts."""

    lines: int
    output: str  # one JSON line per input line, each ending in a newline
    errors: list[str]  # the one-line problems of lines that could not be checked
    worst: int  # exit status of the chunk alone: 0 clean, 1 a block violation, 2 a bad line
    audit: Audit


def check_chunk(items: Sequence[tuple[str, int, str]], grounded: bool = False) -> Checked:
    audit = Audit()
    out: list[str] = []
    errors: list[str] = []
    worst = 0
    for item in items:
        outcome = check_line(item, grounded)
        out.append(outcome.output)
        if outcome.error is not None:
            errors.append(outcome.error)
            audit.bad_lines += 1
            worst = 2
            continue
        if not outcome.ok:
            worst = max(worst, 1)
        audit.add(outcome.case_id, outcome.excerpt, outcome.marks)
    out.append("")
    return Checked(len(items), "\n".join(out), errors, worst, audit)


def read_lines(source: str) -> tuple[str, list[tuple[str, int, str]]]:
    """(name, work items) for every non-blank line of a file or stdin."""
    from rewriter.loading import read_text

    text, name = read_text(source)
    items = [(name, n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return name, items


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@contextmanager
def checking(
    items: Sequence[tuple[str, int, str]], jobs: int = 0, grounded: bool = False
) -> Iterator[Iterator[Checked]]:
    """Checked chunks in input order. `jobs`: worker processes, 0 = one per usable core (in this
    process when the file is short or there is one core), 1 = in this process. The workers exist
    once this is entered, so a progress bar's thread started afterwards is never forked.
    `grounded`: every line is checked as `h2h check --grounded` does."""
    work = partial(check_chunk, grounded=grounded) if grounded else check_chunk
    workers = jobs or (usable_cores() if len(items) >= PARALLEL_FROM else 1)
    workers = min(workers, max(1, len(items) // _CHUNK))
    size = _chunk_size(len(items), workers)
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    sample = (items[:WARM_LINES], grounded)
    if workers > 1:
        _warm_up(*sample)  # once, before the fork, so no worker repeats it
    # A batch allocates millions of short-lived, acyclic objects: move what exists out of the
    # collector's way (and, forked, out of the way of copy-on-write) and let it run rarely.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    if workers <= 1:
        yield map(work, chunks)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    warm = {} if method == "fork" else {"initializer": _warm_up, "initargs": sample}
    with context.Pool(workers, **warm) as pool:
        yield pool.imap(work, chunks)


def _chunk_size(lines: int, workers: int) -> int:
    """About 16 chunks per worker, 64 to 400 lines each: each chunk costs a round trip and its
    own audit (measured: 10,000 lines in 157 chunks took 0.1 s longer than in 32), while the
    last chunk sets how long one worker may idle at the end."""
    return max(_CHUNK, min(400, lines // (workers * 16)))


def _warm_up(sample: Sequence[tuple[str, int, str]], grounded: bool = False) -> None:
    """Load the analyzer, rules and lexicons before the workers fork, so no worker compiles
    them again: by checking the input's first lines (whatever they need compiled, the rest of a
    file of the same kind needs too — a lint of drafts never compiles the rewrite rules).
    Their results are thrown away: each line is checked again, in order, by a worker."""
    for item in sample:
        check_line(item, grounded)
