"""Facts a reply may state only if a source states them: numbers and amounts, dates, times,
URLs, e-mails, phones, ids and names — each reduced to a comparable key.

Keys make spelling irrelevant: «15 000 рублей» and «15000 ₽» are both `num:15000`, «1.5%» and
«1,5 %» are `num:1.5`, «трёх» is `num:3`, «8 (912) 345-67-89» and «+79123456789» are one phone.
Facts are found with regular expressions on the raw text (tokenisers split e-mails and codes).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from operator import attrgetter
from typing import NamedTuple

from rewriter.analysis.morph import is_name, name_lemma
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.vocab import raw, style_pattern

EMAIL = _EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>«»\"']+"
    r"|\b(?:[\w-]+\.)+(?:ru|com|net|org|рф|io|me|app|su|info|pro|dev|рус|online|site|store|shop)"
    r"\b(?:/[^\s<>«»\"']*)?",
    re.IGNORECASE,
)
PHONE = _PHONE = re.compile(
    r"(?<![\d+])(?:\+7|8|7)[\s\-\u00a0]*\(?\d{3}\)?[\s\-\u00a0]*\d{3}[\s\-\u00a0]*\d{2}[\s\-\u00a0]*\d{2}(?!\d)"
)
# A payment card: 13-19 digits in groups, checked with Luhn before it counts.
CARD = re.compile(r"(?<![\d-])(?:\d[ \u00a0-]?){12,18}\d(?![\d-])")
_DATE_NUM = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2}))?(?![\d])(?!\.\d)")
_DATE_ISO = re.compile(r"(?<![\d.-])((?:19|20)\d{2})-(\d{2})-(\d{2})(?![\d-])")
# A year right after a date: «5 ноября 2026 года», «12 марта 2025 г.», «…, 2026»
_YEAR_AFTER = re.compile(
    r"[ \u00a0]*,?[ \u00a0]*((?:19|20)\d{2})(?:[ \u00a0]*(?:года|году|год|г\.?)(?!\w))?"
)
_YEAR_IN = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")
_ID = re.compile(
    r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-zА-Яа-яЁё])[A-Za-zА-Яа-яЁё\d][\w-]*[A-Za-zА-Яа-яЁё\d](?![\w-])"
)
_ORDINAL_SUFFIX = re.compile(r"^\d+-?(?:го|ого|его|й|ый|ий|я|е|х|ти|ми|ю|м|му|ом|ым)$", re.I)
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?(?![\d])")
_TRAILING = ".,!?;:)»\"'"
_DIGIT = re.compile(r"\d")
# An account number: a long number right after «счёт», «л/с», «р/с», «лицевой», «договор».
_ACCOUNT_BEFORE = re.compile(
    r"(?:сч[её]т\w*|л/с|р/с|лицев\w*|расч[её]тн\w*|договор\w*)[\s№:#.]*(?:№\s*)?$", re.IGNORECASE
)
_URL_HINT = re.compile(r"://|www\.|[\w-]\.\w", re.IGNORECASE)


class Fact(NamedTuple):
    kind: str  # num | date | time | url | email | phone | id | card | account | name
    key: str
    start: int
    end: int
    text: str


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def number_key(value: float) -> str:
    return f"num:{int(value)}" if float(value).is_integer() else f"num:{value:g}"


@cache
def _numbers_vocab() -> tuple[
    dict[str, float], dict[str, float], dict[str, float], frozenset[str], dict[str, float]
]:
    data = raw("numbers")
    fused = {k: float(v["value"]) for k, v in data.get("fused", {}).items()}
    return (
        {k: float(v) for k, v in data["cardinals"].items()},
        {k: float(v) for k, v in data["ordinals"].items()},
        {k: float(v) for k, v in data["multipliers"].items()},
        frozenset(data.get("weak", [])),
        fused,
    )


@cache
def fused_durations() -> dict[str, tuple[float, str]]:
    """Words that are a whole duration (numbers.yaml `fused`): «полчаса» → (30, «минута»)."""
    return {k: (float(v["value"]), v["unit"]) for k, v in raw("numbers").get("fused", {}).items()}


@cache
def _number_words() -> frozenset[str]:
    cardinals, ordinals, multipliers, _, fused = _numbers_vocab()
    return frozenset(cardinals) | frozenset(ordinals) | frozenset(multipliers) | frozenset(fused)


@cache
def _unit_lemmas() -> frozenset[str]:
    time = raw("time")
    numbers = raw("numbers")
    return (
        frozenset(time["units"])
        | frozenset(numbers["currencies"])
        | frozenset(numbers.get("measures", []))
    )


@cache
def month_numbers() -> dict[str, int]:
    """Month lemma → its number (time.yaml: months)."""
    return {m: i + 1 for i, m in enumerate(raw("time")["months"])}


@cache
def _month_keys() -> frozenset[str]:
    return frozenset(month_numbers())


def _claimed(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    # A plain loop: called for every candidate of every text, and any() over a generator costs
    # twice as much for the few spans a text has.
    for s, e in spans:  # noqa: SIM110 — see above
        if s < end and start < e:
            return True
    return False


def _url_key(url: str) -> str:
    u = url.lower()
    for prefix in ("https://", "http://"):
        if u.startswith(prefix):
            u = u[len(prefix) :]
    if u.startswith("www."):
        u = u[4:]
    return "url:" + u.rstrip("/")


def _phone_key(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    return "phone:+7" + digits[-10:]


def _parse_number(whole: str, frac: str | None) -> float:
    # Most numbers are one run of digits; only «15 000» needs its spaces taken out.
    value = float(whole if whole.isdigit() else "".join(ch for ch in whole if ch.isdigit()))
    if frac:
        value = float(f"{int(value)}.{frac}")
    return value


@lru_cache(maxsize=4096)
def extract_facts(text: str) -> tuple[Fact, ...]:
    """Every fact in `text`, each once, in order."""
    facts: list[Fact] = []
    spans: list[tuple[int, int]] = []

    def add(kind: str, key: str, start: int, end: int) -> None:
        facts.append(Fact(kind, key, start, end, text[start:end]))
        spans.append((start, end))

    # Each pattern runs only where its tell-tale character occurs: most texts have no «@», no
    # «:» between digits and no web address, and a third of them no digit at all.
    first_digit = _DIGIT.search(text)
    emails = _EMAIL.finditer(text) if "@" in text else ()
    urls = _URL.finditer(text) if _URL_HINT.search(text) else ()
    for m in emails:
        add("email", "email:" + m.group().lower().rstrip(_TRAILING), m.start(), m.end())
    for m in urls:
        if _claimed(spans, m.start(), m.end()):
            continue
        url = m.group().rstrip(_TRAILING)
        add("url", _url_key(url), m.start(), m.start() + len(url))
    doc = analyse(text)
    if first_digit is not None:
        # «1)», «2.» numbering a list are no numbers of the message (tone-overshoot reads the
        # same pattern: they are no smileys either).
        spans += [m.span() for m in style_pattern("list_marker").finditer(text)]
        _digit_facts(text, add, spans, first_digit.start())
    _word_dates(text, doc, add, spans)
    _word_times(doc, add, spans)
    # A number starts with a digit: the scan starts at the first one (the look-behind still sees
    # the text before it), which is most of a text that names one number near its end.
    for m in _NUMBER.finditer(text, first_digit.start()) if first_digit is not None else ():
        if _claimed(spans, m.start(), m.end()):
            continue
        if (  # a long number only: most texts never look for an account word
            len(m.group(1)) >= 8
            and len(m.group(1).replace(" ", "")) >= 8
            and _ACCOUNT_BEFORE.search(text, max(0, m.start() - 30), m.start())
        ):
            add(
                "account",
                "account:" + "".join(ch for ch in m.group() if ch.isdigit()),
                m.start(),
                m.end(),
            )
            continue
        value = _parse_number(m.group(1), m.group(2))
        end = m.end()
        multiplier = _multiplier_after(text, end)
        if multiplier:
            value *= multiplier[0]
            end = multiplier[1]
        add("num", number_key(value), m.start(), end)
    _word_numbers(doc, add, spans)
    _names(doc, add, spans)
    facts.sort(key=_START)
    return tuple(facts)


_START = attrgetter("start")


def _run_start(text: str, index: int) -> int:
    """Where the run of word characters and hyphens holding text[index] begins."""
    while index > 0 and (text[index - 1].isalnum() or text[index - 1] in "_-"):
        index -= 1
    return index


def _digit_facts(text: str, add, spans, first: int) -> None:
    """Cards, phones, numeric dates, clock times and ids: all need a digit (a card 13 of them,
    a phone 11). Every one of these patterns starts at a digit (a phone at «+» right before
    one, an id at the start of the word that holds one), so each scan starts at the first digit
    of the text (`first`) or the word around it: nothing before can match."""
    count = sum(map(text.count, "0123456789"))
    for m in CARD.finditer(text, first) if count >= 13 else ():
        digits = "".join(ch for ch in m.group() if ch.isdigit())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and not _claimed(spans, m.start(), m.end()):
            add("card", "card:" + digits, m.start(), m.end())
    for m in _PHONE.finditer(text, max(0, first - 1)) if count >= 11 else ():
        if not _claimed(spans, m.start(), m.end()):
            add("phone", _phone_key(m.group()), m.start(), m.end())
    for m in _DATE_ISO.finditer(text, first) if "-" in text else ():
        month, day = int(m.group(2)), int(m.group(3))
        if 1 <= day <= 31 and 1 <= month <= 12 and not _claimed(spans, m.start(), m.end()):
            add("date", f"date:{month:02d}-{day:02d}", m.start(), m.end())
    for m in _DATE_NUM.finditer(text, first) if "." in text else ():
        if _claimed(spans, m.start(), m.end()):
            continue
        day, month = int(m.group(1)), int(m.group(2))
        # «12.03» or «5.3.2025» is a date; «1.5» (one-digit month, no year) is a decimal number.
        looks_like_date = m.group(3) is not None or len(m.group(2)) == 2
        if looks_like_date and 1 <= day <= 31 and 1 <= month <= 12:
            add("date", f"date:{month:02d}-{day:02d}", m.start(), m.end())
    for m in _TIME.finditer(text, first) if ":" in text else ():
        if not _claimed(spans, m.start(), m.end()):
            add("time", f"time:{int(m.group(1)):02d}:{m.group(2)}", m.start(), m.end())
    for m in _ID.finditer(text, _run_start(text, first)):
        if _claimed(spans, m.start(), m.end()) or _ORDINAL_SUFFIX.match(m.group()):
            continue
        add("id", "id:" + m.group().upper().replace("Ё", "Е"), m.start(), m.end())


_MULTIPLIER = re.compile(r"[ \u00a0]*(тыс|тысяч\w*|млн|миллион\w*|млрд|миллиард\w*)\b\.?")
_DAY_TOKEN = re.compile(r"^(\d{1,2})(?:-?\w+)?$")


def _multiplier_after(text: str, end: int) -> tuple[float, int] | None:
    m = _MULTIPLIER.match(text, end)
    if not m:
        return None
    word = m.group(1).lower()
    _, _, multipliers, _, _ = _numbers_vocab()
    for lemma, value in multipliers.items():
        if word.startswith(lemma[:4]) or word == lemma:
            return value, m.end()
    return None


def _word_dates(text: str, doc: Doc, add, spans) -> None:
    """«12 марта», «5-го апреля» → date keys."""
    months = month_numbers()
    if not doc.may_contain(_month_keys()):
        return
    toks = doc.tokens
    for i, tok in enumerate(toks[1:], start=1):
        month = next((months[lemma] for lemma in tok.lemmas if lemma in months), None)
        if month is None:
            continue
        prev = toks[i - 1]
        digits = _DAY_TOKEN.match(prev.text)
        if digits and 1 <= int(digits.group(1)) <= 31 and not _claimed(spans, prev.start, tok.end):
            year = _YEAR_AFTER.match(text, tok.end)
            end = year.end() if year else tok.end
            add("date", f"date:{month:02d}-{int(digits.group(1)):02d}", prev.start, end)


_DAY_PARTS = {"утра": 0, "дня": 12, "вечера": 12, "ночи": 0}
_DAY_PART_KEYS = frozenset({"=" + w for w in _DAY_PARTS} | {"полдень", "полночь"})


def _word_times(doc: Doc, add, spans) -> None:
    """Clock times in words: «в десять утра» = 10:00, «до двух часов дня» = 14:00, «в 9 вечера»
    = 21:00; «полдень», «полночь». The key is that of «10:00»: either spelling supports the
    other."""
    if not doc.may_contain(_DAY_PART_KEYS):
        return
    toks = doc.tokens
    cardinals = _numbers_vocab()[0]
    for i, tok in enumerate(toks):
        if tok.norm in ("полдень", "полночь") and not _claimed(spans, tok.start, tok.end):
            add("time", "time:12:00" if tok.norm == "полдень" else "time:00:00", tok.start, tok.end)
            continue
        if tok.norm not in _DAY_PARTS or i == 0:
            continue
        j = i - 1
        hour_word = "час" in toks[j].lemmas
        if hour_word and j > 0:
            j -= 1
        if tok.norm in ("дня", "ночи") and not hour_word:
            continue  # «2 дня», «3 ночи» count days and nights; «2 часа дня» is a clock time
        word = toks[j]
        if word.text.isdigit():
            hour = int(word.text)
        else:
            value = next((cardinals[lm] for lm in word.lemmas if lm in cardinals), None)
            if value is None and j == i - 2:  # «в час дня»: the hour word alone is one o'clock
                word, value = toks[i - 1], 1.0
            hour = int(value) if value is not None and float(value).is_integer() else -1
        if not 1 <= hour <= 12 or _claimed(spans, word.start, tok.end):
            continue
        part = _DAY_PARTS[tok.norm]
        if tok.norm == "дня" and hour > 6 and hour != 12:
            continue  # «10 дня» is not a clock time
        if tok.norm == "ночи" and hour == 12:
            hour = 0
        elif part and hour != 12:
            hour += part
        add("time", f"time:{hour:02d}:00", word.start, tok.end)


def _word_numbers(doc: Doc, add, spans) -> None:
    """Numbers written in words: «трёх» → 3, «пятнадцать тысяч» → 15000, «полчаса» → 30."""
    number_words = _number_words()
    if not doc.may_contain(number_words):
        return
    cardinals, ordinals, multipliers, weak, fused = _numbers_vocab()
    units = _unit_lemmas()
    toks = doc.tokens
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.lemmas.isdisjoint(number_words) or _claimed(spans, tok.start, tok.end):
            i += 1
            continue
        fused_hit = next((fused[lemma] for lemma in tok.lemmas if lemma in fused), None)
        if fused_hit is not None:
            add("num", number_key(fused_hit), tok.start, tok.end)
            i += 1
            continue
        total, current, j, words = 0.0, 0.0, i, []
        while j < len(toks):
            lemmas_j = toks[j].lemmas
            card = next((cardinals[lm] for lm in lemmas_j if lm in cardinals), None)
            mult = next((multipliers[lm] for lm in lemmas_j if lm in multipliers), None)
            if card is not None and toks[j].text.isalpha():
                current += card
                # «две с половиной тысячи» = 2 500
                if (
                    j + 2 < len(toks)
                    and toks[j + 1].norm == "с"
                    and "половина" in toks[j + 2].lemmas
                ):
                    current += 0.5
                    words += [toks[j], toks[j + 1]]
                    j += 2
            elif mult is not None and toks[j].text.isalpha():
                total += (current or 1) * mult
                current = 0
            else:
                break
            words.append(toks[j])
            j += 1
        if words:
            value = total + current
            lemma_words = {lm for w in words for lm in w.lemmas}
            followed_by_unit = j < len(toks) and (
                not toks[j].lemmas.isdisjoint(units)
                or (j + 1 < len(toks) and not toks[j + 1].lemmas.isdisjoint(units))
            )
            is_weak = len(words) == 1 and not lemma_words.isdisjoint(weak)
            if not is_weak or followed_by_unit:
                add("num", number_key(value), words[0].start, words[-1].end)
            i = j
            continue
        ordinal = next((ordinals[lm] for lm in tok.lemmas if lm in ordinals), None)
        if (
            ordinal is not None
            and i + 1 < len(toks)
            and (
                "число" in toks[i + 1].lemmas or not toks[i + 1].lemmas.isdisjoint(month_numbers())
            )
        ):
            add("num", number_key(ordinal), tok.start, tok.end)
        i += 1


def _names(doc: Doc, add, spans) -> None:
    for tok in doc.tokens:
        word = tok.text  # a capital first: most words are out after one test
        if (
            word[0].isupper()
            and len(word) > 2
            and word.isalpha()
            and not _claimed(spans, tok.start, tok.end)
            and is_name(word)
        ):
            add("name", "name:" + name_lemma(word), tok.start, tok.end)


def _equivalent_keys(text: str) -> set[str]:
    """Numbers a text states in words that are not facts on their own: «половина» is 50 (%)
    for a source that says «50%» (numbers.yaml: equivalents)."""
    table = _equivalents()
    doc = analyse(text)
    if not table or not doc.may_contain(table):
        return set()
    return {number_key(v) for lemma, v in table.items() if doc.has_lemma(lemma)}


@cache
def _equivalents() -> dict[str, float]:
    return {k: float(v) for k, v in raw("numbers").get("equivalents", {}).items()}


LOSABLE = frozenset({"num", "date", "time", "url", "email", "phone", "id", "card", "account"})


def fact_keys(texts: list[str]) -> set[str]:
    """All fact keys stated in any of `texts` (the sources a reply may draw on)."""
    keys: set[str] = set()
    for t in texts:
        for f in extract_facts(t):
            keys.add(f.key)
            if f.kind == "date":
                # «до 12 марта» supports a bare «12» and vice versa; so does its year.
                keys.add(number_key(int(f.key[-2:])))
                keys.update(number_key(int(y)) for y in _YEAR_IN.findall(f.text))
        keys |= _equivalent_keys(t)
    return keys
