"""Time commitments («в течение трёх рабочих дней», «до пятницы», «завтра», «3–4 часа») reduced
to keys that compare across spelling, case and digits vs words.

Keys: `dur:<value>:<unit>` (units normalised: hours → minutes, weeks → days, «рабочий день»
kept apart), `dur:<lo>-<hi>:<unit>` for ranges, `weekday:<lemma>`, `date:MM-DD`, `time:HH:MM`,
`rel:<day>`, `period:<name>`. A bare date is a fact, not a deadline: dates, times and weekdays
count only after a commitment cue (до, к, в течение, через…).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import cache, lru_cache
from typing import NamedTuple

from rewriter.analysis.facts import (
    Fact,
    extract_facts,
    fused_durations,
    month_numbers,
    number_key,
)
from rewriter.analysis.lexicon import Lexicon, anchor_index
from rewriter.analysis.morph import is_future
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.vocab import raw, time_lexicon

# One base for clock time so «сутки» = «24 часа» and «2 недели» = «14 дней»; months, years and
# working days stay apart (a month is not 30 days to a customer).
_TO_BASE = {
    "секунда": ("минута", 1 / 60),
    "час": ("минута", 60.0),
    "сутки": ("минута", 1440.0),
    "день": ("минута", 1440.0),
    "неделя": ("минута", 10080.0),
}
_RANGE = re.compile(r"(\d+)\s*(?:[-–—]|до)\s*(\d+)")
_RANGE_KEY = re.compile(r"dur:([\d.]+)-([\d.]+):(.+)$")
# A window of clock hours, «с 10 до 14» (or «с 9:30 до 18»): the same as «с 10:00 до 14:00».
_HOURS = re.compile(
    r"(?<!\w)(с|от)\s+([01]?\d|2[0-4])(?::([0-5]\d))?\s+(до)\s+([01]?\d|2[0-4])(?::([0-5]\d))?(?![\d:,.]?\d)",
    re.IGNORECASE,
)


class Commitment(NamedTuple):
    key: str
    start: int
    end: int
    text: str


@cache
def _vocab() -> tuple[
    dict[str, str], frozenset[str], frozenset[str], Lexicon, Lexicon, Lexicon, Lexicon
]:
    data = raw("time")
    return (
        dict(data["units"]),
        frozenset(data["unit_qualifiers"]),
        frozenset(data["weekdays"]),
        Lexicon(data["relative"], gap=0),
        time_lexicon("cues"),
        time_lexicon("unit_cues"),
        time_lexicon("vague"),
    )


@cache
def _unit_set() -> frozenset[str]:
    return frozenset(_vocab()[0])


@cache
def _trigger_keys() -> frozenset[str]:
    """Lemmas without which a text holds no time expression (dates and times aside)."""
    units, _, weekdays, relative, *_ = _vocab()
    # Any one word of a phrase is necessary for it; take the most distinctive, not «в».
    anchors = {v for p in relative.phrases for v in p.words[anchor_index(p)].values}
    return (
        frozenset(units)
        | frozenset(weekdays)
        | anchors
        | frozenset(_month_parts())
        | frozenset(fused_durations())
    )


@cache
def _duration_keys() -> frozenset[str]:
    """Lemmas a duration needs: a unit, or a word that is a whole duration («полчаса»)."""
    return _unit_set() | frozenset(fused_durations())


@cache
def _month_parts() -> dict[str, str]:
    return dict(raw("time").get("month_parts", {}))


@cache
def _window_followers() -> frozenset[str]:
    return frozenset(raw("time").get("window_followers", []))


@cache
def _approximate() -> dict[str, float]:
    return dict(raw("time").get("approximate", {}))


def _approximate_counts(doc: Doc) -> list[Fact]:
    """«пару» before a unit as a number fact of its own (time.yaml: approximate)."""
    approximate = _approximate()
    if not doc.may_contain(approximate.keys()):
        return []
    out = []
    for i, tok in enumerate(doc.tokens[:-1]):
        value = next((approximate[lm] for lm in tok.lemmas if lm in approximate), None)
        if value is not None and not doc.tokens[i + 1].lemmas.isdisjoint(_unit_set()):
            out.append(Fact("num", number_key(value), tok.start, tok.end, tok.text))
    return out


def _fmt(value: float) -> str:
    return number_key(value)[4:]


@cache
def _plain_qualifiers() -> frozenset[str]:
    return frozenset(raw("time").get("plain_qualifiers", []))


def duration_key(value: float, unit: str, qualifier: str | None, hi: float | None = None) -> str:
    base, factor = _TO_BASE.get(unit, (unit, 1.0))
    if qualifier in _plain_qualifiers():  # «14 календарных дней» = «две недели»
        qualifier = None
    if qualifier:
        base = f"{qualifier} {unit}"
        factor = 1.0
    if hi is not None:
        return f"dur:{_fmt(value * factor)}-{_fmt(hi * factor)}:{base}"
    return f"dur:{_fmt(value * factor)}:{base}"


def _cue_start(
    doc: Doc, token_index: int, cue_spans: list[tuple[int, int]], within: int = 3
) -> int | None:
    """Where a commitment cue starts, if one ends within `within` tokens before `token_index` in
    the same sentence; the span of a commitment includes its cue («до пятницы», not «пятницы»).
    A bare unit needs its cue right before it: «за месяц» commits, «за этот месяц» does not."""
    tok = doc.tokens[token_index]
    lo = doc.tokens[max(0, token_index - within)].start
    # A cue that leads to another number first is that number's («в 09:30 (пятница)»).
    numbers = [
        t.start
        for t in doc.tokens[max(0, token_index - within) : token_index]
        if t.text[:1].isdigit()
    ]
    starts = [
        s
        for s, e in cue_spans
        if lo <= e <= tok.start
        and doc.sentence_of(s) == tok.sent
        and not any(e <= n < tok.start for n in numbers)
    ]
    return min(starts) if starts else None


@lru_cache(maxsize=4096)
def extract_commitments(text: str, *, require_cue: bool = True) -> tuple[Commitment, ...]:
    units, qualifiers, weekdays, relative, cues, unit_cues, vague = _vocab()
    doc = analyse(text)
    dated = [f for f in extract_facts(text) if f.kind in ("date", "time")]
    if not dated and not doc.may_contain(_trigger_keys()) and not _HOURS.search(text):
        return ()  # most texts say nothing about time: skip the work
    toks = doc.tokens
    unit_set, weekday_set = _unit_set(), frozenset(weekdays)
    vague_spans = [(m.start, m.end) for m in vague.find(doc)]
    cue_spans = [(m.start, m.end) for m in cues.find(doc)]
    unit_cue_spans = [(m.start, m.end) for m in unit_cues.find(doc)]
    found: list[Commitment] = []

    def add(key: str, start: int, end: int) -> None:
        if any(s < end and start < e for s, e in vague_spans):
            return
        if any(c.start < end and start < c.end for c in found):
            return
        found.append(Commitment(key, start, end, text[start:end]))

    for m in relative.find(doc):
        extra = m.phrase.extra or {}
        if (
            extra.get("needs_future")
            and require_cue
            and not any(is_future(t.text) for t in doc.tokens_in(toks[m.first].sent))
        ):
            continue
        add(extra["key"], m.start, m.end)

    starts = [t.start for t in toks]
    for m in _HOURS.finditer(text):
        # A window, unless a counted word follows («с 10 до 14 дней», «с 1 до 5 баллов»).
        index = bisect_left(starts, m.end())
        after = toks[index] if index < len(toks) else None
        if (
            after is not None
            and not text[m.end() : after.start].strip()
            and after.lemmas.isdisjoint(_window_followers())
        ):
            continue
        for cue, hour, minute in ((1, 2, 3), (4, 5, 6)):
            key = f"time:{int(m.group(hour)):02d}:{m.group(minute) or '00'}"
            add(key, m.start(cue), m.end(minute) if m.group(minute) else m.end(hour))

    # Each pass below looks only for words of its own list; a text without any of them (the
    # Doc's keys hold every lemma of every word) has nothing for that pass to find.
    keys = doc.keys
    number_facts = [f for f in extract_facts(text) if f.kind == "num"]
    number_facts += _approximate_counts(doc)
    dated_spans = [(f.start, f.end) for f in dated]
    duration_keys = _duration_keys()
    for i, tok in enumerate(toks if not keys.isdisjoint(duration_keys) else ()):
        if tok.lemmas.isdisjoint(duration_keys):
            continue
        fused = next((fused_durations()[w] for w in tok.lemmas if w in fused_durations()), None)
        if fused is not None:
            add(duration_key(fused[0], fused[1], None), tok.start, tok.end)
            continue
        hit = tok.lemmas & unit_set
        if not hit or any(s <= tok.start and tok.end <= e for s, e in dated_spans):
            continue  # «2026 года» of a date, «двух часов дня» of a clock time
        unit = units[min(hit)]
        # «минут через двадцать», «дня за три»: the number after the cue, an approximation of
        # the same duration.
        after = _number_after(toks, i, number_facts, unit_cue_spans + cue_spans)
        if after is not None:
            add(duration_key(float(after.key[4:]), unit, None), tok.start, after.end)
            continue
        qualifier = None
        j = i - 1
        if j >= 0 and not toks[j].lemmas.isdisjoint(qualifiers):
            qualifier = next(iter(toks[j].lemmas & qualifiers))
            j -= 1
        # The number right before the unit (digits or words), possibly a range «3–4».
        num = next((f for f in number_facts if j >= 0 and f.end == toks[j].end), None)
        if num is not None and unit == "год" and 1900 <= float(num.key[4:]) <= 2100:
            continue  # «в 2026 году» names a year, not a duration of 2026 years
        if num is not None:
            start = num.start
            range_m = _RANGE.search(text, max(0, num.start - 12), num.end)
            if range_m and range_m.end() == num.end:
                lo, hi = float(range_m.group(1)), float(range_m.group(2))
                add(duration_key(lo, unit, qualifier, hi), range_m.start(), tok.end)
                continue
            add(duration_key(float(num.key[4:]), unit, qualifier), start, tok.end)
        else:
            # «через час», «в течение недели»: one unit.
            cue = _cue_start(doc, i, unit_cue_spans, within=1 + (qualifier is not None))
            if cue is not None or not require_cue:
                first = toks[j + 1] if qualifier else tok
                add(
                    duration_key(1, unit, qualifier),
                    cue if cue is not None else first.start,
                    tok.end,
                )

    parts, months = _month_parts(), month_numbers()
    month_parts = not keys.isdisjoint(parts) and not keys.isdisjoint(months)
    for i, tok in enumerate(toks[:-1] if month_parts else ()):
        part = next((parts[lm] for lm in tok.lemmas if lm in parts), None)
        month = next((months[lm] for lm in toks[i + 1].lemmas if lm in months), None)
        if part is None or month is None:
            continue
        cue = _cue_start(doc, i, cue_spans)
        if cue is not None or not require_cue:
            add(f"month:{part}:{month:02d}", tok.start if cue is None else cue, toks[i + 1].end)

    for i, tok in enumerate(toks if not keys.isdisjoint(weekday_set) else ()):
        if tok.lemmas.isdisjoint(weekday_set):
            continue
        day = min(tok.lemmas & weekday_set)
        cue = _cue_start(doc, i, cue_spans)
        if cue is not None or not require_cue:
            add(f"weekday:{day}", tok.start if cue is None else cue, tok.end)

    for fact in dated:
        index = next((k for k, t in enumerate(toks) if t.start >= fact.start), None)
        cue = None if index is None else _cue_start(doc, index, cue_spans)
        if cue is not None or not require_cue:
            add(fact.key, fact.start if cue is None else cue, fact.end)

    found.sort(key=lambda c: c.start)
    return tuple(found)


def _number_after(toks, i: int, numbers: list[Fact], cues: list[tuple[int, int]]) -> Fact | None:
    """The number of an inverted duration: a unit, a cue, then the number («минут через 20»)."""
    if i + 2 >= len(toks) or toks[i + 2].sent != toks[i].sent:
        return None
    cue = toks[i + 1]
    if not any(s <= cue.start and cue.end <= e for s, e in cues) or cue.norm in ("в", "во", "на"):
        return None
    return next((f for f in numbers if f.start == toks[i + 2].start), None)


@cache
def time_hedges() -> frozenset[str]:
    """Lemmas that turn a time into an aim («постараемся успеть к пятнице»), time.yaml: hedges."""
    from rewriter.analysis.morph import phrase_lemmas

    return frozenset().union(*(phrase_lemmas(w) for w in raw("time").get("hedges", [])))


def vague_spans(text: str) -> list[tuple[int, int]]:
    """Spans of vague time («пару минут», «одну минуту»): no deadline and no number fact."""
    doc = analyse(text)
    return [(m.start, m.end) for m in _vocab()[6].find(doc)]


def commitment_keys(texts: list[str]) -> set[str]:
    """Keys of every time expression in the sources, cue or not («ETA: 3 рабочих дня»)."""
    keys: set[str] = set()
    for t in texts:
        for c in extract_commitments(t, require_cue=False):
            keys.add(c.key)
            upper = upper_bound(c.key)
            if upper:  # a source range «3–5 дней» supports its honest upper bound «до 5 дней»
                keys.add(UPTO + upper)  # … but only as an upper bound, not «через 5 дней»
            if c.key.startswith("date:"):  # «3 апреля» supports «в начале апреля»
                keys.add(_month_part_of(c.key))
    return keys


def _month_part_of(date_key: str) -> str:
    month, day = (int(x) for x in date_key[5:].split("-"))
    part = "start" if day <= 10 else "middle" if day <= 20 else "end"
    return f"month:{part}:{month:02d}"


UPTO = "upto:"


@cache
def _upper_cues() -> Lexicon:
    return Lexicon(raw("time").get("upper_cues", []), gap=0)


def is_upper_bound(doc: Doc, start: int, end: int) -> bool:
    """The time expression at start:end is a limit («(займёт) до 5 дней», «в течение 5 дней»,
    «не более 5 дней»), which a source range's upper end supports; «через 5 дней» is not."""
    return any(
        start <= m.start < end or (m.end <= start and not doc.text[m.end : start].strip())
        for m in _upper_cues().find(doc)
    )


def upper_bound(key: str) -> str | None:
    """The key of a range's upper end («3–5 дней» → «5 дней»), or None for a single value."""
    m = _RANGE_KEY.match(key)
    return f"dur:{m.group(2)}:{m.group(3)}" if m else None
