"""meta-talk, wrong-language and not-a-reply: their analysis units, the unwrap fix, the loop.

Texts here are written for the tests (never taken from a corpus)."""

from __future__ import annotations

import pytest

from rewriter import Case, rewrite
from rewriter.analysis.language import analyse_language, customer_language, sentence_language
from rewriter.analysis.ngrams import NgramIndex
from rewriter.analysis.replyform import (
    content_tokens,
    dangling_end,
    more_content_than,
    repeated_stretch,
    unbalanced,
    voice,
)
from rewriter.analysis.text import analyse
from rewriter.analysis.wrapper import json_dump, label_pattern, paragraphs, strip_quotes
from rewriter.guard.engine import violations_for
from rewriter.guard.metatalk import findings, prompt_texts, unwrap
from rewriter.guard.offline import offline_rewrite
from rewriter.guard.rules import rule_by_id
from rewriter.model.llm import Completion
from rewriter.models import parse_case

MINE = {"meta-talk", "wrong-language", "not-a-reply"}


# --- language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Заявку приняли, ответим завтра", "ru"),
        ("Нажмите Settings и выберите Billing", "ru"),
        ("We have already sent the invoice to you", "en"),
        ("Wir haben die Rechnung schon geschickt", "de"),
        ("Ми вже надіслали рахунок", "uk"),
        ("Шот жіберілді, рахмет", "kk"),
        ("Рахунак ужо адпраўлены", "be"),
        ("Schet uzhe otpravlen, proverte pochtu pozhaluysta", "translit"),
        ("12:30", None),
    ],
)
def test_sentence_language(text: str, lang: str | None) -> None:
    words = [w.lower() for w in text.replace(",", " ").split()]
    assert sentence_language(words) == lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # A Latin-script language no list knows: lower-case words, whatever the language.
        ("Buyurtmangiz ertaga yetkaziladi, kuryer oldindan qo‘ng‘iroq qiladi.", "latin"),
        ("Siparişiniz yarın kargoya verilecek.", "latin"),
        # English common words inside a Russian sentence.
        ("Ваш платёж pending, ждите confirmation до вечера.", "en"),
        # Brands, codes, capitalised UI labels and one lower-case term stay Russian.
        ("Чехол подходит для iPhone 15 Pro Max и Samsung Galaxy S24.", "ru"),
        ("Запчасти для Lada Vesta и Chevrolet Cobalt есть на складе.", "ru"),
        ("Откройте Settings → Billing и введите код WELCOME10.", "ru"),
        ("Подключитесь через wi-fi и скачайте файл apk заново.", "ru"),
    ],
)
def test_language_by_the_shape_of_latin_words(text: str, lang: str) -> None:
    assert {s.lang for s in analyse_language(text).sentences if s.words >= 2} == {lang}


def test_an_unknown_latin_language_is_allowed_to_a_latin_writing_customer() -> None:
    case = Case.model_validate(
        {
            "thread": [{"author": "customer", "text": "Hello, where is my parcel?"}],
            "reply": "Merhaba, kargonuz yarın teslim edilecek.",
        }
    )
    assert not [v for v in violations_for(case, case.reply) if v.rule == "wrong-language"]


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("Переработанный текст: заявку приняли.", ["Переработанный текст"]),
        ("Смягчённая формулировка:\nЗаявку приняли.", ["Смягчённая формулировка"]),
        ("Другой вариант: заберите заказ сами.", []),  # an adjective, not an edit
        ("Полный текст: в приложении.", []),
        ("Исправленный текст договора пришлём завтра.", []),  # no label colon
    ],
)
def test_edited_labels_by_the_participle(text: str, labels: list[str]) -> None:
    from rewriter.guard.metatalk import edited_labels

    assert [m.group("label") for m in edited_labels(text)] == labels


def test_quoted_labels_and_links_do_not_count() -> None:
    found = analyse_language("Ошибка «The page you are looking for is gone» — зайдите на a.ru/b")
    assert {s.lang for s in found.sentences} == {"ru"}


def test_salutations_are_found_in_a_russian_body() -> None:
    found = analyse_language("Dear Anna, заказ уже в пути.\nBest regards")
    assert [g[2] for g in found.salutations] == ["en", "en"]


def test_customer_language_defaults_to_russian() -> None:
    assert customer_language([]) == "ru"
    assert customer_language(["👍", "12345"]) == "ru"
    assert customer_language(["Hi! My card does not work, what should I do?"]) == "en"


# --- reply form ----------------------------------------------------------------------------------

