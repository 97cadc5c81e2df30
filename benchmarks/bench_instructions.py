"""Instructions per case of a warm `check`, counted by valgrind's cachegrind: a figure a busy
shared machine does not move (wall-clock figures on it swing by 2x between runs), so a speed
change can be judged before a quiet moment comes for bench_check.py.

    python benchmarks/bench_instructions.py [--cases 500] [--against DIR ...]

Each checkout (this one, and every --against DIR, e.g. `git worktree add DIR <commit>`) checks
the same bench cases (bench_check.make_cases) after 300 warm-up cases; the figure is the
difference between a run with N more cases and one without, divided by N: start-up excluded.
Needs `valgrind` (apt install valgrind); the run takes about a minute per checkout.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_check import ENV, make_cases  # noqa: E402

WARM_UP = 300

PROGRAM = """
import gc, json, sys
from rewriter import Case, check
lines = open(sys.argv[1], encoding="utf-8").readlines()
warm, extra = int(sys.argv[2]), int(sys.argv[3])
cases = [Case.model_validate(json.loads(line)) for line in lines[: warm + extra]]
for case in cases[:warm]:
    check(case)
gc.freeze()
for case in cases[warm:]:
    check(case)
"""


def _env(root: Path) -> dict[str, str]:
    return {**ENV, "PYTHONPATH": str(root)}  # with bytecode, as bench_check runs


def instructions(root: Path, cases: Path, extra: int) -> int:
    env = _env(root)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={Path(tmp) / 'cg.out'}",
                sys.executable,
                "-c",
                PROGRAM,
                str(cases),
                str(WARM_UP),
                str(extra),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
            check=True,
        )
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=500)
    ap.add_argument("--against", type=Path, action="append", default=[])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cases = Path(tmp) / "cases.jsonl"
        lines = (json.dumps(c, ensure_ascii=False) for c in make_cases(WARM_UP + args.cases))
        cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for root in [ROOT, *(d.resolve() for d in args.against)]:
            # A plain run first: it writes the checkout's bytecode and lemma table, which would
            # otherwise be counted in one of the two measured runs and not the other.
            subprocess.run(
                [sys.executable, "-c", PROGRAM, str(cases), "20", "0"],
                env=_env(root),
                cwd=root,
                check=True,
            )
            per_case = (
                instructions(root, cases, args.cases) - instructions(root, cases, 0)
            ) / args.cases
            result[str(root)] = round(per_case / 1e6, 3)
            print(f"{per_case / 1e6:6.3f} M instructions per case  {root}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
