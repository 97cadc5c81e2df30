"""The wheel carries the data folders, and an installed h2h finds them from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import EXAMPLES, ROOT

DATA = ("guardrails", "prompts", "evals", "examples")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return next(out.glob("h2h-*.whl"))


@pytest.mark.slow
def test_wheel_lists_the_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in DATA:
        in_tree = {
            f"rewriter/_data/{p.relative_to(ROOT).as_posix()}"
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert in_tree, folder
        missing = in_tree - names
        assert not missing, f"not in the wheel: {sorted(missing)[:5]}"
    assert "rewriter/cli.py" in names
    assert not [n for n in names if n.endswith(".py") and n.startswith("rewriter/_data/")], (
        "data folders hold no Python"
    )
    assert any(n.endswith("entry_points.txt") for n in names)


@pytest.mark.slow
def test_installed_wheel_runs_from_elsewhere(wheel: Path, tmp_path: Path) -> None:
    """A non-editable install, run from a directory with no repository around it."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    case = work / "case.json"
    case.write_text((EXAMPLES / "court-promo.json").read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONIOENCODING": "utf-8"}
    code = (
        "import sys, rewriter.paths as p; "
        "assert '_data' in str(p.data_dir('guardrails')), p.data_dir('guardrails'); "
        "from rewriter.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "rewrite", "case.json"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "10 рабочих дней" in run.stdout and "SORRY100" not in run.stdout
    rules = subprocess.run(
        [sys.executable, "-c", code, "rules"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    shipped = len(list((ROOT / "guardrails").glob("*.yaml")))
    assert rules.returncode == 0 and len(rules.stdout.splitlines()) == shipped
