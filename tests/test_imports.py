"""`h2h check` and the offline rewrite import neither litellm nor openai, nor the server's
dependencies: fast start, no network."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import EXAMPLES

PROBE = """
import sys
from rewriter.cli import main
code = main(sys.argv[1:])
server = ("fastapi", "starlette", "uvicorn", "prometheus_client", "mcp")  # h2h[serve] only
heavy = sorted(m for m in ("litellm", "openai", "httpx", "aiohttp", *server) if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def _heavy(args: list[str], stdin: str | None = None) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [x for x in run.stderr.splitlines() if x.startswith("HEAVY=")][-1]
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


def test_check_imports_no_model_library() -> None:
    case = json.dumps({"draft": "Спасибо за обращение.", "reply": "Уже проверяем."})
    assert _heavy(["check", "-"], case) == []


def test_offline_rewrite_imports_no_model_library() -> None:
    assert _heavy(["rewrite", str(EXAMPLES / "tariff-99.json")]) == []


def test_rules_imports_no_model_library() -> None:
    assert _heavy(["rules"]) == []


def test_public_api_is_complete() -> None:
    import rewriter

    for name in rewriter.__all__:
        assert getattr(rewriter, name) is not None
    assert set(rewriter.__all__) - {"__version__"} == set(rewriter._EXPORTS)


def test_only_the_command_changes_the_garbage_collector() -> None:
    """The CLI collects rarely (a start-up builds ~1M objects that are never garbage); a
    helpdesk plugin that imports the library and checks a case keeps its own settings."""
    probe = """
import gc, sys
before = gc.get_threshold()
from rewriter import Case, check
check(Case.model_validate({"draft": "Спасибо, вернём деньги завтра."}))
library = gc.get_threshold()
import rewriter.cli
print(before == library, gc.get_threshold()[0])
"""
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    unchanged, command_threshold = run.stdout.split()
    assert unchanged == "True"
    assert int(command_threshold) >= 100_000
