"""`evaluate`: rewrite every golden case and score the result.

A case passes when its text carries no block violation, keeps every fact of the draft and the
draft's substance as the golden reply keeps it (evals/substance.py). With a model configured,
the text must also be the model's own answer: a safe fallback to the offline engine shows the
safety net works, not that the model does, so it is counted (`fallback_rate`) and never a pass.
An answer the model gave verbatim to drafts that say different things is canned, not a rewrite.
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
from rewriter.evals import substance
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
    passed: bool  # with a model: by the model's own answer (a fallback never passes)
    output_ok: bool = True  # the text the agent would get passes, a fallback's included
    from_fallback: bool = False  # a model was configured, the text is the offline engine's
    fail_reasons: list[str] = Field(default_factory=list)  # why not passed, one line each
    substance_anchors: list[str] = Field(default_factory=list)  # draft words the golden keeps
    substance_missing: list[str] = Field(default_factory=list)  # … and the text does not
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
    judge_unparsed: bool = False  # the judge answered, but no score could be read from it
    judge_answer: str | None = None  # its raw answer, kept when some score was not read


class EvalReport(BaseModel):
    summary: dict[str, Any]
    cases: list[CaseReport]


# .json holds one case or a list of cases, .jsonl one case per line, .yaml either.
CASE_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")


def find_case_files(path: Path | None) -> list[Path]:
    root = path or data_dir("evals") / "cases"
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UsageError(f"{root}: no such file or folder of eval cases")
    files = sorted(p for p in root.rglob("*") if p.suffix in CASE_SUFFIXES)
    if not files:
        raise UsageError(f"{root}: no *.json, *.jsonl or *.yaml eval cases")
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


def _text_faults(case: Case, result: Any, anchors: list[Any]) -> list[str]:
    """Why the text itself fails, whoever wrote it: block rules, lost facts, lost substance."""
    faults = []
    blocks = sorted({v.rule for v in result.violations if v.blocks})
    if blocks:
        faults.append(f"block: {', '.join(blocks)}")
    if _facts_kept(case, result.violations) < 1.0 and "lost-fact" not in blocks:
        faults.append("facts lost")
    lost = substance.missing(anchors, result.text)
    if not substance.kept_enough(anchors, lost):
        faults.append(
            f"substance lost: keeps {len(anchors) - len(lost)} of {len(anchors)} draft words "
            f"the golden reply keeps (missing: {', '.join(t.text for t in lost)})"
        )
    return faults


def _model_faults(result: Any, modelled: bool) -> list[str]:
    """Why the run does not count for the model: its answer was not the text used."""
    if modelled and result.source != "llm":
        return ["fallback: the model's answers were not used; the text is the offline engine's"]
    return []


def _run_passed(case: Case, result: Any, anchors: list[Any], modelled: bool) -> bool:
    return not _text_faults(case, result, anchors) and not _model_faults(result, modelled)


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


JUDGE_ANSWER_KEPT = 2000  # characters of an unreadable judge answer kept for the report


async def _judge(
    case: Case, text: str, judge: str, **kw: Any
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Score a rewrite with a model, from prompts/judge.j2. Personal data is masked first.
    Returns the scores read and, when some were missing, the judge's raw answer."""
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
        return {"error": {"score": None, "reason": classify(exc).detail}}, None
    ids = [p["id"] for p in rubric]
    raw = answer if isinstance(answer, str) else answer.text
    parsed = parse_judgement(raw, ids)
    # Keep what the judge said when a principle's score could not be read from it, so the
    # report can show it instead of silently averaging fewer scores.
    return parsed, (raw[:JUDGE_ANSWER_KEPT] if set(parsed) != set(ids) else None)


