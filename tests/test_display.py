"""What a person reads: evidence on violations, marked spans, the archive audit."""

from __future__ import annotations

import json

from rewriter import Case, check
from rewriter.cli import main
from rewriter.guard.display import format_check, marked, print_check_rich

SUING = {
    "thread": [{"author": "customer", "text": "Подаю в суд, юрист уже готовит иск."}],
    "draft": "Ответ юристов придёт в течение 10 рабочих дней.",
    "reply": "Держите промокод :) Ответ юристов придёт до пятницы.",
}


def test_every_block_violation_explains_itself() -> None:
    result = check(Case.model_validate(SUING))
    by_rule = {v.rule: v for v in result.violations}
    assert by_rule["promo-in-legal-dispute"].evidence.startswith("Подаю в суд")
    assert "Подаю в суд" in by_rule["tone-overshoot"].evidence
    assert by_rule["invented-deadline"].evidence == (
        "проверено — черновик: «Ответ юристов придёт в течение 10 рабочих дней.»"
    )
    assert by_rule["lost-fact"].evidence == (
        "в черновике: «Ответ юристов придёт в течение 10 рабочих дней.»"
    )
    for v in result.violations:
        if v.blocks:
            assert v.evidence, v.rule


def test_evidence_counts_the_sources_it_searched() -> None:
    """The wording comes from guardrails/lexicons/evidence.yaml; the counts from the case."""
    case = Case.model_validate(
        {
            "thread": [
                {"author": "customer", "text": "Когда вернут деньги?"},
                {"author": "agent", "text": "Проверяю платёж."},
            ],
            "draft": "Деньги вернутся.",
            "facts": ["Возврат оформлен", "Банк-получатель: Тинькофф"],
            "reply": "Деньги вернутся завтра.",
        }
    )
    (v,) = [v for v in check(case).violations if v.rule == "invented-deadline"]
    assert v.evidence == ("проверено — черновик: «Деньги вернутся.»; факты: 2; ответы агента: 1")


def test_marked_spans() -> None:
    result = check(Case.model_validate(SUING))
    text = marked(SUING["reply"], result.violations)
    # «Держите промокод» is also a perk the draft never gave (invented-promise): one marked span.
    assert "⟦Держите промокод⟧" in text and "⟦до пятницы⟧" in text and "⟦:)⟧" in text


def test_plain_report_when_piped(tmp_path, capsys) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(SUING, ensure_ascii=False), encoding="utf-8")
    assert main(["check", str(path)]) == 1
    out, _ = capsys.readouterr()
    assert "почему: Подаю в суд" in out and "промокод⟧" in out
    assert out.rstrip().endswith("warn")


def test_format_and_rich_report_agree_on_content(capsys) -> None:
    result = check(Case.model_validate(SUING))
    plain = format_check(result, SUING["reply"])
    print_check_rich(result, SUING["reply"])
    rich_out, _ = capsys.readouterr()
    for v in result.violations:
        assert v.rule in plain and v.rule in rich_out


def test_archive_summary(tmp_path, capsys) -> None:
    rows = [SUING, {"draft": "Спасибо за обращение!"}, {"draft": "Проверим и напишем."}]
    path = tmp_path / "month.jsonl"
    path.write_text(
        "\n".join(json.dumps({**r, "id": f"r{i}"}, ensure_ascii=False) for i, r in enumerate(rows)),
        encoding="utf-8",
    )
    code = main(["check", "--jsonl", str(path), "--summary"])
    out, err = capsys.readouterr()
    assert code == 1
    assert len(out.splitlines()) == 3  # stdout stays JSONL
    assert "3 cases: 1 with a block violation" in err
    assert "promo-in-legal-dispute" in err and "template-phrase" in err
    assert "worst:" in err and "r0:" in err
