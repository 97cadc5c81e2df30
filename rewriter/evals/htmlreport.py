"""A self-contained HTML eval report a support lead can open: the summary on top, then one row
per case with thread, draft, rewrite and golden side by side, the changes against the draft
highlighted and the violations marked. No scripts, no external assets."""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

from rewriter.guard.display import MARK_CLOSE, MARK_OPEN, marked

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d1d1f}
h1{font-size:22px;margin:0 0 8px} .sum{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 20px}
.sum div{background:#f2f2f7;border-radius:8px;padding:6px 10px} .sum b{display:block;font-size:16px}
.case{border:1px solid #d2d2d7;border-radius:10px;margin:0 0 16px;padding:12px 14px}
.case.fail{border-color:#ff3b30;box-shadow:0 0 0 1px #ff3b30 inset}
.head{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
.badge{font-weight:600;border-radius:6px;padding:1px 8px;color:#fff}
.pass{background:#34c759} .failb{background:#ff3b30} .meta{color:#6e6e73;font-size:12px}
.thread{margin:8px 0;padding:6px 10px;background:#fafafa;border-radius:8px}
.msg{margin:2px 0} .who{font-weight:600;color:#6e6e73;margin-right:6px}
.cols{display:grid;grid-template-columns:repeat(3,1fr);gap:10px}
.col h3{font-size:12px;text-transform:uppercase;color:#6e6e73;margin:6px 0}
.col div{white-space:pre-wrap;background:#fff;border:1px solid #e5e5ea;border-radius:8px;
 padding:8px}
ins{background:#d1f7d6;text-decoration:none} del{background:#ffd6d6}
mark{background:#ffe08a;border-bottom:2px solid #ff9500}
ul.v{margin:6px 0 0;padding-left:18px} .block{color:#d70015} .warn{color:#b25000}
.src{font-weight:600;border-radius:6px;padding:1px 8px;font-size:12px}
.src.llm{background:#e3f0ff;color:#0040a0} .src.fallback{background:#fff0d6;color:#8a4b00}
.src.offline{background:#ececf0;color:#3a3a3c}
.why{margin:8px 0 0;padding:6px 10px;background:#fff7f7;border-left:3px solid #ff3b30}
.why li{margin:2px 0} .note{color:#3a3a3c;max-width:900px;margin:0 0 16px}
pre.raw{white-space:pre-wrap;background:#f2f2f7;border-radius:6px;padding:6px}
"""

PASS_HAT_N = (
    "pass^N (--repeat N): the share of cases that passed in every one of N runs, each with a "
    "fresh model answer. It measures how reliably the model gets a case right, not whether it "
    "can: a case that passes 2 runs of 3 is flaky and counts as a failure. A run whose text came "
    "from the offline fallback is a failed run."
)
HONESTY = (
    "With a model, a case passes only when the model's own answer passed: a text that came from "
    "the offline fallback (the model's answers were rejected or the call failed) is shown and "
    "counted in the fallback rate, never as a pass. A case also fails when its text drops the "
    "draft's substance that the golden reply keeps, or when the model gave the very same answer "
    "to drafts that say different things."
)


def _diff(draft: str, text: str) -> tuple[str, str]:
    """Word-level diff: what the rewrite dropped (in the draft) and added (in the rewrite)."""
    a, b = re.findall(r"\S+|\s+", draft), re.findall(r"\S+|\s+", text)
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        old, new = html.escape("".join(a[i1:i2])), html.escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old)
            right.append(new)
        else:
            if old.strip():
                left.append(f"<del>{old}</del>")
            if new.strip():
                right.append(f"<ins>{new}</ins>")
    return "".join(left), "".join(right)


def _marked_html(text: str, violations: list[Any]) -> str:
    escaped = html.escape(marked(text, violations))
    return escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def _origin(c: Any) -> str:
    """Who wrote the text: the model, the offline fallback (a model was asked), or the offline
    engine (no model configured)."""
    if getattr(c, "from_fallback", False):
        return (
            "<span class='src fallback' title='the model was asked; its answer was not used'>"
            "fallback</span>"
        )
    if c.source == "llm":
        return "<span class='src llm'>model</span>"
    return "<span class='src offline'>offline engine</span>"


def _why(c: Any) -> list[str]:
    """Why the case failed and, for a fallback, why the model's answers were not used."""
    items = [f"<li>{html.escape(r)}</li>" for r in getattr(c, "fail_reasons", [])]
    if getattr(c, "from_fallback", False):
        items += [f"<li>model: {html.escape(e)}</li>" for e in c.errors]
    if c.reasks:
        asked = ", ".join(f"{k} ×{v}" for k, v in sorted(c.reasks.items()))
        items.append(f"<li>re-asked for: {html.escape(asked)}</li>")
    out = [f"<ul class='why'>{''.join(items)}</ul>"] if items else []
    if getattr(c, "judge_answer", None):
        label = (
            "judge answer: no score read" if c.judge_unparsed else "judge answer: scores missing"
        )
        out.append(
            f"<details><summary class='meta'>{label}</summary>"
            f"<pre class='raw'>{html.escape(c.judge_answer)}</pre></details>"
        )
    return out


def render_html(report: Any) -> str:
    s = report.summary

    def rate(key: str) -> str:
        return "—" if s.get(key) is None else f"{s[key]:.2f}"

    tiles = [
        ("passed", f"{s['passed']}/{s['cases']}"),
        ("pass rate", f"{s['pass_rate']:.2f}"),
        ("model pass rate", rate("model_pass_rate")),
        ("fallback rate", rate("fallback_rate")),
        ("texts passing incl. fallback", rate("output_pass_rate")),
        ("identical answers", str(s.get("identical_answers", 0))),
        ("substance kept", rate("substance_kept")),
        ("facts kept", f"{s['facts_kept']:.2f}"),
        ("canned phrases", f"{s.get('canned_before', 0)} → {s.get('canned_after', 0)}"),
        ("register match", f"{s.get('register_match', 0):.2f}"),
        ("chrF", "—" if s.get("chrf") is None else f"{s['chrf']:.1f}"),
        ("model", s.get("model") or "offline"),
        ("wall", f"{s['wall_s']:.1f} s"),
    ]
    if s.get("repeat", 1) > 1:
        tiles.append((f"pass^{s['repeat']}", f"{s['pass_hat_n']:.2f}"))
        tiles.append(("flaky", str(len(s.get("flaky", [])))))
    if s.get("judge"):
        tiles.append(("judge answers unread", str(s.get("judge_unparsed") or 0)))
        tiles.append(("judge errors", str(s.get("judge_errors") or 0)))
    parts = [
        "<!doctype html><html lang='ru'><head><meta charset='utf-8'>",
        f"<title>h2h eval: {s['passed']}/{s['cases']} passed</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>h2h eval: {s['passed']}/{s['cases']} passed</h1><div class='sum'>",
        *(f"<div>{html.escape(k)}<b>{html.escape(str(v))}</b></div>" for k, v in tiles),
        "</div>",
        f"<p class='note'>{html.escape(HONESTY)}</p>",
        f"<p class='note' id='pass-hat-n'>{html.escape(PASS_HAT_N)}</p>",
    ]
    for c in sorted(report.cases, key=lambda c: (c.passed, c.id)):  # failures first
        left, right = _diff(c.draft, c.text)
        if any(v.span for v in c.violations):
            right = _marked_html(c.text, c.violations)
        badge = (
            "<span class='badge pass'>PASS</span>"
            if c.passed
            else "<span class='badge failb'>FAIL</span>"
        )
        calls = f"{c.attempts} call" + ("" if c.attempts == 1 else "s")
        meta = f"{calls} · {c.latency_s:.2f} s" + (
            f" · chrF {c.chrf:.1f}" if c.chrf is not None else ""
        )
        origin = _origin(c)
        parts.append(
            f"<section class='case{'' if c.passed else ' fail'}' id='{html.escape(c.id)}'>"
        )
        parts.append(
            f"<div class='head'>{badge}{origin}<b>{html.escape(c.id)}</b>"
            f"<span class='meta'>{html.escape(c.seed or '')} · {html.escape(meta)}</span></div>"
        )
        if c.thread:
            parts.append("<div class='thread'>")
            for m in c.thread:
                who = "клиент" if m.get("author") == "customer" else "агент"
                parts.append(
                    f"<div class='msg'><span class='who'>{who}</span>"
                    f"{html.escape(m.get('text', ''))}</div>"
                )
            parts.append("</div>")
        parts.append("<div class='cols'>")
        parts.append(f"<div class='col'><h3>draft</h3><div>{left}</div></div>")
        parts.append(f"<div class='col'><h3>rewrite</h3><div>{right}</div></div>")
        parts.append(
            f"<div class='col'><h3>golden</h3><div>{html.escape(c.golden or '—')}</div></div>"
        )
        parts.append("</div>")
        if c.judge:
            scores = " · ".join(
                f"{html.escape(k)} {v.get('score')}" for k, v in c.judge.items() if v.get("score")
            )
            reasons = "; ".join(html.escape(v.get("reason") or "") for v in c.judge.values())
            parts.append(f"<div class='meta' title='{reasons}'>judge: {scores}</div>")
        if c.runs > 1:
            parts.append(f"<div class='meta'>passed {c.passes} of {c.runs} runs</div>")
        parts += _why(c)
        if c.violations:
            parts.append("<ul class='v'>")
            for v in c.violations:
                quoted = f" «{html.escape(v.text)}»" if v.text else ""
                parts.append(
                    f"<li class='{v.severity}'><b>{v.rule}</b>{quoted}: "
                    f"{html.escape(v.message)}</li>"
                )
            parts.append("</ul>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
