"""Prompts: golden snapshots of what the model reads, situation lines exactly when they hold,
few-shot choice, token budgets, team guidelines and template overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rewriter import Case, rewrite
from rewriter.analysis.situation import analyse_thread
from rewriter.cli import main
from rewriter.errors import UsageError
from rewriter.loading import load_case
from rewriter.model.prompting import (
    PromptSettings,
    build_messages,
    choose_examples,
    situation_lines,
)
from rewriter.model.tokens import count_messages, count_tokens

from .conftest import EXAMPLES

SNAPSHOTS = Path(__file__).parent / "snapshots"
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.iterdir())


def _render(messages: list[dict[str, str]]) -> str:
    return "\n".join(f"----- {m['role']} -----\n{m['content']}" for m in messages) + "\n"


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_prompt_snapshots(name: str) -> None:
    """Rendered prompts for the shipped examples, reviewed by eye. After an intended change:
    H2H_UPDATE_SNAPSHOTS=1 pytest tests/test_prompts.py, then read the diff as the model would."""
    rendered = _render(build_messages(load_case(str(EXAMPLES / name))))
    snapshot = SNAPSHOTS / f"prompt-{Path(name).stem}.txt"
    if os.environ.get("H2H_UPDATE_SNAPSHOTS"):
        snapshot.write_text(rendered, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot for {name}: run with H2H_UPDATE_SNAPSHOTS=1"
    assert rendered == snapshot.read_text(encoding="utf-8")


def test_token_budget() -> None:
    for name in EXAMPLE_FILES:
        messages = build_messages(load_case(str(EXAMPLES / name)))
        assert count_tokens(messages[0]["content"]) < 1500, "the static system part"
        assert count_messages(messages) < 2500, name


def test_system_prompt_identical_across_cases() -> None:
    systems = {build_messages(load_case(str(EXAMPLES / n)))[0]["content"] for n in EXAMPLE_FILES}
    assert len(systems) == 1  # provider prompt caching applies to the whole static part


# flag: (a customer message where it holds, the marker of its line, a message where it does not)
LINES = {
    "legal_dispute": ("Мой юрист готовит иск.", "юридическом споре", "Я работаю юристом."),
    "angry": ("Сколько можно ждать?!!", "Клиент зол", "Подождём, спасибо."),
    "grave": ("С карты украли 40 000 рублей.", "серьёзная", "С карты списали 400 рублей."),
    "uses_ty": ("Привет, глянь, почему не проходит оплата?", "на «ты»", "Гляньте, пожалуйста."),
    "formal": ("Здравствуйте, подскажите тариф.", "на «вы»", "Привет, подскажи тариф."),
    "playful": ("Поправьте название покупки 🙂", "со смайликами", "Привет, поправьте название."),
    "newcomer": ("Я новый клиент, как открыть вклад?", "недавно", "Как открыть вклад?"),
    "eta": ("Когда почините интернет?", "о сроках", "Интернет починили, спасибо."),
    "no_app": ("Приложение не открывается.", "не может открыть приложение", "Приложение отличное."),
    "not_home": ("Я сейчас не дома.", "не дома", "Я дома, роутер рядом."),
    "no_email": ("У меня нет доступа к почте.", "доступа к почте", "Почта работает."),
    "no_phone": ("Я потерял телефон.", "телефону", "Телефон у меня под рукой."),
    "no_account": ("Не могу войти в личный кабинет.", "войти в аккаунт", "В кабинет вошёл."),
}


@pytest.mark.parametrize("flag", sorted(LINES))
def test_situation_line_appears_exactly_when_it_holds(flag: str) -> None:
    holds, marker, contrast = LINES[flag]
    assert any(marker in line for line in situation_lines(analyse_thread((holds,))))
    assert not any(marker in line for line in situation_lines(analyse_thread((contrast,))))
    assert not any(marker in line for line in situation_lines(analyse_thread(("Хорошо.",))))


def test_name_line() -> None:
    lines = situation_lines(analyse_thread(("Добрый день",), "Максим"))
    assert any("Максим" in line for line in lines)


def test_examples_fit_the_situation() -> None:
    court = choose_examples(analyse_thread(("Мой юрист уже готовит иск, увидимся в суде.",)))
    assert court[0]["id"] == "court-promo" and len(court) <= 3
    assert all("playful" not in ex["when"] for ex in court)
    playful = choose_examples(analyse_thread(("Поправьте название покупки, там Ашан 🙂",)))
    assert playful[0]["id"] == "mirror-maxim"
    outage = choose_examples(analyse_thread(("Когда починят интернет? Не работает с утра",)))
    assert outage[0]["id"] == "masha-outage"
    assert choose_examples(analyse_thread(("Хорошо.",))) == []


def test_team_guidelines(tmp_path) -> None:
    guide = tmp_path / "voice.md"
    guide.write_text(
        "- Подписывайтесь именем, без должности.\n- Не используйте слово «клиент».", "utf-8"
    )
    settings = PromptSettings.resolve(guidelines=guide)
    system = build_messages(load_case(str(EXAMPLES / "tariff-99.json")), settings)[0]["content"]
    assert "Подписывайтесь именем" in system
    assert system.index("Правила нашей команды") < system.index("Верни только")
    guide.write_text("x" * 10_001, encoding="utf-8")
    with pytest.raises(UsageError, match="10000"):
        PromptSettings.resolve(guidelines=guide)


def test_override_one_template(tmp_path) -> None:
    (tmp_path / "reask.j2").write_text(
        "ПЕРЕДЕЛАЙ: {% for v in violations %}{{ v.rule }} {% endfor %}", "utf-8"
    )
    seen = []

    def fake(messages, config):
        seen.append(messages)
        return (
            "Держите промокод SORRY100!"
            if len(seen) == 1
            else "Претензию передали юристам, ответ придёт в течение 10 рабочих дней."
        )

    case = Case.model_validate_json((EXAMPLES / "court-promo.json").read_text(encoding="utf-8"))
    result = rewrite(case, "m", completion=fake, prompts=tmp_path)
    assert result.source == "llm" and result.attempts == 2
    assert seen[1][-1]["content"].startswith("ПЕРЕДЕЛАЙ: ")
    assert "10 друзей" in seen[0][0]["content"]  # system.j2 still the shipped one


def test_cli_prompt_flags(tmp_path, capsys) -> None:
    guide = tmp_path / "voice.md"
    guide.write_text("Всегда подписывайтесь: «Команда Поддержки».", encoding="utf-8")
    assert main(["prompt", str(EXAMPLES / "court-promo.json"), "--guidelines", str(guide)]) == 0
    out, _ = capsys.readouterr()
    assert "Команда Поддержки" in out
    assert (
        main(["prompt", str(EXAMPLES / "court-promo.json"), "--prompts", str(tmp_path / "nope")])
        == 2
    )
