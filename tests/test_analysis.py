"""The analysis units behind the rules: facts, time commitments, thread situation, lexicons."""

from __future__ import annotations

import pytest

from rewriter.analysis.facts import extract_facts, fact_keys
from rewriter.analysis.lexicon import Lexicon
from rewriter.analysis.situation import analyse_thread, count_playful
from rewriter.analysis.text import analyse, is_sentence_start
from rewriter.analysis.timeexpr import commitment_keys, extract_commitments


def keys(text: str) -> list[str]:
    return [f.key for f in extract_facts(text)]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("15 000 рублей", "15000 ₽"),
        ("пятнадцать тысяч рублей", "15 000 руб."),
        ("1.5%", "1,5 %"),
        ("трёх рабочих дней", "3 рабочих дня"),
        ("+7 (912) 345-67-89", "8 912 345 67 89"),
        ("https://Bank.ru/help/", "bank.ru/help"),
        ("12.03.2025", "12 марта"),
        ("15 тыс. рублей", "15000 рублей"),
    ],
)
def test_fact_normalisation(a: str, b: str) -> None:
    assert keys(a) == keys(b) != []


def test_fact_kinds() -> None:
    found = {
        f.kind: f.key
        for f in extract_facts(
            "Пишите на Help@Bank.ru, заказ A-12345, код SORRY10, в 10:30, Ксения, 5-го числа."
        )
    }
    assert found["email"] == "email:help@bank.ru"
    assert found["id"] in ("id:A-12345", "id:SORRY10")
    assert found["time"] == "time:10:30"
    assert found["name"] == "name:ксения"
    assert "num:5" in keys("С 5-го числа")  # «5-го» is an ordinal, not an id


def test_common_words_are_not_facts() -> None:
    assert keys("Ни одного списания, оба варианта, первый раз") == []
    assert keys("Вера в лучшее") == []  # «вера» the noun is more likely than the name


def test_date_sources_support_day_numbers() -> None:
    assert "num:12" in fact_keys(["Списание было 12.03"])


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("в течение трёх рабочих дней", "dur:3:рабочий день"),
        ("за 3 рабочих дня", "dur:3:рабочий день"),
        ("через 2 часа", "dur:120:минута"),
        ("через 2 недели", "dur:20160:минута"),
        ("через час", "dur:60:минута"),
        ("через полчаса", "dur:30:минута"),
        ("в течение полугода", "dur:6:месяц"),  # numbers.yaml `fused`, as «6 месяцев» reads
        ("в течение 6 месяцев", "dur:6:месяц"),
        ("за 3–4 часа", "dur:180-240:минута"),
        ("до пятницы", "weekday:пятница"),
        ("в понедельник", "weekday:понедельник"),
        ("завтра", "rel:завтра"),
        ("до конца дня", "rel:сегодня"),
        ("на этой неделе", "period:эта неделя"),
        ("до 15 марта", "date:03-15"),
        ("к 18:00", "time:18:00"),
        ("в течение недели", "dur:10080:минута"),
        ("за сутки", "dur:1440:минута"),
        ("в течение 24 часов", "dur:1440:минута"),
        ("за 14 дней", "dur:20160:минута"),
    ],
)
def test_commitments(text: str, key: str) -> None:
    assert [c.key for c in extract_commitments(text)] == [key]


@pytest.mark.parametrize(
    "text",
    [
        "скоро",
        "как только",
        "пару минут",
        "в ближайшее время",
        "раз в год",
        "50 000 рублей в сутки",
        "12 марта было списание",
    ],
)
def test_not_commitments(text: str) -> None:
    assert extract_commitments(text) == ()


def test_commitment_span_includes_cue() -> None:
    (c,) = extract_commitments("Починим до пятницы.")
    assert c.text == "до пятницы"


def test_source_range_supports_upper_bound() -> None:
    """A source range supports its upper end only as a limit («до 5»), not «через 5 дней»."""
    from rewriter.analysis.timeexpr import UPTO, is_upper_bound

    keys = commitment_keys(["ETA: 3–5 рабочих дней"])
    assert UPTO + "dur:5:рабочий день" in keys and "dur:5:рабочий день" not in keys
    for text, limit in (("Займёт до 5 рабочих дней.", True), ("Через 5 рабочих дней.", False)):
        c = extract_commitments(text)[0]
        assert is_upper_bound(analyse(text), c.start, c.end) is limit


