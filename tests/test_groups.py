"""The `groups` kind and the analysis it stands on: segments, requests, licensing, the three
rules written over it (asks-for-secret, disrespect, off-topic) on hard cases of our own."""

from __future__ import annotations

import pytest

from rewriter import check
from rewriter.analysis.clauses import boundary_after, segments
from rewriter.analysis.lexicon import Lexicon
from rewriter.analysis.requests import asking_segments, request_sentences, requested_verbs
from rewriter.analysis.text import analyse
from rewriter.errors import RuleFileError
from rewriter.guard.context import Context
from rewriter.guard.groups import PARAMS_SCHEMAS, check_groups
from rewriter.guard.rules import _load
from rewriter.models import parse_case

CUES = Lexicon(["нужно", "надо", "=можете", "не =могли =бы", "=просим"], gap=0)
TELL = Lexicon(["назвать", "прислать", "сообщить", "продиктовать"])


def _segment_texts(text: str) -> list[str]:
    doc = analyse(text)
    out: dict[int, list[str]] = {}
    for tok, seg in zip(doc.tokens, segments(doc), strict=True):
        out.setdefault(seg, []).append(tok.norm)
    return [" ".join(words) for words in out.values()]


def test_segments_split_at_dashes_colons_and_contrast_but_not_lists() -> None:
    assert _segment_texts(
        "Вам придёт код — введите его в приложении, а нам пришлите скриншот."
    ) == [
        "вам придет код",
        "введите его в приложении",
        "а нам пришлите скриншот",
    ]
    assert _segment_texts("Пришлите номер договора, дату и сумму.") == [
        "пришлите номер договора дату и сумму"
    ]
    doc = analyse("Нужно вот что: паспорт и полис.")
    assert boundary_after(doc, 0) == ":"


@pytest.mark.parametrize(
    ("text", "verbs"),
    [
        ("Пришлите, пожалуйста, фото.", ["Пришлите"]),
        ("Никому не сообщайте код.", []),
        ("Нужно прислать фото чека.", ["прислать"]),
        ("Не нужно присылать фото чека.", []),
        ("Не могли бы вы прислать фото?", ["прислать"]),
        ("Продиктуете номер?", ["Продиктуете"]),
        ("Если вас попросят назвать код, положите трубку.", []),
        ("Мы можем прислать курьера.", []),
    ],
)
def test_requested_verbs(text: str, verbs: list[str]) -> None:
    doc = analyse(text)
    assert [doc.text[m.start : m.end] for m in requested_verbs(doc, TELL, CUES)] == verbs


def test_request_readings_agree() -> None:
    doc = analyse("Роутер перезагружать не нужно. Откройте приложение.")
    assert request_sentences(doc, CUES) == {1}
    segs = segments(doc)
    assert asking_segments(doc, CUES) == {segs[-1]}


def _violations(rule_id: str, reply: str, **case: object) -> list[str]:
    data = {"thread": [], "reply": reply, **case}
    if "customer" in data:
        data["thread"] = [{"author": "customer", "text": data.pop("customer")}]
    return [v.text for v in check(parse_case(data)).violations if v.rule == rule_id]


SECRET_ASKS = [
    "Скажите, пожалуйста, цифры из сообщения, которое мы прислали.",
    "Для подтверждения сообщите код из push-уведомления.",
    "Вы можете прислать нам номер карты и срок действия карты?",
    "Разрешите нашему специалисту подключиться к вашему компьютеру через AnyDesk.",
    "Напишите мне в Вайбер, я оформлю всё быстрее.",
    "Отправьте паспорт нашему менеджеру в WhatsApp по номеру из подписи.",
    "Чтобы не ждать, укажите в ответе свой ПИН-код.",
    "Подтвердите отмену подписки, назвав цифры из СМС.",
    "Какой код подтверждения вам пришёл?",
]


@pytest.mark.parametrize("reply", SECRET_ASKS)
def test_asks_for_secret_fires(reply: str) -> None:
    assert _violations("asks-for-secret", reply)
    assert all(t and t in reply for t in _violations("asks-for-secret", reply))  # its span


