"""Reading cases from files and stdin. Every problem is one UsageError line, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rewriter.errors import UsageError
from rewriter.models import Case, parse_case


def read_text(source: str) -> tuple[str, str]:
    """(text, name) from a path or `-` (stdin). Bytes must be UTF-8."""
    if source == "-":
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        path = Path(source)
        if not path.exists():
            raise UsageError(f"{source}: no such file")
        if path.is_dir():
            raise UsageError(f"{source}: is a directory, expected a case file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{source}: cannot read: {exc.strerror}") from None
        name = source
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    return text, name


def parse_document(text: str, name: str) -> Any:
    """JSON, or YAML with the same keys (by extension, or by trying JSON first)."""
    if not text.strip():
        raise UsageError(f"{name}: the file is empty")
    is_yaml = name.endswith((".yaml", ".yml"))
    if not is_yaml:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if text.lstrip().startswith(("{", "[")):
                raise UsageError(
                    f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                ) from None
    import yaml  # only for YAML cases: JSON ones never pay for the import

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UsageError(f"{name}: invalid JSON or YAML{where}") from None


def load_case(source: str) -> Case:
    text, name = read_text(source)
    return parse_case(parse_document(text, name), where=name)


def load_cases_file(path: Path) -> list[dict[str, Any]]:
    """Eval cases: a .jsonl file (one per line), or a .json or .yaml file (one case or a list)."""
    text, name = read_text(str(path))
    if path.suffix == ".jsonl":
        out = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{name}:{lineno}: invalid JSON: {exc.msg}") from None
        return out
    data = parse_document(text, name)
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict):
            raise UsageError(f"{name}: every case must be a mapping")
    return items