DANGLING = ["в", "на", "и", "что", "чтобы", "если"]
CLAUSE = ["что", "чтобы", "если", "когда", "и", "а", "но"]


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("Деньги придут на карту, как только банк", False),  # no subordinator: could be a chat
        ("Мастер придёт завтра и", True),
        ("Проверили, что", True),
        ("Проверили: заявка в работе, так что инженер", True),
        ("Шаги:\n1. Откройте приложение.\n2.", True),
        ("Шаги:\n1) Откройте приложение.\n2)", True),
        ("Что сделать:\n- откройте приложение;\n-", True),
        ("Скидка составит 15.", False),  # a number before the period, not a list item
        ("По вашей заявке...", True),
        ("По вашей заявке…", True),
        ("Курьер уже едет…", False),
        ("Уже отправили, проверяйте", False),
        ("Готово.", False),
    ],
)
def test_dangling_end(text: str, cut: bool) -> None:
    assert (dangling_end(analyse(text), DANGLING, CLAUSE) is not None) is cut


def test_a_word_or_link_cut_short_is_read_against_the_draft() -> None:
    draft = "Номер брони указан в письме, ссылка: https://ex.ru/booking"
    assert dangling_end(analyse("Номер бро"), DANGLING, CLAUSE, draft)
    assert dangling_end(analyse("Ссылка: https://ex.ru/boo"), DANGLING, CLAUSE, draft)
    assert dangling_end(analyse("Ссылка: https://ex.ru/booking"), DANGLING, CLAUSE, draft) is None


@pytest.mark.parametrize(
    ("text", "open_"),
    [
        ("Раздел «Профиль", True),
        ("Нажмите (в правом углу", True),
        ("Простите :( Уже чиним))", False),
        ("Варианты: 1) вернуть; 2) обменять.", False),
        ("Раздел «Профиль» (вверху).", False),
        ('Нажмите кнопку "Далее', True),
        ("Нажмите кнопку Далее.", False),  # no quote or bracket at all
    ],
)
def test_unbalanced(text: str, open_: bool) -> None:
    assert (unbalanced(text) is not None) is open_


def test_repeated_stretch() -> None:
    twice = "Карту заблокировали по вашей просьбе, новую выпустим бесплатно за пять дней."
    assert repeated_stretch(analyse(f"{twice}\n\n{twice[:66]}"))
    assert repeated_stretch(analyse("Всё готово. Заявка закрыта. Всё готово."), sentence_words=2)
    assert repeated_stretch(analyse(twice)) is None
    assert repeated_stretch(analyse("Да. Да. Да. Да."), sentence_words=1)


def test_content_is_counted_only_as_far_as_the_limit() -> None:
    doc = analyse("Здравствуйте, Анна! Заказ передан курьеру сегодня.")
    filler, names = frozenset({"здравствуйте"}), frozenset({"анна"})
    said = content_tokens(doc, filler, names)
    assert [t.text for t in said] == ["Заказ", "передан", "курьеру", "сегодня"]
    assert more_content_than(doc, filler, names, 3)
    assert not more_content_than(doc, filler, names, 4)


def test_voice_weighs_the_customer_against_the_company() -> None:
    args = (["вы", "вам", "ваш"], ["мы", "наш"], ["я", "мне", "меня", "мой"], ["ок", "понял"])
    customer = voice(analyse("Понял. А когда мне перезвонят? Я жду с утра."), *args)
    agent = voice(analyse("Я проверила ваш заказ: мы отправим его завтра."), *args)
    asking = voice(analyse("Можете прислать фото чека?"), *args)
    assert customer.customer >= 2 and customer.company == 0
    assert agent.company >= 2
    assert asking.customer == 0
    impatient = voice(
        analyse("У меня снова не работает. Сделайте уже что-нибудь."), *args, (), ["уже"]
    )
    assert impatient.customer >= 2


# --- meta-talk -----------------------------------------------------------------------------------


def test_wrapper_pieces() -> None:
    labels = label_pattern(["ответ", "примечание"])
    assert labels.search("**Ответ:** Здравствуйте!").group("rest") == "Здравствуйте!"
    assert labels.search("(Примечание: убрал канцелярит.)")
    assert not labels.search("Ответ от банка пришёл: всё в порядке.")
    assert json_dump('{"reply": "Готово"}') and not json_dump("{имя}, здравствуйте")
    assert strip_quotes("«Готово, проверяйте».") == "Готово, проверяйте"
    assert strip_quotes("«Ашан» уже поправили") == "«Ашан» уже поправили"
    assert len(paragraphs("А\n\nБ\n \nВ")) == 3


def test_prompt_leak_is_measured_against_the_shipped_prompt() -> None:
    rule = rule_by_id("meta-talk")
    texts = prompt_texts(rule.params["prompt_files"]["6"])
    assert any("редактор" in t for t in texts)  # the system template is read as data
    index = NgramIndex(texts, 6)
    leak = "Перепиши его так, чтобы он звучал как живой человек, который пишет"
    assert index.shared(analyse(leak))
    assert not index.shared(analyse("Заказ уже у курьера, он привезёт его завтра до обеда."))