async def _one(
    case: Case,
    raw: dict[str, Any],
    sem: asyncio.Semaphore,
    repeat: int = 1,
    judge: str | None = None,
    on_done: Any = None,
    modelled: bool = False,
    **kw: Any,
) -> CaseReport:
    golden = raw.get("golden")
    anchors = substance.anchors(case, golden)
    async with sem:
        t0 = time.perf_counter()
        result = await arewrite(case, **kw)
        latency = time.perf_counter() - t0
        # With a model, a run counts (here and for pass^N) only when the model's own answer
        # passed: a safe fallback to the offline engine is not the model being reliable.
        passes = int(_run_passed(case, result, anchors, modelled))
        texts = [result.text]
        for _ in range(repeat - 1):  # repeats measure flakiness: always fresh model answers
            again = await arewrite(case, **{**kw, "cache": False})
            passes += _run_passed(case, again, anchors, modelled)
            texts.append(again.text)
        judged = await _judge(case, result.text, judge, **kw) if judge else None
    if on_done:
        on_done()
    golden_violations = [
        v
        for v in (
            violations_for(case.model_copy(update={"reply": golden}), golden) if golden else []
        )
        if v.blocks
    ]
    kept = _facts_kept(case, result.violations)
    text_faults = _text_faults(case, result, anchors)
    judgement, judge_answer = judged if judged else (None, None)
    return CaseReport(
        id=case.id or "?",
        seed=raw.get("seed"),
        passed=not text_faults and not _model_faults(result, modelled),
        output_ok=not text_faults,
        from_fallback=modelled and result.source != "llm",
        fail_reasons=_model_faults(result, modelled) + text_faults,
        substance_anchors=[t.text for t in anchors],
        substance_missing=[t.text for t in substance.missing(anchors, result.text)],
        runs=repeat,
        passes=passes,
        chrf_spread=_spread([_chrf(t, golden) for t in texts]) if repeat > 1 else None,
        judge=judgement,
        judge_unparsed=judged is not None and not judgement,
        judge_answer=judge_answer,
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


# Drafts that say different things one answer must have been given to before it counts as
# canned: two short drafts in other words («Проверяю.», «Смотрю, что случилось.») may fairly
# get the same reply; a third is a pattern.
IDENTICAL_DRAFTS = 3


def _mark_identical(pairs: list[tuple[Case, CaseReport]]) -> None:
    """A model answer given verbatim to drafts that say different things answers none of them:
    each such case fails, naming the others."""
    groups: dict[str, list[tuple[Case, CaseReport]]] = {}
    for case, report in pairs:
        if report.source == "llm":
            groups.setdefault(" ".join(report.text.lower().split()), []).append((case, report))
    for group in groups.values():
        drafts = {substance.content_key(case, case.draft or "") for case, _ in group}
        if len(drafts) < IDENTICAL_DRAFTS:
            continue
        for _, report in group:
            others = [r.id for _, r in group if r is not report]
            shown = ", ".join(others[:3]) + (
                f" and {len(others) - 3} more" if len(others) > 3 else ""
            )
            report.fail_reasons.append(
                f"identical: the same answer as for {shown}, whose drafts say something else"
            )
            if report.passed:
                report.passes -= 1
            report.passed = False


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
    config = _configured(model, judge, api_base, timeout, injected=completion is not None)
    model = config.model if config else None
    modelled = config is not None or completion is not None
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
                modelled=modelled,
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
    _mark_identical([(c, r) for (c, _), r in zip(loaded, reports, strict=True)])
    n = max(1, len(reports))
    passed = sum(r.passed for r in reports)
    judged = [r for r in reports if r.judge is not None or r.judge_unparsed]
    with_anchors = [r for r in reports if r.substance_anchors]
    summary = {
        "cases": len(reports),
        "passed": passed,
        "pass_rate": round(passed / len(reports), 4) if reports else 0.0,
        # With a model: the share of cases the model's own answer passed (= pass_rate), and the
        # share whose text came from the offline fallback. None when no model was configured.
        "model_pass_rate": round(passed / n, 4) if modelled else None,
        "fallback_rate": round(sum(r.from_fallback for r in reports) / n, 4) if modelled else None,
        # The safety net: the text the agent would get passes, whoever wrote it.
        "output_pass_rate": round(sum(r.output_ok for r in reports) / n, 4),
        "identical_answers": sum(
            any(f.startswith("identical:") for f in r.fail_reasons) for r in reports
        ),
        "substance_kept": _mean(
            [1 - len(r.substance_missing) / len(r.substance_anchors) for r in with_anchors]
        ),
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
        "judge_errors": (
            sum(bool(r.judge and "error" in r.judge) for r in judged) if judge else None
        ),
        "judge_unparsed": sum(r.judge_unparsed for r in judged) if judge else None,
        "judge_partial": (
            sum(r.judge_answer is not None and not r.judge_unparsed for r in judged)
            if judge
            else None
        ),
    }
    return EvalReport(summary=summary, cases=list(reports))


def _configured(
    model: str | None,
    judge: str | None,
    api_base: str | None,
    timeout: float | None,
    *,
    injected: bool,
) -> Any:
    """The model configuration (H2H_MODEL counts), validated with the judge's: a misconfigured
    model stops the run before the first case is sent (exit 2), instead of every case retrying
    and falling back. A caller's own completion function is its own transport: not checked."""
    from rewriter.model.llm import ModelConfig

    config = ModelConfig.resolve(model, api_base, timeout)
    if not injected:
        for checked in (config, ModelConfig.resolve(judge, api_base, timeout) if judge else None):
            if checked is not None:
                checked.validate()
    return config


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


SUMMARY_HELP = {
    "pass_rate": "cases passed / cases; with a model, by the model's own answer only",
    "model_pass_rate": "cases the model's own answer passed / cases (none offline)",
    "fallback_rate": "cases whose text is the offline fallback / cases (none offline)",
    "output_pass_rate": "cases whose text (model's or fallback's) passes / cases",
    "pass_hat_n": "cases passed in every one of --repeat N runs / cases",
    "judge_unparsed": "judge answers no score could be read from",
}


def _md_case(c: CaseReport) -> list[str]:
    mark = "PASS" if c.passed else "FAIL"
    origin = "fallback (offline engine)" if c.from_fallback else c.source
    lines = [
        f"## {mark} {c.id}" + (f" ({c.seed})" if c.seed else ""),
        "",
        f"text from: {origin}; {c.attempts} call{'' if c.attempts == 1 else 's'}",
        "",
        c.text,
        "",
    ]
    lines += [f"- why: {reason}" for reason in c.fail_reasons]
    lines += [f"- model error: {error}" for error in c.errors] if c.from_fallback else []
    if c.reasks:
        lines.append("- re-asked for: " + ", ".join(f"{k} ×{v}" for k, v in c.reasks.items()))
    for v in c.violations:
        lines.append(f"- {v.severity} {v.rule}: «{v.text}» {v.message}")
    if c.runs > 1:
        lines.append(f"- passed {c.passes} of {c.runs} runs")
    if c.judge_unparsed:
        lines.append(f"- judge answer not read: {c.judge_answer!r}")
    lines.append("")
    return lines


def write_report(report: EvalReport, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    s = report.summary
    lines = [f"# h2h eval: {s['passed']}/{s['cases']} passed", ""]
    for key, value in s.items():
        lines.append(
            f"- {key}: {value}" + (f" — {SUMMARY_HELP[key]}" if key in SUMMARY_HELP else "")
        )
    from rewriter.evals.htmlreport import HONESTY, PASS_HAT_N, render_html

    lines += ["", HONESTY, "", PASS_HAT_N, ""]
    for c in report.cases:
        lines += _md_case(c)
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")

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


def _honest_pass(case: dict[str, Any], summary: dict[str, Any]) -> bool:
    """A case's pass as this version scores it: reports written before the model/fallback
    distinction counted a fallback's safe text as a model run's pass."""
    if summary.get("model") and case.get("source") not in (None, "llm"):
        return False
    return bool(case["passed"])


def _rate(report: dict[str, Any]) -> float:
    cases = report["cases"]
    return sum(_honest_pass(c, report["summary"]) for c in cases) / len(cases) if cases else 0.0


def _fmt_rate(value: Any) -> str:
    return "—" if value is None else f"{value:.4f}"


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], bool]:
    """Lines saying what got worse (first) and better from run A to run B, and whether the
    pass rate dropped. Passes are read honestly (`_honest_pass`), whatever wrote the report."""
    sa, sb = a["summary"], b["summary"]
    ca = {c["id"]: c for c in a["cases"]}
    cb = {c["id"]: c for c in b["cases"]}
    worse, better, changed = [], [], []
    for cid in sorted(set(ca) & set(cb)):
        x, y = ca[cid], cb[cid]
        px, py = _honest_pass(x, sa), _honest_pass(y, sb)
        if px and not py:
            worse.append(f"REGRESSION {cid}: passed → failed ({_why(y, sb)})")
        elif py and not px:
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
    lines = [*worse, *sorted(changed), *better]
    lines += [f"MISSING    {cid}: in run A only" for cid in only_a]
    lines += [f"NEW        {cid}: in run B only" for cid in only_b]
    rate_a, rate_b = _rate(a), _rate(b)
    dropped = rate_b < rate_a
    lines.append(
        f"pass rate {rate_a:.4f} → {rate_b:.4f} "
        f"({len(worse)} regressions, {len(better)} fixed); "
        f"model {sa.get('model') or 'offline'} → {sb.get('model') or 'offline'}"
    )
    if sa.get("model") or sb.get("model"):
        lines.append(
            f"model pass rate {_fmt_rate(_model_rate(a))} → {_fmt_rate(_model_rate(b))}; "
            f"fallback rate {_fmt_rate(_fallback_rate(a))} → {_fmt_rate(_fallback_rate(b))}"
        )
    return lines, dropped


def _model_rate(report: dict[str, Any]) -> float | None:
    return round(_rate(report), 4) if report["summary"].get("model") else None


def _fallback_rate(report: dict[str, Any]) -> float | None:
    cases = report["cases"]
    if not report["summary"].get("model") or not cases:
        return None
    return round(sum(c.get("source") != "llm" for c in cases) / len(cases), 4)


def _why(case: dict[str, Any], summary: dict[str, Any]) -> str:
    reasons = list(case.get("fail_reasons") or [])
    if not reasons:  # a report from before fail_reasons
        if summary.get("model") and case.get("source") not in (None, "llm"):
            reasons.append("fallback")
        rules = sorted(
            {v["rule"] for v in case.get("violations", []) if v.get("severity") == "block"}
        )
        if rules or not reasons:
            reasons.append(", ".join(rules) or "facts lost")
    return "; ".join(r if r.startswith("block:") else r.split(":", 1)[0] for r in reasons)
