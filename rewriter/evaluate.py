"""`evaluate`: rewrite every golden case and score the result.

A case passes when the rewrite carries no block violation and keeps every fact of the draft.
Runs concurrently (asyncio) so a slow model does not make the suite crawl.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from rewriter.engine import violations_for
from rewriter.errors import UsageError
from rewriter.facts import LOSABLE, extract_facts
from rewriter.llm import AsyncCompletionFn, CompletionFn
from rewriter.loading import load_cases_file
from rewriter.loop import arewrite
from rewriter.models import Case, Violation, parse_case
from rewriter.paths import data_dir


class CaseReport(BaseModel):
    id: str
    seed: str | None = None
    passed: bool
    violations: list[Violation] = Field(default_factory=list)
    golden_violations: list[Violation] = Field(default_factory=list)
    facts_kept: float = 1.0
    text: str = ""
    golden: str | None = None
    source: str = "offline"
    attempts: int = 0
    latency_s: float = 0.0
    errors: list[str] = Field(default_factory=list)


class EvalReport(BaseModel):
    summary: dict[str, Any]
    cases: list[CaseReport]


def find_case_files(path: Path | None) -> list[Path]:
    root = path or data_dir("evals") / "cases"
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UsageError(f"{root}: no such file or folder of eval cases")
    files = sorted(p for p in root.rglob("*") if p.suffix in (".jsonl", ".yaml", ".yml"))
    if not files:
        raise UsageError(f"{root}: no *.jsonl or *.yaml eval cases")
    return files


def load_eval_cases(path: Path | None = None) -> list[tuple[Case, dict[str, Any]]]:
    out = []
    for f in find_case_files(path):
        for i, raw in enumerate(load_cases_file(f)):
            case = parse_case(raw, where=f"{f.name}[{i}]")
            if case.draft is None:
                raise UsageError(f"{f.name}[{i}]: an eval case needs a draft")
            if case.id is None:
                case = case.model_copy(update={"id": f"{f.stem}-{i}"})
            out.append((case, raw))
    return out


def _facts_kept(case: Case, violations: list[Violation]) -> float:
    """Share of the draft's facts still in the rewrite, by the lost-fact rule's own judgement
    (a promo code dropped for a customer who is suing is not a lost fact)."""
    wanted = {f.key for f in extract_facts(case.draft or "") if f.kind in LOSABLE}
    if not wanted:
        return 1.0
    lost = sum(1 for v in violations if v.rule == "lost-fact")
    return max(0.0, (len(wanted) - lost) / len(wanted))


async def _one(case: Case, raw: dict[str, Any], sem: asyncio.Semaphore, **kw: Any) -> CaseReport:
    async with sem:
        t0 = time.perf_counter()
        result = await arewrite(case, **kw)
        latency = time.perf_counter() - t0
    golden = raw.get("golden")
    golden_violations = [
        v
        for v in (
            violations_for(case.model_copy(update={"reply": golden}), golden) if golden else []
        )
        if v.blocks
    ]
    blocks = [v for v in result.violations if v.blocks]
    kept = _facts_kept(case, result.violations)
    return CaseReport(
        id=case.id or "?",
        seed=raw.get("seed"),
        passed=not blocks and kept == 1.0,
        violations=result.violations,
        golden_violations=golden_violations,
        facts_kept=kept,
        text=result.text,
        golden=golden,
        source=result.source,
        attempts=result.attempts,
        latency_s=round(latency, 4),
        errors=result.errors,
    )


async def aevaluate(
    cases: Path | None = None,
    *,
    model: str | None = None,
    api_base: str | None = None,
    timeout: float | None = None,
    concurrency: int = 4,
    completion: AsyncCompletionFn | CompletionFn | None = None,
    cache: bool = True,
) -> EvalReport:
    if concurrency < 1:
        raise UsageError("concurrency must be at least 1")
    loaded = load_eval_cases(cases)
    sem = asyncio.Semaphore(concurrency)
    t0 = time.perf_counter()
    reports = await asyncio.gather(
        *(
            _one(
                c,
                raw,
                sem,
                model=model,
                api_base=api_base,
                timeout=timeout,
                completion=completion,
                cache=cache,
            )
            for c, raw in loaded
        )
    )
    wall = time.perf_counter() - t0
    passed = sum(r.passed for r in reports)
    summary = {
        "cases": len(reports),
        "passed": passed,
        "pass_rate": round(passed / len(reports), 4) if reports else 0.0,
        "wall_s": round(wall, 3),
        "model": model,
        "concurrency": concurrency,
        "golden_block_violations": sum(len(r.golden_violations) for r in reports),
        "facts_kept": round(sum(r.facts_kept for r in reports) / max(1, len(reports)), 4),
    }
    return EvalReport(summary=summary, cases=list(reports))


def evaluate(cases: Path | None = None, **kwargs: Any) -> EvalReport:
    """Run the eval suite (golden cases under evals/cases by default)."""
    return asyncio.run(aevaluate(cases, **kwargs))


def write_report(report: EvalReport, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    lines = [f"# h2h eval: {report.summary['passed']}/{report.summary['cases']} passed", ""]
    for key, value in report.summary.items():
        lines.append(f"- {key}: {value}")
    lines.append("")
    for c in report.cases:
        mark = "PASS" if c.passed else "FAIL"
        lines += [f"## {mark} {c.id}" + (f" ({c.seed})" if c.seed else ""), "", c.text, ""]
        for v in c.violations:
            lines.append(f"- {v.severity} {v.rule}: «{v.text}» {v.message}")
        lines.append("")
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return out / "report.json"
