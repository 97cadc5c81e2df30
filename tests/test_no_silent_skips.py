"""The serve, MCP, schema and browser suites skip themselves when a module they need is absent
(`pytest.importorskip`). Those modules are in the `test` extra, so in a test environment a
skip means a broken install, and a green run would hide that the suites never ran."""

from __future__ import annotations

import importlib.util
import re

import pytest

from .conftest import ROOT

_SKIP = re.compile(r"""importorskip\(\s*["']([\w.]+)["']""")


def _skipped_modules() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "tests").glob("*.py")):
        for name in _SKIP.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, path.name)
    return found


def test_the_scan_finds_the_optional_suites() -> None:
    # Guards the test below against an empty parametrisation (a renamed helper, a moved folder).
    assert {"fastapi", "mcp", "playwright.sync_api"} <= set(_skipped_modules())


@pytest.mark.parametrize(("module", "where"), sorted(_skipped_modules().items()))
def test_every_module_a_suite_may_skip_on_is_installed(module: str, where: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{where} would skip: no {module}"
