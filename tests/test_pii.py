"""Personal data never reaches the provider; answers come back with it restored."""

from __future__ import annotations

import json
import re

import pytest

from rewriter import Case, rewrite
from rewriter.cli import main
from rewriter.model.pii import Masker

CARD, PHONE, EMAIL = "4111 1111 1111 1111", "8 (912) 345-67-89", "ivan.petrov@mail.ru"
PASSPORT, SNILS, INN, ACCOUNT = (
    "45 06 123456",
    "112-233-445 95",
    "7707083893",
    "40817 810 0 9999 1234567",
)

CASE = Case.model_validate(
    {
        "thread": [
            {
                "author": "customer",
                "text": (
                    f"Здравствуйте. С карты {CARD} списали деньги дважды. Мой телефон {PHONE}, "
                    f"почта {EMAIL}. "
                    f"Паспорт серия {PASSPORT}, СНИЛС {SNILS}, ИНН {INN}, счёт {ACCOUNT}."
                ),
            }
        ],
        "draft": f"Проверим списание по карте {CARD} и перезвоним на {PHONE}. "
        f"Выписку пришлём на {EMAIL}.",
    }
)
ORIGINALS = [CARD, PHONE, EMAIL, PASSPORT, SNILS, INN, ACCOUNT]


def _any_spacing(value: str) -> re.Pattern[str]:
    """The digits of `value` with any separators between them (or the e-mail as is)."""
    if "@" in value:
        return re.compile(re.escape(value), re.I)
    return re.compile(r"\D{0,3}".join(ch for ch in value if ch.isdigit()))


def test_masker_round_trip() -> None:
    masker = Masker()
    text = CASE.thread[0].text
    masked = masker.mask(text)
    for value in ORIGINALS:
        assert not _any_spacing(value).search(masked), value
    assert masker.unmask(masked) == text
    assert masker.mask(text) == masked  # stable placeholders


def test_provider_sees_no_personal_data(server) -> None:
    answer = (
        "Здравствуйте! Проверим списание по карте ⟨CARD_1⟩ и перезвоним на ⟨PHONE_1⟩. "
        "Выписку пришлём на ⟨EMAIL_1⟩."
    )
    server.say(answer)
    result = rewrite(CASE, "openai/test-model", api_base=server.url, timeout=5)
    assert result.source == "llm", result.errors
    assert CARD in result.text and PHONE in result.text and EMAIL in result.text
    log = json.dumps(server.requests, ensure_ascii=False)
    for value in ORIGINALS:
        assert not _any_spacing(value).search(log), f"{value} reached the provider"
    assert "⟨CARD_1⟩" in log


def test_dropped_placeholder_is_a_lost_fact_and_reask_stays_masked(server) -> None:
    server.say(
        "Проверим списание по карте ⟨CARD_1⟩. Выписку пришлём на ⟨EMAIL_1⟩.",
        "Проверим списание по карте ⟨CARD_1⟩ и перезвоним на ⟨PHONE_1⟩. "
        "Выписку пришлём на ⟨EMAIL_1⟩.",
    )
    result = rewrite(CASE, "openai/test-model", api_base=server.url, timeout=5)
    assert result.source == "llm" and result.reasks == {"lost-fact": 1}
    reask = server.requests[1]["messages"][-1]["content"]
    assert "lost-fact" in reask and "⟨PHONE_1⟩" in reask
    log = json.dumps(server.requests, ensure_ascii=False)
    for value in ORIGINALS:
        assert not _any_spacing(value).search(log)


def test_invented_placeholder_is_an_invented_fact(server) -> None:
    server.say(
        "Проверим списание по карте ⟨CARD_1⟩ и перезвоним на ⟨PHONE_1⟩ или ⟨PHONE_7⟩. "
        "Выписку пришлём на ⟨EMAIL_1⟩."
    )
    result = rewrite(CASE, "openai/test-model", api_base=server.url, timeout=5, max_attempts=1)
    assert result.source == "offline" and "invented-fact" in result.reasks


def test_no_mask_is_loud(server, capsys, tmp_path) -> None:
    path = tmp_path / "case.json"
    path.write_text(CASE.model_dump_json(), encoding="utf-8")
    server.say(
        f"Проверим списание по карте {CARD} и перезвоним на {PHONE}. Выписку пришлём на {EMAIL}."
    )
    assert (
        main(
            [
                "rewrite",
                str(path),
                "--model",
                "openai/test-model",
                "--api-base",
                server.url,
                "--no-mask",
            ]
        )
        == 0
    )
    _, err = capsys.readouterr()
    assert "--no-mask" in err and "WARNING" in err
    assert _any_spacing(CARD).search(json.dumps(server.requests, ensure_ascii=False))


@pytest.mark.parametrize(
    "text", ["Номер заказа 1234567890123", "Сумма 1 500 000 рублей", "Код 4111"]
)
def test_masker_leaves_ordinary_numbers(text) -> None:
    assert Masker().mask(text) == text


def test_log_has_no_personal_data(server, tmp_path) -> None:
    log = tmp_path / "h2h.log"
    server.say(
        "Держите промокод!",
        "Проверим списание по карте ⟨CARD_1⟩ и перезвоним на ⟨PHONE_1⟩. "
        "Выписку пришлём на ⟨EMAIL_1⟩.",
    )
    rewrite(CASE, "openai/test-model", api_base=server.url, timeout=5, log=log)
    rewrite(CASE, log=log)  # offline rewrites are logged too
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [r["source"] for r in records] == ["llm", "offline"]
    first = records[0]
    assert first["calls"] == 2 and first["masked"] is True and first["latency_s"] >= 0
    assert first["attempts"][0]["violations"] and first["usage"]["prompt_tokens"] == 240
    raw = log.read_text(encoding="utf-8")
    for value in ORIGINALS:
        assert not _any_spacing(value).search(raw)


def test_prompt_command_shows_the_masked_prompt(tmp_path, capsys) -> None:
    path = tmp_path / "case.json"
    path.write_text(CASE.model_dump_json(), encoding="utf-8")
    assert main(["prompt", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "⟨CARD_1⟩" in out and "⟨PHONE_1⟩" in out
    for value in ORIGINALS:
        assert not _any_spacing(value).search(out), value
    assert main(["prompt", str(path), "--no-mask"]) == 0
    assert CARD in capsys.readouterr()[0]
