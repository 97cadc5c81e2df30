"""Benchmark `h2h check --jsonl` on 10,000 cases (on every core, as it runs by default, and
with --jobs 1) against a process that merely lemmatises every word of the same texts once with
pymorphy3, and `h2h check` on one case against the start-up of
pymorphy3 itself. Targets (guardrails issue): the check is faster than the lemmatiser, and one
check takes under 2.5x the pymorphy3 start-up.

    python benchmarks/bench_check.py [--cases 10000] [--json out.json] [--against DIR]

--against DIR times an earlier checkout of h2h (`git worktree add DIR <commit>`) on the same
cases, interleaved with this one, so "N times slower than before" is measured in one run on one
machine state rather than read off two notes taken on different days.

The cases are the labelled corpus (evals/guardrails) with amounts, ids and names varied per
copy so that no two texts are equal: caches help only where real traffic would let them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rewriter.evals.batch import usable_cores  # noqa: E402
from rewriter.evals.rulebench import load_corpus  # noqa: E402

NAMES = ["Анна", "Олег", "Мария", "Игорь", "Ксения", "Пётр", "Елена", "Максим"]

LEMMATISE = """
import json, re, sys
import pymorphy3
morph = pymorphy3.MorphAnalyzer()
word = re.compile(r"[^\\W\\d_]+")
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    case = json.loads(line)
    texts = [m["text"] for m in case.get("thread", [])] + case.get("facts", [])
    texts += [case.get("draft") or "", case.get("reply") or ""]
    for text in texts:
        for w in word.findall(text):
            morph.parse(w)[0].normal_form
            n += 1
print(n, file=sys.stderr)
"""


def make_cases(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    base = [item.case.model_dump(mode="json", exclude_none=True) for item in load_corpus()]
    out = []
    for i in range(count):
        case = json.loads(json.dumps(base[i % len(base)], ensure_ascii=False))
        bump = rng.randint(1, 9)

        def vary(text: str, bump: int = bump, i: int = i) -> str:
            text = re.sub(r"\d+", lambda found: str(int(found.group()) + bump), text)
            return f"{text} Заявка {i}."

        case["id"] = f"bench-{i}"
        for m in case.get("thread", []):
            m["text"] = vary(m["text"])
            if m.get("name"):
                m["name"] = rng.choice(NAMES)
        for key in ("draft", "reply"):
            if case.get(key):
                case[key] = vary(case[key])
        case["facts"] = [vary(f) for f in case.get("facts", [])]
        out.append(case)
    return out


# Both sides run with bytecode, as after a normal `pip install` (this machine sets
# PYTHONDONTWRITEBYTECODE, which would recompile an editable h2h at every start but not pymorphy3).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], root: Path | None = None) -> float:
    """Wall time of one command; `root` runs another checkout's h2h (its folder first)."""
    env = ENV if root is None else {**ENV, "PYTHONPATH": str(root)}
    t0 = time.perf_counter()
    subprocess.run(
        cmd,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=root,
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7, help="runs of the one-case timings")
    ap.add_argument("--batch-repeat", type=int, default=3, help="runs of the 10,000-case timings")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--against", type=Path, help="an earlier checkout to time on the same cases")
    args = ap.parse_args()

    cases = make_cases(args.cases)
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "cases.jsonl"
        jsonl.write_text(
            "\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", "utf-8"
        )
        one = Path(tmp) / "one.json"
        one.write_text(json.dumps(cases[0], ensure_ascii=False), "utf-8")
        h2h = [sys.executable, "-m", "rewriter.cli"]

        old = args.against.resolve() if args.against else None
        timed([*h2h, "check", str(one)])  # warm-up: bytecode and the lemma table written once
        if old:
            timed([*h2h, "check", str(one)], old)
        # Interleaved, so a slow phase of a shared machine hits both sides alike.
        check_runs, serial_runs, lemma_runs, old_runs = [], [], [], []
        for _ in range(args.batch_repeat):
            check_runs.append(timed([*h2h, "check", "--jsonl", str(jsonl)]))
            serial_runs.append(timed([*h2h, "check", "--jsonl", str(jsonl), "--jobs", "1"]))
            lemma_runs.append(timed([sys.executable, "-c", LEMMATISE, str(jsonl)]))
            if old:
                old_runs.append(timed([*h2h, "check", "--jsonl", str(jsonl)], old))
        startup, single, old_single = [], [], []
        for _ in range(args.repeat):
            startup.append(
                timed([sys.executable, "-c", "import pymorphy3; pymorphy3.MorphAnalyzer()"])
            )
            single.append(timed([*h2h, "check", str(one)]))
            if old:
                old_single.append(timed([*h2h, "check", str(one)], old))

    check_s, serial_s, lemma_s = map(statistics.median, (check_runs, serial_runs, lemma_runs))
    result = {
        "cases": args.cases,
        "cores": usable_cores(),
        "check_jsonl_s": round(check_s, 2),
        "check_cases_per_s": round(args.cases / check_s),
        "check_jsonl_one_process_s": round(serial_s, 2),
        "lemmatise_only_s": round(lemma_s, 2),
        "check_vs_lemmatise": round(check_s / lemma_s, 3),
        "one_process_vs_lemmatise": round(serial_s / lemma_s, 3),
        "pymorphy3_startup_s": round(statistics.median(startup), 3),
        "check_one_case_s": round(statistics.median(single), 3),
        "one_case_vs_startup": round(statistics.median(single) / statistics.median(startup), 2),
    }
    if old_runs:
        old_s = statistics.median(old_runs)
        result["against"] = str(args.against)
        result["against_check_jsonl_s"] = round(old_s, 2)
        result["against_cases_per_s"] = round(args.cases / old_s)
        result["slowdown_vs_against"] = round(check_s / old_s, 3)
        result["against_one_case_s"] = round(statistics.median(old_single), 3)
    for k, v in result.items():
        print(f"{k:22} {v}")
    ok = result["check_vs_lemmatise"] < 1 and result["one_case_vs_startup"] < 2.5
    print("targets met" if ok else "targets NOT met")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
