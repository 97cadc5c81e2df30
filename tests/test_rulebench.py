"""The guardrail corpus: size, balance, and the quality targets of the guardrails issue."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from rewriter.cli import main
from rewriter.evals.rulebench import bench_rules, load_corpus
from rewriter.guard.rules import load_rules

RULE_IDS = [r.id for r in load_rules()]


@pytest.fixture(scope="module")
def report():
    return bench_rules()


def test_corpus_size_and_balance() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 250
    positives = Counter(rid for item in corpus for rid in item.expect)
    for rid in RULE_IDS:
        assert positives[rid] >= 15, f"{rid}: {positives[rid]} cases that must fire"
        negatives = [c for c in corpus if c.where.startswith(rid) and rid not in c.expect]
        assert len(negatives) >= 10, f"{rid}: {len(negatives)} hard negatives"


def test_quality_targets(report) -> None:
    assert report.micro.f1 >= 0.97, report.errors
    assert report.scores["promo-in-legal-dispute"].recall == 1.0
    assert report.scores["invented-deadline"].recall == 1.0


def test_bench_rules_cli(tmp_path, capsys) -> None:
    out_file = tmp_path / "scores.json"
    assert main(["bench-rules", "--json", str(out_file)]) == 0
    printed, _ = capsys.readouterr()
    assert "micro" in printed and "promo-in-legal-dispute" in printed
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert set(data["rules"]) == set(RULE_IDS)
    assert 0 <= data["micro"]["f1"] <= 1


def test_scoring_counts_false_positives(tmp_path) -> None:
    """A rule that fires where the label says nothing is a false positive, whatever the file."""
    path = tmp_path / "one.yaml"
    path.write_text('- {reply: "Спасибо за обращение!", expect: []}\n', encoding="utf-8")
    r = bench_rules(path)
    assert r.scores["template-phrase"].fp == 1 and r.micro.precision == 0.0


def test_allow_and_rule_subset(tmp_path, capsys) -> None:
    """A corpus in the shared JSONL format: `allow` is neither right nor wrong, and `--only`
    scores only the rules the corpus labels."""
    path = tmp_path / "dev.jsonl"
    lines = [
        {
            "id": "a",
            "thread": [],
            "reply": "Спасибо за обращение!",
            "expect": [],
            "allow": ["template-phrase"],
        },
        {"id": "b", "thread": [], "reply": "Уточняю информацию.", "expect": ["template-phrase"]},
        {"id": "c", "thread": [], "reply": "Проверили Ваш платёж.", "expect": []},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    r = bench_rules(path)
    assert r.scores["template-phrase"].tp == 1 and r.scores["template-phrase"].fp == 0
    assert r.scores["capitalized-you"].fp == 1
    only = bench_rules(path, ["template-phrase"])
    assert set(only.scores) == {"template-phrase"} and only.micro.precision == 1.0
    assert main(["bench-rules", "--corpus", str(path), "--only", "template-phrase"]) == 0
    assert "capitalized-you" not in capsys.readouterr()[0]
    assert main(["bench-rules", "--corpus", str(path), "--only", "no-such-rule"]) == 2