SECRET_MENTIONS = [
    "Код из СМС нужен только для входа — никому его не сообщайте.",
    "Мы не запрашиваем пароль и CVV ни в чате, ни по телефону.",
    "Укажите номер карты на странице оплаты, и платёж пройдёт.",
    "Введите новый пароль дважды и сохраните.",
    "Придумайте новый пароль и введите его в приложении.",
    "Пароль сбросили: ссылка для нового уже на почте.",
    "Покажите курьеру код получения из СМС, и он отдаст заказ.",
    "Напишите нам в этот чат, если код снова не придёт.",
    "Подтвердите вход, указав код в приложении.",
    "Если вам удобнее WhatsApp, пишите на официальный номер с нашего сайта.",
    "Какой код ошибки показывает терминал?",
]


@pytest.mark.parametrize("reply", SECRET_MENTIONS)
def test_asks_for_secret_passes_mentions(reply: str) -> None:
    assert _violations("asks-for-secret", reply) == []


def test_a_draft_that_asks_licenses_the_rewrite_but_not_itself() -> None:
    draft = "Для возврата на другую карту пришлите её полный номер в этот чат."
    reply = "Чтобы вернуть деньги на другую карту, пришлите, пожалуйста, её полный номер сюда."
    assert _violations("asks-for-secret", reply, draft=draft) == []
    assert _violations("asks-for-secret", draft, draft=draft)  # the agent's own text is linted
    assert _violations("asks-for-secret", reply, draft="Вернём деньги на карту оплаты.")


RUDE = [
    "Перестаньте психовать, заказ в пути.",
    "Это ваша ошибка, а не наша.",
    "Ну конечно, вы опять забыли подтвердить оплату.",
    "Впредь проверяйте адрес перед оплатой.",
    "Браво, третий заказ с неверным адресом.",
]


@pytest.mark.parametrize("reply", RUDE)
def test_disrespect_fires(reply: str) -> None:
    assert _violations("disrespect", reply)
    assert all(t and t in reply for t in _violations("disrespect", reply))  # its span


POLITE = [
    "Конечно, как всегда рады помочь!",
    "Понимаю, это обидно. Вы ни в чём не виноваты — ошибка на нашей стороне.",
    "Напомню правило: бесплатная отмена возможна за сутки до начала.",
    "Простите, что заставили ждать, — разобрались и всё исправили.",
    "Вы сами можете выбрать удобный день доставки в приложении.",
    "Надо было сразу вам ответить — простите за задержку.",
    "Похоже, найти этот раздел действительно сложно — передадим дизайнерам.",
    "Если бы вы хотели перенести запись, напишите — поможем.",
]


@pytest.mark.parametrize("reply", POLITE)
def test_disrespect_passes_warm_and_neutral(reply: str) -> None:
    assert _violations("disrespect", reply) == []


def test_downplay_needs_a_danger_in_the_thread() -> None:
    reply = "Ничего страшного, это бывает."
    assert _violations("disrespect", reply, customer="Из розетки идёт дым!")
    assert _violations("disrespect", reply, customer="Курьер опоздал на пять минут.") == []


def test_off_topic_needs_a_draft_and_reads_groups_not_the_whole_subject() -> None:
    customer = "Когда можно прийти на приём к терапевту?"
    draft = "Терапевт принимает по будням, запишитесь в приложении."
    dosed = draft + " Пока пейте нурофен по 200 мг."
    assert _violations("off-topic", dosed, customer=customer, draft=draft)
    assert _violations("off-topic", dosed, customer=customer) == []  # a lint: no draft
    appointment = "Терапевт принимает по будням — запись в приложении."
    assert _violations("off-topic", appointment, customer=customer, draft=draft) == []


def test_an_asking_customer_does_not_license_advice() -> None:
    customer = "Какой антибиотик мне пить, пока жду врача?"
    draft = "Назначить лечение может только врач — запись к терапевту есть на завтра."
    reply = (
        "Назначить лечение может только врач, но обычно помогает амоксициллин. Запись — на завтра."
    )
    assert _violations("off-topic", reply, customer=customer, draft=draft)


def test_params_are_validated_with_the_file_named(tmp_path) -> None:
    assert "groups" in PARAMS_SCHEMAS
    path = tmp_path / "typo.yaml"
    path.write_text(
        "id: typo\nseverity: block\nkind: groups\ndescription: x\nmessage: x\n"
        "params:\n  groups:\n    g:\n      phrase: [код]\n",
        encoding="utf-8",
    )
    rule = _load(path)
    with pytest.raises(RuleFileError, match=r"typo\.yaml"):
        check_groups(rule, Context(parse_case({"reply": "код"}), "код"))