@pytest.mark.parametrize(
    ("texts", "flag"),
    [
        (("Подаю на вас в суд.",), "legal_dispute"),
        (("Мой юрист уже готовит претензию",), "legal_dispute"),
        (("Написала жалобу в Роспотребнадзор",), "legal_dispute"),
        (("Сколько можно ждать!!!",), "angry"),
        (("ПОЧЕМУ НИКТО НЕ ОТВЕЧАЕТ",), "angry"),
        (("С карты украли 40 000 рублей",), "grave"),
    ],
)
def test_situation_flags(texts, flag) -> None:
    assert getattr(analyse_thread(texts), flag)


@pytest.mark.parametrize(
    "text",
    [
        "Судя по всему, у вас сбой.",
        "Я работаю юристом.",
        "По курсу ЦБ списали больше?",
        "Суд да дело, а денег нет",
    ],
)
def test_not_a_dispute(text) -> None:
    assert analyse_thread((text,)).legal_dispute is None


def test_constraints_and_register() -> None:
    s = analyse_thread(("Привет! Приложение не открывается, а я не дома 🙂",))
    assert set(s.constraints) == {"no_app", "not_home"}
    assert s.register.informal_greeting and s.register.playful == 1
    assert s.constraints["no_app"].startswith("Приложение не открывается")


def test_count_playful() -> None:
    assert count_playful("Ура 🎉🎉 :) ))") == 4
    assert count_playful("Пункт 1) и время 10:30, ссылка http://x.ru") == 0
    assert count_playful("Жаль :( 😢") == 0


def test_lexicon_inflection_gap_and_order() -> None:
    lex = Lexicon(["вернуть деньги"], gap=1)
    assert lex.find(analyse("Вернём вам деньги"))
    assert not lex.find(analyse("Деньги вернём"))
    unordered = Lexicon(["вернуть деньги"], any_order=True, window=4)
    assert unordered.find(analyse("Деньги вернём"))
    assert Lexicon(["=вы"]).find(analyse("Вы")) and not Lexicon(["=вы"]).find(analyse("вас"))
    assert Lexicon(["промокод*"]).find(analyse("промокодами"))


def test_sentence_start() -> None:
    text = "Готово. Вы правы. — Вы тоже"
    assert is_sentence_start(text, text.index("Вы"))
    assert is_sentence_start(text, text.rindex("Вы"))
    assert not is_sentence_start("Мы Вам", 3)


def test_lemma_table_is_written_and_consulted(tmp_path, monkeypatch) -> None:
    """The on-disk table of phrase-word lemmas: saved after a check, then used instead of
    pymorphy3 (a fresh word proves pymorphy3 still answers what the table lacks)."""
    import json

    from rewriter.analysis import lemmacache, morph

    monkeypatch.setattr(lemmacache, "_table_path", lambda: tmp_path / "lemmas-test.json")
    from rewriter import Case, check

    check(Case(draft="Спасибо за обращение, Зюзюкин! Проверили выписку."))
    lemmacache.save()
    table = json.loads((tmp_path / "lemmas-test.json").read_text(encoding="utf-8"))
    assert "обращение" in table and "обращение" in table["обращение"]
    # Phrase words only: nothing of the checked text reaches the disk.
    assert not {"зюзюкин", "Зюзюкин", "проверили", "выписку"} & set(table)

    monkeypatch.setattr(morph, "_KNOWN", {})
    morph.lemmas.cache_clear()
    try:
        morph.seed_lemmas({"зюзюка": ["особая-лемма"]})
        assert morph.lemmas("зюзюка") == frozenset({"особая-лемма"})  # from the table
        assert "кошка" in morph.lemmas("кошками")  # not in the table: pymorphy3 answers
    finally:
        morph.lemmas.cache_clear()


def test_one_scan_finds_a_style_marker_wherever_any_pattern_would() -> None:
    """tone-overshoot skips its five style patterns when one combined scan finds nothing: that
    is only safe if the combination matches exactly where some pattern matches."""
    from rewriter.analysis.vocab import any_style_pattern, style_pattern
    from rewriter.evals.rulebench import load_corpus
    from rewriter.guard.checks import _STYLE_MARKERS

    texts = [t for item in load_corpus() for t in (item.case.reply, item.case.draft) if t]
    texts += [
        "Супер 👍",
        "Ох :(",
        "Ну что ж((",
        "Готово!!",
        "Правда?!",
        "Ура xD",
        "Вот ^_^",
        "Ок 😔",
    ]
    combined = any_style_pattern(*_STYLE_MARKERS)
    hits = 0
    for text in texts:
        each = any(style_pattern(name).search(text) for name in _STYLE_MARKERS)
        assert bool(combined.search(text)) == each, text
        hits += each
    assert hits >= 20  # the check saw plenty of texts with markers, not only plain ones


