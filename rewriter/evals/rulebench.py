"""Measure the rules on a labelled corpus: per-rule precision, recall, F1 and the micro-F1.

Every rule runs on every case, so a rule that fires where it is not expected is a false
positive even in a case written for another rule: labels are complete by construction.

A case may also carry `allow`: rules that may fire without penalty (a genuinely arguable
case) — firing there is neither a true nor a false positive. A corpus that labels only some
rules (../shared/corpora/guardrails-dev.jsonl labels the ten core ones) is scored on those
alone with `rules=`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewriter.errors import UsageError
from rewriter.guard.engine import check
from rewriter.guard.rules import Example, load_rules
from rewriter.loading import load_cases_file
from rewriter.models import Case, parse_case
from rewriter.paths import data_dir


@dataclass
class Labelled:
    case: Case
    expect: frozenset[str]
    where: str
    note: str | None = None
    allow: frozenset[str] = frozenset()


@dataclass
class RuleScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def labelled(self) -> int:
        """Cases of the corpus that expect the rule: with none, recall and F1 measure nothing."""
        return self.tp + self.fn


@dataclass
class BenchReport:
    cases: int
    scores: dict[str, RuleScore]
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def micro(self) -> RuleScore:
        total = RuleScore()
        for s in self.scores.values():
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total

    def to_json(self) -> dict[str, Any]:
        micro = self.micro
        return {
            "cases": self.cases,
            "micro": {
                "precision": round(micro.precision, 4),
                "recall": round(micro.recall, 4),
                "f1": round(micro.f1, 4),
                "tp": micro.tp,
                "fp": micro.fp,
                "fn": micro.fn,
            },
            "rules": {
                rid: {
                    # No labelled case: nothing measured (null), not a perfect score.
                    "precision": round(s.precision, 4) if s.tp + s.fp else None,
                    "recall": round(s.recall, 4) if s.labelled else None,
                    "f1": round(s.f1, 4) if s.labelled else None,
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                }
                for rid, s in self.scores.items()
            },
            "errors": self.errors,
        }


def load_corpus(path: Path | None = None) -> list[Labelled]:
    root = path or data_dir("evals") / "guardrails"
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".jsonl"))
    )
    if not files:
        raise UsageError(f"{root}: no labelled cases")
    known = {r.id for r in load_rules()}
    out: list[Labelled] = []
    for f in files:
        for i, raw in enumerate(load_cases_file(f)):
            where = f"{f.name}[{i}]"
            expect = raw.get("expect")
            if not isinstance(expect, list) or not set(expect) <= known:
                raise UsageError(f"{where}: `expect` must list rule ids, got {expect!r}")
            allow = raw.get("allow", [])
            if not isinstance(allow, list) or not set(allow) <= known:
                raise UsageError(f"{where}: `allow` must list rule ids, got {allow!r}")
            out.append(
                Labelled(
                    _case(raw, where), frozenset(expect), where, raw.get("note"), frozenset(allow)
                )
            )
    return out


def _case(raw: dict[str, Any], where: str) -> Case:
    if "customer" in raw or "name" in raw:
        fields = {
            k: raw[k] for k in ("reply", "customer", "thread", "draft", "facts", "name") if k in raw
        }
        try:
            data = Example.model_validate(fields).case_data()
        except Exception as exc:
            raise UsageError(f"{where}: {' '.join(str(exc).split())[:200]}") from None
        return parse_case({**data, "id": raw.get("id")}, where=where)
    return parse_case(raw, where=where)


def bench_rules(path: Path | None = None, rules: Collection[str] | None = None) -> BenchReport:
    """Score every rule (or only `rules`) on the labelled corpus at `path`."""
    corpus = load_corpus(path)
    known = [r.id for r in load_rules()]
    unknown = set(rules or ()) - set(known)
    if unknown:
        raise UsageError(f"unknown rule ids: {', '.join(sorted(unknown))}")
    scores = {rid: RuleScore() for rid in known if rules is None or rid in rules}
    errors: list[dict[str, Any]] = []
    for item in corpus:
        fired = {v.rule for v in check(item.case).violations}
        for rid, score in scores.items():
            expected, got = rid in item.expect, rid in fired
            if got and not expected and rid in item.allow:
                continue  # an arguable case: neither right nor wrong
            if expected and got:
                score.tp += 1
            elif got or expected:
                kind = "false positive" if got else "false negative"
                if got:
                    score.fp += 1
                else:
                    score.fn += 1
                errors.append(
                    {
                        "case": item.where,
                        "rule": rid,
                        "kind": kind,
                        "reply": item.case.reply,
                        "note": item.note,
                    }
                )
    return BenchReport(len(corpus), scores, errors)


def format_table(report: BenchReport) -> str:
    width = max(len(r) for r in report.scores)
    lines = [f"{'rule':<{width}}  precision  recall     f1   tp  fp  fn"]
    for rid, s in report.scores.items():
        if not s.labelled:
            # Nothing expects the rule: its recall would read 1.000 and measure nothing.
            note = "no labelled cases" + (f"; fired on {s.fp} case(s)" if s.fp else "")
            lines.append(f"{rid:<{width}}  {note:<24}  {s.tp:3d} {s.fp:3d} {s.fn:3d}")
            continue
        lines.append(
            f"{rid:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  "
            f"{s.tp:3d} {s.fp:3d} {s.fn:3d}"
        )
    m = report.micro
    lines.append(
        f"{'micro':<{width}}  {m.precision:9.3f}  {m.recall:6.3f}  {m.f1:5.3f}  "
        f"{m.tp:3d} {m.fp:3d} {m.fn:3d}"
    )
    lines.append(f"{report.cases} cases")
    return "\n".join(lines)


def write_json(report: BenchReport, path: Path) -> None:
    path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")


def error_counts(report: BenchReport) -> Counter[str]:
    return Counter(f"{e['rule']} {e['kind']}" for e in report.errors)