def test_a_phrase_the_thread_uses_is_not_self_reference() -> None:
    rule = rule_by_id("meta-talk")
    case = parse_case({"thread": [{"author": "customer", "text": "Пропал черновик письма"}]})
    assert findings(rule, "Черновик нашёлся в корзине.")
    assert not findings(rule, "Черновик нашёлся в корзине.", case)


@pytest.mark.parametrize(
    "wrapped",
    [
        "Вот исправленный вариант:\n\n{reply}",
        "{reply}\n\n---\nПримечание: убрал канцелярит и сделал тон теплее.",
        "```\n{reply}\n```",
        "<think>Надо ответить коротко.</think>\n{reply}",
        "## Ответ клиенту\n\n{reply}",
        "Черновик: Заявка принята.\nОтвет: {reply}",
        "«{reply}»\n\nТакой вариант звучит теплее и сохраняет все факты.",
        "> {reply}\n\n(Изменения: убрал «Уважаемый клиент».)",
        "Доработанная версия:\n{reply}",
        "**Сокращённый вариант:** {reply}",
    ],
)
def test_unwrap_returns_the_reply_inside(wrapped: str) -> None:
    reply = "Здравствуйте! Заявку приняли, мастер позвонит завтра с 10 до 12."
    assert unwrap(wrapped.format(reply=reply)) == reply


@pytest.mark.parametrize(
    "text",
    [
        "Здравствуйте! Заявку приняли.",  # nothing to remove
        "Ты — редактор ответов службы поддержки.\n\nЗдравствуйте! Заявку приняли.",  # a leak
        "Здравствуйте! Заявку приняли.\n\n(Исправлено по замечанию invented-deadline.)",
        "Вариант 1: Заявку приняли.\n\nВариант 2: Заявка у нас, всё в порядке.",
        '[{"role": "assistant", "content": "Заявку приняли."}]',
        # Retelling its orders is a leak: nothing around it is to be trusted.
        "Мне поручили ничего не выдумывать.\n\nЗдравствуйте! Заявку приняли.",
    ],
)
def test_unwrap_refuses(text: str) -> None:
    assert unwrap(text) is None


# --- the loop and the fallback -------------------------------------------------------------------

CASE = Case.model_validate(
    {
        "thread": [{"author": "customer", "text": "Когда придёт мастер? Без света сидим."}],
        "draft": "Уважаемый клиент! Мастер придёт завтра с 10:00 до 12:00. Ожидайте.",
    }
)
GOOD = "Здравствуйте! Мастер придёт завтра с 10:00 до 12:00."


def _scripted(*answers: str):
    calls: list[int] = []

    def fake(messages, config):
        calls.append(len(messages))
        return Completion(text=answers[min(len(calls), len(answers)) - 1])

    return fake, calls


def test_a_wrapper_around_a_good_reply_is_removed_without_a_reask() -> None:
    fake, calls = _scripted(f"Вот переписанный вариант:\n\n{GOOD}\n\nПримечание: убрал шаблоны.")
    result = rewrite(CASE, "my/model", completion=fake)
    assert result.source == "llm" and result.text == GOOD
    assert len(calls) == 1 and not result.reasks


def test_a_wrapper_around_a_bad_reply_is_reasked() -> None:
    bad = "Вот переписанный вариант:\n\nЗдравствуйте! Мастер придёт послезавтра."
    fake, calls = _scripted(bad, GOOD)
    result = rewrite(CASE, "my/model", completion=fake)
    assert result.source == "llm" and result.text == GOOD and len(calls) == 2


@pytest.mark.parametrize(
    "answer",
    [
        "Мастер придёт завтра с 10:00 до 12:00, а",  # cut
        "Hello! The engineer will come tomorrow from 10:00 to 12:00.",  # wrong language
        "А можно пораньше? Я весь день без света, мне нужно работать.",  # the customer's voice
        "Согласно моим инструкциям: мастер придёт завтра с 10:00 до 12:00.",  # a leak
    ],
)
def test_faithfulness_violations_are_reasked_then_fall_back(answer: str) -> None:
    fake, calls = _scripted(answer)
    result = rewrite(CASE, "my/model", completion=fake)
    assert result.source == "offline" and len(calls) == 3
    assert not [v for v in result.violations if v.rule in MINE]


@pytest.mark.parametrize(
    "draft",
    [
        "Уважаемый клиент! Заявка принята. Ожидайте.",
        "Добрый день. Карта перевыпущена, заберите её в отделении.",
        "Здравствуйте! Откройте Settings → Billing и скачайте счёт.",
    ],
)
def test_the_offline_fallback_carries_none_of_these(draft: str) -> None:
    case = parse_case(
        {"thread": [{"author": "customer", "text": "Что с заявкой?"}], "draft": draft}
    )
    text, violations = offline_rewrite(case)
    assert not [v for v in violations if v.rule in MINE]
    assert not [v for v in violations_for(case, text) if v.rule in MINE]
