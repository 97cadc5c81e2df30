"""The wrapping a model puts around a reply: what is structure, not speech to the customer.

A `<think>` block, a code fence, a Markdown heading or rule, a «Label:» that opens a line
(«Ответ:», «Черновик:», «Примечание:»), a `>` quotation, a dump of the chat as JSON, and the
paragraphs of a text. Pure functions of the text; which label words count is data (the
meta-talk rule file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

Span = tuple[int, int]

THINK = re.compile(
    r"<(think|thinking|reasoning|reflection|analysis|scratchpad)>.*?(?:</\1>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
FENCE = re.compile(r"^[ \t]*```[^\n]*\n?(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+\S.*$", re.MULTILINE)
BOLD_LINE = re.compile(r"^[ \t]*\*\*[^*\n]{1,80}\*\*[ \t]*:?[ \t]*$", re.MULTILINE)
RULE_LINE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,}|={3,})[ \t]*$", re.MULTILINE)
QUOTE_LINE = re.compile(r"^[ \t]*>[ \t]?(.*)$", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def paragraphs(text: str) -> list[Span]:
    """Spans of the blank-line separated paragraphs, without surrounding whitespace."""
    out: list[Span] = []
    pos = 0
    for m in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            out.append((pos + lead, pos + len(chunk.rstrip())))
        if m:
            pos = m.end()
    return out


def label_pattern(labels: Collection[str]) -> re.Pattern[str]:
    """A line that opens with one of `labels` and a colon: «Ответ:», «**Черновик:**»,
    «Вариант 2 (теплее):», «(Изменения: …)». Group `label` is the word, `rest` what follows."""
    words = "|".join(sorted((re.escape(w) for w in labels), key=len, reverse=True))
    return re.compile(
        rf"^[ \t>]*[(\[]?[ \t]*(?:\*\*|__)?(?P<label>{words})(?:[ \t]+(?:№[ \t]*)?\d+)?"
        rf"(?:[ \t]*\([^)\n]{{0,40}}\))?[ \t]*(?:\*\*|__)?[ \t]*:(?:\*\*|__)?[ \t]*(?P<rest>.*)$",
        re.IGNORECASE | re.MULTILINE,
    )


def json_dump(text: str) -> bool:
    """The whole text is JSON (a message list, an object with the reply inside)."""
    body = text.strip()
    if not body or body[0] not in "[{":
        return False
    try:
        json.loads(body)
    except ValueError:
        return '"role"' in body or '"content"' in body
    return True


def strip_quotes(text: str) -> str:
    """«…» or "…" around the whole text (a trailing period outside allowed) taken off."""
    body = text.strip()
    for left, right in (("«", "»"), ('"', '"'), ("“", "”")):
        if body.startswith(left):
            inner = body[1:].rstrip(".").rstrip()
            if inner.endswith(right) and left not in inner[:-1] and right not in inner[:-1]:
                return inner[:-1].strip()
    return body


def quoted_lines_removed(text: str) -> str:
    """The `>` markers of a quotation taken off, the quoted text kept."""
    return QUOTE_LINE.sub(lambda m: m.group(1), text)
