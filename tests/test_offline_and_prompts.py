"""The offline engine's fixes, and the prompts the model receives."""

from __future__ import annotations

import pytest

from rewriter import Case, rewrite
from rewriter.errors import TemplateError, UsageError
from rewriter.model.prompting import build_messages, reask_message, render
from rewriter.models import Violation

from .conftest import EXAMPLES


def case(customer: str, draft: str, **kw) -> Case:
    return Case(thread=[{"author": "customer", "text": customer}], draft=draft, **kw)


def test_offline_fixes_are_safe() -> None:
    result = rewrite(
        case(
            "Здравствуйте, где возврат?",
            "Спасибо за обращение! Возврат 1 500 рублей придёт 12.03, Вам напишем.",
        )
    )
    assert result.source == "offline"
    assert "Спасибо за обращение" not in result.text
    assert "1 500 рублей" in result.text and "12.03" in result.text
    assert " вам " in result.text


def test_offline_thanks_for_the_concrete_thing() -> None:
    result = rewrite(
        case("Вот скриншот ошибки", "Спасибо за обращение. Ошибку передали разработчикам.")
    )
    assert result.text.startswith("Спасибо за скриншот")


def test_offline_uses_the_customer_name_for_a_canned_address() -> None:
    c = Case(
        thread=[{"author": "customer", "text": "Добрый день", "name": "Максим"}],
        draft="Добрый день, уважаемый клиент! Название исправили.",
    )
    assert rewrite(c).text == "Добрый день, Максим! Название исправили."


def test_offline_strips_play_for_an_angry_customer() -> None:
    result = rewrite(
        case("Сколько можно?! Третий день без связи!!!", "Уже чиним!!! 😊 Напишу, как починим.")
    )
    assert "😊" not in result.text and "!!!" not in result.text
    assert result.ok


def test_offline_drops_the_promo_offer_in_a_dispute() -> None:
    c = Case.model_validate_json((EXAMPLES / "court-promo.json").read_text(encoding="utf-8"))
    result = rewrite(c)
    assert "SORRY100" not in result.text and "промокод" not in result.text.lower()
    assert "10 рабочих дней" in result.text and result.ok


def test_offline_never_empties_the_text() -> None:
    result = rewrite(case("Я подаю в суд.", "Держите промокод SORRY10!"))
    assert result.text == "Держите промокод SORRY10!"  # nothing left after the fix: keep the draft
    assert not result.ok


def test_rewrite_needs_a_draft() -> None:
    with pytest.raises(UsageError):
        rewrite(Case(thread=[{"author": "customer", "text": "?"}], reply="x"))


def test_prompt_situation_lines_follow_the_thread() -> None:
    court = build_messages(case("Мой юрист готовит иск.", "Черновик"))[1]["content"]
    calm = build_messages(case("Здравствуйте, как поменять тариф?", "Черновик"))[1]["content"]
    assert "юридическом споре" in court and "юридическом споре" not in calm
    assert "на «вы»" in calm
    app = build_messages(case("Приложение не открывается", "Черновик"))[1]["content"]
    assert "не может открыть приложение" in app


def test_system_prompt_is_static() -> None:
    a = build_messages(case("Подаю в суд", "x"))[0]
    b = build_messages(case("Привет :)", "y"))[0]
    assert a == b  # identical across calls: provider prompt caching applies


def test_reask_quotes_violations() -> None:
    v = Violation(
        rule="invented-deadline",
        severity="block",
        message="Уберите срок.",
        span=(0, 10),
        text="до пятницы",
    )
    content = reask_message([v])["content"]
    assert (
        "[invented-deadline]" in content
        and "«до пятницы»" in content
        and "Уберите срок." in content
    )


def test_templates_fail_loudly(tmp_path, monkeypatch) -> None:
    (tmp_path / "user.j2").write_text("{{ no_such_variable }}", encoding="utf-8")
    monkeypatch.setenv("H2H_PROMPTS", str(tmp_path))
    with pytest.raises(TemplateError, match="no_such_variable"):
        render("user.j2")
    with pytest.raises(TemplateError, match="not found"):
        render("no-such-template.j2")
    assert "10 друзей" in render("system.j2", guidelines=None)  # falls back to the shipped one


def test_templates_are_sandboxed(tmp_path, monkeypatch) -> None:
    (tmp_path / "evil.j2").write_text(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8"
    )
    monkeypatch.setenv("H2H_PROMPTS", str(tmp_path))
    with pytest.raises(Exception, match=r"unsafe|access"):
        render("evil.j2")
