"""`evaluate`: rewrite every golden case and score the result.

A case passes when the rewrite carries no block violation and keeps every fact of the draft.
Runs concurrently (asyncio) so a slow model does not make the suite crawl.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from rewriter.analysis.facts import LOSABLE, extract_facts
from rewriter.analysis.situation import analyse_thread, count_playful
from rewriter.analysis.text import analyse
from rewriter.analysis.vocab import situation_lexicon
from rewriter.errors import UsageError
from rewriter.guard.engine import violations_for
from rewriter.loading import load_cases_file
from rewriter.model.llm import AsyncCompletionFn, CompletionFn
from rewriter.model.loop import arewrite
from rewriter.model.prompting import PromptSettings, prompt_data, render
from rewriter.models import Case, Usage, Violation, parse_case
from rewriter.paths import data_dir


class CaseReport(BaseModel):
    id: str
    seed: str | None = None
    passed: bool
    violations: list[Violation] = Field(default_factory=list)
    golden_violations: list[Violation] = Field(default_factory=list)
    facts_kept: float = 1.0
    canned_before: int = 0  # template phrases in the draft
    canned_after: int = 0  # … and in the rewrite
    register_match: bool = True  # ты/вы and emoji as the customer would expect
    length_ratio: float = 1.0  # rewrite / draft, in characters
    chrf: float | None = None  # against the golden reply (sacrebleu), when installed
    text: str = ""
    draft: str = ""
    golden: str | None = None
    thread: list[dict[str, Any]] = Field(default_factory=list)
    source: str = "offline"
    attempts: int = 0
    reasks: dict[str, int] = Field(default_factory=dict)
    usage: Usage | None = None
    latency_s: float = 0.0
    errors: list[str] = Field(default_factory=list)
    runs: int = 1  # with --repeat N: how many times the case ran …
    passes: int = 1  # … and how many passed (with a model: by the model's own answer)
    chrf_spread: float | None = None  # max - min chrF over the runs
    judge: dict[str, dict[str, Any]] | None = None  # principle -> {"score": 1..5, "reason": …}


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


def _passed(case: Case, result: Any) -> bool:
    """No block violation left and every fact of the draft kept."""
    blocks = [v for v in result.violations if v.blocks]
    return not blocks and _facts_kept(case, result.violations) == 1.0


def _canned(case: Case, text: str) -> int:
    lint = Case(thread=case.thread, reply=text)  # a lint: no draft, so only style rules apply
    return sum(v.rule == "template-phrase" for v in violations_for(lint, text))


def _register_match(case: Case, text: str) -> bool:
    """ты only for a customer on ты; no more play than the customer (none when it is serious)."""
    situation = analyse_thread(case.customer_texts, case.customer_name)
    reg = situation.register
    uses_ty = bool(situation_lexicon("informal_you").find(analyse(text)))
    allowed = 0 if situation.serious else reg.playful + (1 if reg.positive else 0)
    return uses_ty == reg.uses_ty and count_playful(text) <= allowed


_CHRF: Any = None


def _chrf(text: str, golden: str | None) -> float | None:
    """chrF of the rewrite against the golden reply, by sacrebleu's maintained implementation."""
    global _CHRF
    if not golden:
        return None
    if _CHRF is None:
        try:
            from sacrebleu.metrics import CHRF
        except ImportError:
            return None
        _CHRF = CHRF()
    return round(_CHRF.sentence_score(text, [golden]).score, 2)


def principles(settings: PromptSettings | None = None) -> list[dict[str, str]]:
    """The judge's rubric, prompts/judge.yaml (a team's copy wins): ids and wording."""
    settings = settings or PromptSettings.resolve()
    return list((prompt_data(settings.folder, "judge.yaml") or {}).get("principles", []))


_JUDGE_LINE = re.compile(
    r"^[^\w\n]*([a-z_]+)[^\w\n]*[:=][ \t]*([1-5])[ \t]*(?:[—–\-:][ \t]*)?(.*)$", re.M
)


