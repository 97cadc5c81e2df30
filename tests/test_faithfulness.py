"""The analyses behind meaning-flip and lost-substance: claims with polarity, their reversals,
content units of a draft, and when two lemmas name the same thing. Small hand-made classes keep
each test about one behaviour; the rule files' own examples run in test_rule_examples.py."""

from __future__ import annotations

import pytest

from rewriter.analysis.claims import ClaimReader, read_claims, reversals
from rewriter.analysis.kinship import KinIndex, aspect_stem, concept, related
from rewriter.analysis.lexicon import Lexicon
from rewriter.analysis.text import analyse
from rewriter.analysis.units import ReplyWords, UnitReader, content_units, kept
from rewriter.guard.faithfulness import PARAMS_SCHEMAS
from rewriter.guard.rules import KINDS

READER = ClaimReader.build(
    {
        "decision": {"positive": ["одобрить"], "negative": ["отклонить", "отказать"]},
        "access": {"positive": ["активный"], "negative": ["заблокировать", "блокировка"]},
        "possibility": {"positive": ["можно", "получиться"], "negative": ["нельзя"]},
    },
    stop_predicates=["быть", "должный", "переживать"],
    irrealis=["если", "чтобы", "ли"],
    not_negating=["только", "позднее"],
    negating_after=["нужно"],
    restrictive=["только"],
    modal_classes=["possibility"],
)


def claims(text: str) -> list[tuple[str, str, bool]]:
    return [(text[c.start : c.end], c.key, c.positive) for c in read_claims(analyse(text), READER)]


def flipped(draft: str, reply: str) -> list[str]:
    pairs = reversals(
        read_claims(analyse(draft), READER),
        read_claims(analyse(reply), READER),
        READER.modal_classes,
    )
    return [reply[r.start : r.end] for _, r in pairs]


@pytest.mark.parametrize(
    ("text", "word", "positive"),
    [
        ("Заявка отклонена.", "отклонена", False),
        ("Заявку не одобрили.", "одобрили", False),
        ("Никаких блокировок по номеру нет.", "блокировок", True),
        ("Блокировок по номеру нет.", "блокировок", True),
        ("Продлить его, к сожалению, нельзя.", "Продлить", False),
        ("Курьер не должен был так оставлять посылку.", "оставлять", False),
        ("Вернём не позднее пятницы.", "Вернём", True),
        ("Чек присылать не нужно.", "присылать", False),
    ],
)
def test_polarity(text: str, word: str, positive: bool) -> None:
    found = {w.lower(): p for w, _, p in claims(text)}
    assert found[word.lower()] is positive


def test_a_negation_spent_on_a_noun_is_no_claim_of_its_own() -> None:
    assert [w for w, _, _ in claims("Блокировок по номеру нет.")] == ["Блокировок"]


@pytest.mark.parametrize(
    "text",
    [
        "Если заявку отклонят, напишите.",  # a condition
        "Чтобы разблокировать карту, позвоните.",  # a purpose
        "Можно ли вернуть заказ?",  # a question
        "Нажмите «Отменить».",  # a quoted label
        "Менять батарейку может только мастер.",  # restricted to someone
    ],
)
def test_what_is_not_asserted_is_not_read(text: str) -> None:
    words = {w.lower() for w, _, _ in claims(text)}
    assert not words & {"отклонят", "разблокировать", "вернуть", "отменить", "менять"}


def test_the_finite_verb_is_not_negated_by_a_modal_of_the_next_clause() -> None:
    found = {
        w: p for w, _, p in claims("Перевод подтверждён вами, поэтому банк не может его отменить.")
    }
    assert found["подтверждён"] is True
    assert found["отменить"] is False


@pytest.mark.parametrize(
    ("draft", "reply", "word"),
    [
        ("Заявка на кредит отклонена.", "Заявка на кредит одобрена.", "одобрена"),
        ("Номер заблокирован.", "Номер активен.", "активен"),
        ("Поменять адрес не получится.", "Поменять адрес получится.", "получится"),
        ("Справку без осмотра не выдаём.", "Справку выдадим без осмотра.", "выдадим"),
        ("Рейс не отменён.", "Рейс отменён.", "отменён"),
    ],
)
def test_reversals(draft: str, reply: str, word: str) -> None:
    assert word in flipped(draft, reply)


@pytest.mark.parametrize(
    ("draft", "reply"),
    [
        ("Возврат не предусмотрен.", "Вернуть деньги не получится."),  # reworded negation
        ("Заявка отклонена.", "К сожалению, заявку отклонили."),
        ("Номер заблокирован.", "Карта активна, а номер заблокирован."),  # another thing
        (
            "Вернуть деньги нельзя, но можно перенести остаток.",
            "Деньги вернуть не получится. Остаток можно перенести.",
        ),
        ("Пакет нельзя вскрывать до посадки.", "Да, можно: не вскрывайте пакет до посадки."),
    ],
)
def test_no_reversal(draft: str, reply: str) -> None:
    assert flipped(draft, reply) == []


