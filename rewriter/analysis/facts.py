"""Facts a reply may state only if a source states them: numbers and amounts, dates, times,
URLs, e-mails, phones, ids and names — each reduced to a comparable key.

Keys make spelling irrelevant: «15 000 рублей» and «15000 ₽» are both `num:15000`, «1.5%» and
«1,5 %» are `num:1.5`, «трёх» is `num:3`, «8 (912) 345-67-89» and «+79123456789» are one phone.
Facts are found with regular expressions on the raw text (tokenisers split e-mails and codes).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from rewriter.analysis.morph import is_name, name_lemma
from rewriter.analysis.text import analyse
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
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")
_ID = re.compile(
    r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-zА-Яа-яЁё])[A-Za-zА-Яа-яЁё\d][\w-]*[A-Za-zА-Яа-яЁё\d](?![\w-])"
)
_ORDINAL_SUFFIX = re.compile(r"^\d+-?(?:го|ого|его|й|ый|ий|я|е|х|ти|ми|ю|м|му|ом|ым)$", re.I)
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?(?![\d])")
_TRAILING = ".,!?;:)»\"'"
_DIGIT = re.compile(r"\d")
_URL_HINT = re.compile(r"://|www\.|[\w-]\.\w", re.IGNORECASE)


class Fact(NamedTuple):
    kind: str  # num | date | time | url | email | phone | id | card | name
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
    return any(s < end and start < e for s, e in spans)


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
    value = float("".join(ch for ch in whole if ch.isdigit()))
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
    digits = _DIGIT.search(text) is not None
    emails = _EMAIL.finditer(text) if "@" in text else ()
    urls = _URL.finditer(text) if _URL_HINT.search(text) else ()
    for m in emails:
        add("email", "email:" + m.group().lower().rstrip(_TRAILING), m.start(), m.end())
    for m in urls:
        if _claimed(spans, m.start(), m.end()):
            continue
        url = m.group().rstrip(_TRAILING)
        add("url", _url_key(url), m.start(), m.start() + len(url))
    if digits:
        # «1)», «2.» numbering a list are no numbers of the message (tone-overshoot reads the
        # same pattern: they are no smileys either).
        spans += [m.span() for m in style_pattern("list_marker").finditer(text)]
        _digit_facts(text, add, spans)
    _word_dates(text, add, spans)
    for m in _NUMBER.finditer(text) if digits else ():
        if _claimed(spans, m.start(), m.end()):
            continue
        value = _parse_number(m.group(1), m.group(2))
        end = m.end()
        multiplier = _multiplier_after(text, end)
        if multiplier:
            value *= multiplier[0]
            end = multiplier[1]
        add("num", number_key(value), m.start(), end)
    _word_numbers(text, add, spans)
    _names(text, add, spans)
    facts.sort(key=lambda f: f.start)
    return tuple(facts)


def _digit_facts(text: str, add, spans) -> None:
    """Cards, phones, numeric dates, clock times and ids: all need a digit (a card 13 of them,
    a phone 11)."""
    count = sum(map(text.count, "0123456789"))
    for m in CARD.finditer(text) if count >= 13 else ():
        digits = "".join(ch for ch in m.group() if ch.isdigit())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and not _claimed(spans, m.start(), m.end()):
            add("card", "card:" + digits, m.start(), m.end())
    for m in _PHONE.finditer(text) if count >= 11 else ():
        if not _claimed(spans, m.start(), m.end()):
            add("phone", _phone_key(m.group()), m.start(), m.end())
    for m in _DATE_NUM.finditer(text) if "." in text else ():
        if _claimed(spans, m.start(), m.end()):
            continue
        day, month = int(m.group(1)), int(m.group(2))
        # «12.03» or «5.3.2025» is a date; «1.5» (one-digit month, no year) is a decimal number.
        looks_like_date = m.group(3) is not None or len(m.group(2)) == 2
        if looks_like_date and 1 <= day <= 31 and 1 <= month <= 12:
            add("date", f"date:{month:02d}-{day:02d}", m.start(), m.end())
    for m in _TIME.finditer(text) if ":" in text else ():
        if not _claimed(spans, m.start(), m.end()):
            add("time", f"time:{int(m.group(1)):02d}:{m.group(2)}", m.start(), m.end())
    for m in _ID.finditer(text):
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


def _word_dates(text: str, add, spans) -> None:
    """«12 марта», «5-го апреля» → date keys."""
    doc = analyse(text)
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
            add("date", f"date:{month:02d}-{int(digits.group(1)):02d}", prev.start, tok.end)


def _word_numbers(text: str, add, spans) -> None:
    """Numbers written in words: «трёх» → 3, «пятнадцать тысяч» → 15000, «полчаса» → 30."""
    cardinals, ordinals, multipliers, weak, fused = _numbers_vocab()
    number_words = _number_words()
    doc = analyse(text)
    if not doc.may_contain(number_words):
        return
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


def _names(text: str, add, spans) -> None:
    for tok in analyse(text).tokens:
        capitalised = tok.text[:1].isupper() and tok.text.isalpha() and len(tok.text) > 2
        if capitalised and not _claimed(spans, tok.start, tok.end) and is_name(tok.text):
            add("name", "name:" + name_lemma(tok.text), tok.start, tok.end)


LOSABLE = frozenset({"num", "date", "time", "url", "email", "phone", "id", "card"})


def fact_keys(texts: list[str]) -> set[str]:
    """All fact keys stated in any of `texts` (the sources a reply may draw on)."""
    keys: set[str] = set()
    for t in texts:
        for f in extract_facts(t):
            keys.add(f.key)
            if f.kind == "date":
                # «до 12 марта» supports a bare «12» and vice versa.
                keys.add(number_key(int(f.key[-2:])))
    return keys
