"""Eval reports: compare finds regressions, the HTML report shows every case in a real browser."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from rewriter import evaluate
from rewriter.cli import main
from rewriter.evals.evaluate import write_report
from rewriter.paths import data_dir

BASELINE = data_dir("evals") / "baseline" / "offline"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    write_report(evaluate(), out)
    return out


def test_no_regression_against_the_committed_baseline(run, capsys) -> None:
    assert main(["eval", "compare", str(BASELINE), str(run), "--min-pass-rate", "0.9"]) == 0
    out, _ = capsys.readouterr()
    assert "0 regressions" in out


def test_compare_puts_regressions_first_and_fails(run, tmp_path, capsys) -> None:
    data = json.loads((run / "report.json").read_text(encoding="utf-8"))
    worse = copy.deepcopy(data)
    victim = next(c for c in worse["cases"] if c["passed"])
    victim["passed"] = False
    victim["violations"] = [
        {"rule": "lost-fact", "severity": "block", "message": "m", "span": None, "text": "99"}
    ]
    worse["summary"]["pass_rate"] = round(data["summary"]["pass_rate"] - 0.03, 4)
    path = tmp_path / "worse.json"
    path.write_text(json.dumps(worse, ensure_ascii=False), encoding="utf-8")
    assert main(["eval", "compare", str(run), str(path)]) == 1
    out, _ = capsys.readouterr()
    assert out.splitlines()[0].startswith(f"REGRESSION {victim['id']}")
    assert main(["eval", "compare", str(path), str(run)]) == 0
    assert "FIXED" in capsys.readouterr()[0]
    assert main(["eval", "compare", str(run), str(run), "--min-pass-rate", "0.99"]) == 1


def test_compare_rejects_what_is_not_a_report(tmp_path, capsys) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{}", encoding="utf-8")
    assert main(["eval", "compare", str(bad), str(bad)]) == 2
    assert "not an eval report" in capsys.readouterr()[1]


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.ids.append(a["id"])
        if tag in ("script", "link", "img") or (a.get("src") or "").startswith("http"):
            self.external.append(tag)


def test_html_report_is_self_contained_and_complete(run) -> None:
    html = (run / "report.html").read_text(encoding="utf-8")
    parser = _Sections()
    parser.feed(html)
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    assert sorted(parser.ids) == sorted(c["id"] for c in report["cases"])
    assert parser.external == []
    assert "<ins>" in html and "<del>" in html  # the diff against the draft is highlighted


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def test_html_report_renders_in_headless_chromium(run, tmp_path) -> None:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    page = (run / "report.html").as_uri()
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-500:]
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    for case in report["cases"]:
        assert f'id="{case["id"]}"' in dom.stdout, case["id"]
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1400,2000", page],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