def parse_judgement(text: str, ids: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
    """«principle: score — reason» lines; principles the judge skipped are left out."""
    ids = ids if ids is not None else [p["id"] for p in principles()]
    found: dict[str, dict[str, Any]] = {}
    for m in _JUDGE_LINE.finditer(text):
        if m.group(1) in ids and m.group(1) not in found:
            found[m.group(1)] = {"score": int(m.group(2)), "reason": m.group(3).strip()}
    return found


async def _judge(case: Case, text: str, judge: str, **kw: Any) -> dict[str, dict[str, Any]]:
    """Score a rewrite with a model, from prompts/judge.j2. Personal data is masked first."""
    from rewriter.model.llm import ModelConfig, classify, default_acompletion
    from rewriter.model.pii import Masker

    masker = Masker()
    masked = masker.mask_case(case)
    settings = PromptSettings.resolve(kw.get("prompts"), kw.get("guidelines"))
    rubric = principles(settings)
    content = render(
        "judge.j2",
        settings,
        principles=rubric,
        thread=masked.thread,
        draft=masked.draft or "",
        reply=masker.mask(text),
    )
    config = ModelConfig.resolve(judge, kw.get("api_base"), kw.get("timeout"))
    assert config is not None
    call = kw.get("completion") or default_acompletion
    try:
        answer = call([{"role": "user", "content": content}], config)
        answer = await answer if asyncio.iscoroutine(answer) else answer
    except Exception as exc:
        return {"error": {"score": None, "reason": classify(exc).detail}}
    ids = [p["id"] for p in rubric]
    return parse_judgement(answer if isinstance(answer, str) else answer.text, ids)


async def _one(
    case: Case,
    raw: dict[str, Any],
    sem: asyncio.Semaphore,
    repeat: int = 1,
    judge: str | None = None,
    on_done: Any = None,
    **kw: Any,
) -> CaseReport:
    async with sem:
        t0 = time.perf_counter()
        result = await arewrite(case, **kw)
        latency = time.perf_counter() - t0
        # With a model, a run counts for pass^N only when the model's own answer passed: a safe
        # fallback to the offline engine is not the model being reliable.
        modelled = kw.get("model") is not None or kw.get("completion") is not None
        passes = int(_passed(case, result) and (result.source == "llm" or not modelled))
        texts = [result.text]
        for _ in range(repeat - 1):  # repeats measure flakiness: always fresh model answers
            again = await arewrite(case, **{**kw, "cache": False})
            passes += _passed(case, again) and (again.source == "llm" or not modelled)
            texts.append(again.text)
        judgement = await _judge(case, result.text, judge, **kw) if judge else None
    if on_done:
        on_done()
    golden = raw.get("golden")
    golden_violations = [
        v
        for v in (
            violations_for(case.model_copy(update={"reply": golden}), golden) if golden else []
        )
        if v.blocks
    ]
    kept = _facts_kept(case, result.violations)
    return CaseReport(
        id=case.id or "?",
        seed=raw.get("seed"),
        passed=_passed(case, result),
        runs=repeat,
        passes=passes,
        chrf_spread=_spread([_chrf(t, golden) for t in texts]) if repeat > 1 else None,
        judge=judgement,
        violations=result.violations,
        golden_violations=golden_violations,
        facts_kept=kept,
        canned_before=_canned(case, case.draft or ""),
        canned_after=_canned(case, result.text),
        register_match=_register_match(case, result.text),
        length_ratio=round(len(result.text) / max(1, len(case.draft or "")), 3),
        chrf=_chrf(result.text, golden),
        text=result.text,
        draft=case.draft or "",
        golden=golden,
        thread=[m.model_dump() for m in case.thread],
        source=result.source,
        attempts=result.attempts,
        reasks=result.reasks,
        usage=result.usage,
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
    repeat: int = 1,
    judge: str | None = None,
    prompts: Path | str | None = None,
    guidelines: Path | str | None = None,
    on_case_done: Any = None,
) -> EvalReport:
    if concurrency < 1:
        raise UsageError("concurrency must be at least 1")
    if repeat < 1:
        raise UsageError("repeat must be at least 1")
    loaded = load_eval_cases(cases)
    sem = asyncio.Semaphore(concurrency)
    t0 = time.perf_counter()
    reports = await asyncio.gather(
        *(
            _one(
                c,
                raw,
                sem,
                repeat=repeat,
                judge=judge,
                on_done=on_case_done,
                model=model,
                api_base=api_base,
                timeout=timeout,
                completion=completion,
                cache=cache,
                prompts=prompts,
                guidelines=guidelines,
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
        "canned_before": sum(r.canned_before for r in reports),
        "canned_after": sum(r.canned_after for r in reports),
        "register_match": round(sum(r.register_match for r in reports) / max(1, len(reports)), 4),
        "length_ratio": round(sum(r.length_ratio for r in reports) / max(1, len(reports)), 3),
        "chrf": _mean([r.chrf for r in reports if r.chrf is not None]),
        "from_model": sum(r.source == "llm" for r in reports),
        "reasks_by_rule": dict(sorted(_sum_counts(r.reasks for r in reports).items())),
        "prompt_tokens": sum(r.usage.prompt_tokens for r in reports if r.usage),
        "completion_tokens": sum(r.usage.completion_tokens for r in reports if r.usage),
        "cost_usd": _cost(reports),
        "repeat": repeat,
        "pass_hat_n": round(sum(r.passes == r.runs for r in reports) / max(1, len(reports)), 4),
        "flaky": sorted(r.id for r in reports if 0 < r.passes < r.runs),
        "chrf_spread_max": max(
            (r.chrf_spread for r in reports if r.chrf_spread is not None), default=None
        ),
        "judge": judge,
        "judge_means": _judge_means(reports, principles(PromptSettings.resolve(prompts))),
    }
    return EvalReport(summary=summary, cases=list(reports))


def _spread(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(max(known) - min(known), 2) if known else None


def _judge_means(
    reports: list[CaseReport], rubric: list[dict[str, str]]
) -> dict[str, float | None] | None:
    judged = [r.judge for r in reports if r.judge]
    if not judged:
        return None
    return {
        p: _mean([j[p]["score"] for j in judged if p in j and j[p].get("score") is not None])
        for p in [p["id"] for p in rubric]
    }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _sum_counts(counts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total


def _cost(reports: list[CaseReport]) -> float | None:
    costs = [r.usage.cost_usd for r in reports if r.usage and r.usage.cost_usd is not None]
    return round(sum(costs), 6) if costs else None


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
    from rewriter.evals.htmlreport import render_html

    (out / "report.html").write_text(render_html(report), encoding="utf-8")
    return out / "report.json"


def load_report(path: Path) -> dict[str, Any]:
    """A run's report.json, given the file or the folder holding it."""
    file = path / "report.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{file}: not a readable eval report ({exc})") from None
    if not isinstance(data, dict) or "summary" not in data or "cases" not in data:
        raise UsageError(f"{file}: not an eval report (no summary/cases)")
    return data


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], bool]:
    """Lines saying what got worse (first) and better from run A to run B, and whether the
    pass rate dropped."""
    ca = {c["id"]: c for c in a["cases"]}
    cb = {c["id"]: c for c in b["cases"]}
    worse, better, changed = [], [], []
    for cid in sorted(set(ca) & set(cb)):
        x, y = ca[cid], cb[cid]
        rules_y = sorted(
            {v["rule"] for v in y.get("violations", []) if v.get("severity") == "block"}
        )
        if x["passed"] and not y["passed"]:
            worse.append(
                f"REGRESSION {cid}: passed → failed ({', '.join(rules_y) or 'facts lost'})"
            )
        elif y["passed"] and not x["passed"]:
            better.append(f"FIXED      {cid}: failed → passed")
        elif x.get("chrf") is not None and y.get("chrf") is not None:
            delta = y["chrf"] - x["chrf"]
            if abs(delta) >= 5:
                changed.append(
                    f"{'chrF down ' if delta < 0 else 'chrF up   '} {cid}: "
                    f"{x['chrf']:.1f} → {y['chrf']:.1f}"
                )
    only_a = sorted(set(ca) - set(cb))
    only_b = sorted(set(cb) - set(ca))
    sa, sb = a["summary"], b["summary"]
    lines = [*worse, *sorted(changed), *better]
    lines += [f"MISSING    {cid}: in run A only" for cid in only_a]
    lines += [f"NEW        {cid}: in run B only" for cid in only_b]
    dropped = sb["pass_rate"] < sa["pass_rate"]
    lines.append(
        f"pass rate {sa['pass_rate']:.4f} → {sb['pass_rate']:.4f} "
        f"({len(worse)} regressions, {len(better)} fixed); "
        f"model {sa.get('model') or 'offline'} → {sb.get('model') or 'offline'}"
    )
    return lines, dropped