def test_phrase_alternatives_share_one_word_position() -> None:
    import pytest

    from rewriter.analysis.lexicon import Lexicon

    lexicon = Lexicon(["спасибо|благодарить за терпение|понимание"])
    for text in ("Благодарим за терпение.", "Спасибо вам за понимание!", "благодарю за понимание"):
        assert lexicon.find(analyse(text)), text
    assert not lexicon.find(analyse("Благодарим за скриншот."))
    with pytest.raises(ValueError, match="one kind"):
        Lexicon(["=вы|ты"])


def test_clock_windows_and_approximate_counts() -> None:
    """«с 10 до 14» is the window «с 10:00 до 14:00»; «пару дней» counts two days; neither a
    score range nor «пару минут» is a commitment."""
    from rewriter.analysis.timeexpr import extract_commitments

    def keys(text: str) -> list[str]:
        return [c.key for c in extract_commitments(text)]

    assert keys("Курьер приедет с 12 до 15.") == ["time:12:00", "time:15:00"]
    assert keys("Курьер будет с 12:00 до 15:00.") == ["time:12:00", "time:15:00"]
    assert keys("Работаем с 9:30 до 18 по Москве.") == ["time:09:30", "time:18:00"]
    assert keys("Доставка займёт с 10 до 14 дней.") == keys("Доставка займёт 10–14 дней.")
    assert keys("Оцените от 1 до 5 баллов.") == []
    assert keys("Обычно это занимает пару дней.") == keys("Обычно это занимает 2 дня.")
    assert keys("Мне нужна пара минут.") == []


def test_lexicon_text_filters_keep_every_match() -> None:
    """A lexicon rejects a text by its phrases' distinctive words before reading tokens; phrases
    of prefixes only have none, and an ordered phrase is still found from its first word."""
    from rewriter.analysis.lexicon import Lexicon

    assert Lexicon(["промокод*"]).find(analyse("Ваши промокоды истекли."))
    mixed = Lexicon(["в настоящее время", "=вы", "скидк* на"])
    found = mixed.find(analyse("В настоящее время вы получите скидку на всё."))
    assert [m.phrase.source for m in found] == ["в настоящее время", "=вы", "скидк* на"]
    assert not Lexicon(["в настоящее время"]).find(analyse("В это время в офисе никого."))
    assert Lexicon([]).find(analyse("Любой текст.")) == []


def test_the_thread_is_read_only_when_a_rule_needs_it() -> None:
    """Reply first: a plain reply never has the customer's messages analysed; an offer does."""
    from rewriter import Case, check
    from rewriter.analysis.situation import analyse_thread

    thread = [{"author": "customer", "text": "Подаю в суд на вас, хватит (проба ленивости)."}]
    plain = Case.model_validate({"thread": thread, "reply": "Проверим списание и напишем."})
    check(plain)
    situation = analyse_thread(plain.customer_texts, plain.customer_name)
    assert "docs" not in vars(situation)  # no rule needed the thread

    offer = Case.model_validate({"thread": thread, "reply": "Проверим. Дарим промокод на месяц."})
    assert any(v.rule == "promo-in-legal-dispute" for v in check(offer).violations)
    assert {"docs", "legal_dispute"} <= set(vars(situation))


def test_sources_are_read_only_until_every_claim_is_found(monkeypatch) -> None:
    """invented-fact reads the draft first and stops there when it holds every claim."""
    from rewriter import Case, check
    from rewriter.guard import checks

    read: list[str] = []
    original = checks.fact_keys

    def recording(texts: list[str]) -> set[str]:
        read.extend(texts)
        return original(texts)

    monkeypatch.setattr(checks, "fact_keys", recording)
    thread = [{"author": "agent", "text": "Заявка 5512 у инженеров."}]
    base = {"thread": thread, "draft": "Списали 99 рублей по ошибке."}
    check(Case.model_validate({**base, "reply": "Списали 99 ₽ по ошибке, простите."}))
    assert thread[0]["text"] not in read  # the draft held the claim
    read.clear()
    check(Case.model_validate({**base, "reply": "Списали 99 ₽ по ошибке, заявка 5512."}))
    assert thread[0]["text"] in read  # «5512» is not in the draft: the agent's message is read