UNITS = UnitReader(
    courtesy=Lexicon(["здравствовать", "спасибо", "хороший день"], gap=2),
    clarifying=Lexicon(["уточнить какой"], gap=1),
    conditions=Lexicon(["если", "только"]),
    warnings=Lexicon(["никому", "учесть"]),
    actions=Lexicon(["нужно"]),
    stop=frozenset({"быть", "можно", "нужно", "весь", "ваш", "наш"}),
)


def units(text: str, known: frozenset[str] = frozenset()) -> list[tuple[str, tuple[str, ...]]]:
    return [(u.kind, u.words) for u in content_units(analyse(text), UNITS, known)]


def test_units_split_conditions_and_skip_courtesy() -> None:
    found = units(
        "Здравствуйте! Вернуть куртку можно, если остались ярлыки и бирки. "
        "Никому не сообщайте код из письма. Оформите возврат в приложении. Хорошего дня!"
    )
    kinds = [k for k, _ in found]
    assert kinds == ["event", "condition", "warning", "action"]
    assert found[1][1] == ("остались", "ярлыки", "бирки")


def test_questions_and_known_words_are_no_units() -> None:
    assert units("Уточните, какой перевод вы имеете в виду.") == []
    assert units("Выписка отправлена на почту.", frozenset({"выписка", "почта"})) == []


@pytest.mark.parametrize(
    ("draft", "reply", "keeps"),
    [
        ("Ярлыки и бирки должны остаться на куртке.", "Куртку примем, если бирки на месте.", True),
        (
            "Пароль заблокировался после пяти попыток.",
            "Блокировка пароля — после пяти попыток.",
            True,
        ),
        (
            "Курьер прибудет вечером и позвонит заранее.",
            "Курьер приедет вечером, перед этим звонок.",
            True,
        ),
        ("Перевыпустите карту в приложении бесплатно.", "Мы разобрались, всё хорошо.", False),
        # A customer's step kept only by its topic words, as the company's work, is lost ...
        (
            "Прикрепите сертификат к заявке в приложении.",
            "Мы уже проверяем заявку и сертификат в приложении.",
            False,
        ),
        # ... kept as a step by another verb, or by its own verb in another form, it stays.
        ("Прикрепите сертификат к заявке в приложении.", "Добавьте к заявке сертификат.", True),
        ("Прикрепите сертификат к заявке.", "Сертификат нужно прикрепить к заявке.", True),
    ],
)
def test_kept(draft: str, reply: str, keeps: bool) -> None:
    (unit,) = content_units(analyse(draft), UNITS)
    assert kept(unit, ReplyWords(analyse(reply)), 0.4) is keeps


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("блокировка", "заблокировать"),
        ("звонок", "позвонить"),
        ("возврат", "вернуть"),
        ("изменение", "измениться"),
    ],
)
def test_related(a: str, b: str) -> None:
    assert related(a, b)


def test_kin_index_answers_as_related_does() -> None:
    words = ["блокировка", "звонок", "возврат", "изменение", "отказ", "пароль", "доставка"]
    probes = [
        "заблокировать",
        "позвонить",
        "вернуть",
        "измениться",
        "оказать",
        "парковка",
        "доступ",
    ]
    index = KinIndex(words)
    for probe in probes:
        assert index.has_kin(probe) == any(related(probe, w) for w in words), probe


def test_unrelated() -> None:
    assert not related("отказ", "оказать")
    assert not related("пароль", "парковка")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("выдать", "выдавать"),
        ("отменить", "отменять"),
        ("списать", "списывать"),
        ("продлить", "продлевать"),
    ],
)
def test_aspect_pairs_share_a_key(a: str, b: str) -> None:
    assert aspect_stem(a) == aspect_stem(b)
    assert concept(a) == concept(b)


def test_kinds_are_registered_with_their_params() -> None:
    assert {"contradiction", "coverage"} <= set(KINDS)
    assert set(PARAMS_SCHEMAS) == {"contradiction", "coverage"}


def test_the_offline_text_keeps_the_drafts_meaning_and_substance() -> None:
    """The fallback's own text is checked too: its fixes never flip or drop a point."""
    from rewriter.evals.rulebench import load_corpus
    from rewriter.guard.offline import offline_rewrite

    drafts = [item.case for item in load_corpus() if item.case.draft]
    assert len(drafts) > 100
    for case in drafts:
        _, remaining = offline_rewrite(case.model_copy(update={"reply": None}))
        assert not [v for v in remaining if v.rule in ("meaning-flip", "lost-substance")]
