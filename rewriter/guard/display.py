"""Human-readable output for the terminal: violations with their evidence, the text with the
offending spans marked, and the archive audit summary. rich is imported only for a terminal."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rewriter.models import CheckResult, Violation

MARK_OPEN, MARK_CLOSE = "⟦", "⟧"


def marked(text: str, violations: Sequence[Violation]) -> str:
    """`text` with every violation span wrapped in ⟦…⟧ (overlaps merged)."""
    spans = sorted({v.span for v in violations if v.span})
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out += [text[pos:start], MARK_OPEN, text[start:end], MARK_CLOSE]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def headline(v: Violation) -> str:
    """«block  invented-deadline «до пятницы» [12:22]»: one violation in one line."""
    where = f" [{v.span[0]}:{v.span[1]}]" if v.span else ""
    quoted = f" «{v.text}»" if v.text else ""
    return f"{v.severity:5}  {v.rule}{quoted}{where}"


def format_check(result: CheckResult, text: str, width: int = 100) -> str:
    if not result.violations:
        return "ok: no violations"
    lines: list[str] = []
    for v in result.violations:
        lines.append(headline(v))
        lines += textwrap.wrap(
            v.message, width - 7, initial_indent="       ", subsequent_indent="       "
        )
        if v.evidence:
            lines += textwrap.wrap(
                f"почему: {v.evidence}",
                width - 7,
                initial_indent="       ",
                subsequent_indent="       ",
            )
    blocks = sum(v.blocks for v in result.violations)
    lines += [
        "",
        marked(text, result.violations),
        "",
        f"{blocks} block, {len(result.violations) - blocks} warn",
    ]
    return "\n".join(lines)


def print_check_rich(result: CheckResult, text: str) -> None:
    """The same report with colours and the spans highlighted in place."""
    from rich.console import Console
    from rich.text import Text

    console = Console()
    if not result.violations:
        console.print("[green]ok[/green]: no violations")
        return
    for v in result.violations:
        colour = "red" if v.blocks else "yellow"
        head = Text.assemble((f"{v.severity:5}", f"bold {colour}"), "  ", (v.rule, "bold"))
        if v.text:
            head.append(f" «{v.text}»")
        console.print(head)
        console.print(Text(v.message), style="dim", soft_wrap=False)
        if v.evidence:
            console.print(Text(f"почему: {v.evidence}"), style="italic")
    body = Text(text)
    for v in result.violations:
        if v.span:
            body.stylize("bold red underline" if v.blocks else "yellow underline", *v.span)
    console.print()
    console.print(body)


class Audit:
    """Counts for `h2h check --jsonl --summary`: what a lead audits in a month of replies."""

    def __init__(self, worst: int = 5) -> None:
        self.cases = 0
        self.blocked = 0
        self.bad_lines = 0
        self.by_rule: Counter[str] = Counter()
        self.severity: dict[str, str] = {}
        self.worst_n = worst
        self.worst: list[tuple[int, int, int, str, str, list[str]]] = []

    def add(self, case_id: Any, reply: str, marks: Sequence[tuple[str, str]]) -> None:
        """One checked case; `marks` are the (rule, severity) of its violations."""
        self.cases += 1
        blocks = [rule for rule, severity in marks if severity == "block"]
        self.blocked += bool(blocks)
        for rule, severity in marks:
            self.by_rule[rule] += 1
            self.severity[rule] = severity
        if marks:
            rules = sorted({rule for rule, _ in marks})
            score = (len(set(blocks)), len(blocks), len(marks))
            self.worst.append((*score, str(case_id), reply, rules))
            self._keep_worst()

    def merge(self, other: Audit) -> None:
        """Add the counts of another part of the same archive (checked by another process)."""
        self.cases += other.cases
        self.blocked += other.blocked
        self.bad_lines += other.bad_lines
        self.by_rule.update(other.by_rule)
        self.severity.update(other.severity)
        self.worst.extend(other.worst)
        self._keep_worst()

    def _keep_worst(self) -> None:
        # Worst first: most distinct block rules, then block findings, then all findings; the
        # sort is stable, so among equals the earlier case stays.
        self.worst.sort(key=lambda w: (-w[0], -w[1], -w[2]))
        del self.worst[self.worst_n :]

    def format(self) -> str:
        lines = [
            f"{self.cases} cases: {self.blocked} with a block violation, "
            f"{self.cases - self.blocked} clean or warnings only"
            + (f", {self.bad_lines} unreadable lines" if self.bad_lines else "")
        ]
        if self.by_rule:
            lines.append("by rule:")
            for rule, count in self.by_rule.most_common():
                lines.append(f"  {rule:24} {self.severity[rule]:5} {count}")
        if self.worst:
            lines.append("worst:")
            for _, blocks, total, case_id, reply, rules in self.worst:
                excerpt = " ".join(reply.split())
                excerpt = excerpt if len(excerpt) <= 90 else excerpt[:89] + "…"
                lines.append(f"  {case_id}: {blocks} block / {total} — {', '.join(rules)}")
                lines.append(f"      {excerpt}")
        return "\n".join(lines)