def test_diminutives_reduce_to_their_base() -> None:
    """«скидочку» reads as «скидка» in every lexicon; a word of its own with the same ending
    («карточка», «график») stays itself."""
    from rewriter.analysis.morph import diminutive_base, lemmas

    assert "скидка" in lemmas("скидочку") and "подарок" in lemmas("подарочек")
    assert "промокод" in lemmas("промокодик")  # a base only the rule files know
    assert diminutive_base("возвратик") == "возврат"
    assert diminutive_base("карточка") is None and diminutive_base("график") is None
    assert diminutive_base("промокодик") is None  # the strict reading wants a dictionary noun


def test_one_canonical_value_for_dates_times_and_spans() -> None:
    from rewriter.analysis.facts import extract_facts, fact_keys
    from rewriter.analysis.timeexpr import commitment_keys, extract_commitments

    assert fact_keys(["до 05.11.2026"]) >= {"date:11-05"}
    assert "date:11-05" in fact_keys(["до 5 ноября 2026 года"])
    assert [f.key for f in extract_facts("Платёж 2025-03-12.")] == ["date:03-12"]
    assert [c.key for c in extract_commitments("Действует до 5 ноября 2026 года.")] == [
        "date:11-05"
    ]
    assert {f.key for f in extract_facts("с десяти утра до двух часов дня")} == {
        "time:10:00",
        "time:14:00",
    }
    assert [f.key for f in extract_facts("Обычно это занимает 2 дня.")] == ["num:2"]
    assert commitment_keys(["минут через двадцать"]) == commitment_keys(["через 20 минут"])
    assert commitment_keys(["до 7 календарных дней"]) == commitment_keys(["в течение недели"])
    assert commitment_keys(["7 рабочих дней"]) != commitment_keys(["в течение недели"])
    assert "num:2500" in fact_keys(["две с половиной тысячи рублей"])
    assert "num:50" in fact_keys(["вернём половину стоимости"])


def test_account_numbers_are_their_own_kind() -> None:
    from rewriter.analysis.facts import extract_facts

    kinds = {f.kind for f in extract_facts("Перенесли на лицевой счёт 5120034871.")}
    assert kinds == {"account"}
    assert {f.kind for f in extract_facts("Сумма 5120 ₽.")} == {"num"}


def test_lost_thing_is_read_from_the_customer() -> None:
    s = analyse_thread(("Паспорт у меня украли вместе с сумкой.",))
    assert "lost_item" in s.constraints and s.constraint_objects["lost_item"] == {"паспорт"}
    assert "lost_item" not in analyse_thread(("Паспорт у меня с собой.",)).constraints


def test_a_new_word_is_parsed_once_for_every_predicate(monkeypatch) -> None:
    """Each predicate caches its own answer; the pymorphy3 parse under them is shared, so a word
    first met in a batch is parsed once, not once per predicate (speed; the answers are those of
    the same parses). A word pymorphy3 cannot read still reads as no parse at all."""
    from rewriter.analysis import morph

    word = "перезаписывающимися"  # no other test asks about it: none of the caches holds it
    asked: list[str] = []
    real = morph.analyzer().parse

    def counting(w: str) -> list:
        asked.append(w)
        return real(w)

    monkeypatch.setattr(morph.analyzer(), "parse", counting)
    morph._parses.cache_clear()
    try:
        assert "перезаписываться" in morph.lemmas(word)
        morph.is_imperative(word)
        morph.is_ty_verb(word)
        morph.is_future(word)
        morph.part_of_speech(word)
        morph.main_lemma(word)
        morph.is_name(word)
        assert asked.count(word) == 1  # (pymorphy3 asks itself about the word's parts)
        assert morph._parse("\U00017000") == ()  # a Tangut ideograph: pymorphy3 raises
    finally:
        morph._parses.cache_clear()


def test_a_letter_unicode_cannot_name_reaches_no_predicate_as_an_error() -> None:
    """pymorphy3 raises on a Tangut ideograph; every morph predicate answers as for a word it
    does not know, and a rewrite whose reply holds one is checked (meaning-flip reads its
    words as predicates) instead of crashing `h2h check` with a traceback."""
    from rewriter import Case, check
    from rewriter.analysis import morph

    word = "\U00017000\U00017001"
    assert morph.part_of_speech(word) == ""
    assert morph.main_lemma(word) == word
    assert morph.diminutive_base(word) is None
    assert morph.has_grammemes(word, frozenset({"VERB"})) is False
    case = Case.model_validate(
        {
            "draft": "Карта заблокирована, приходите в отделение.",
            "reply": f"Карта {word} активна, приходите.",
        }
    )
    assert any(v.rule == "meaning-flip" for v in check(case).violations)
