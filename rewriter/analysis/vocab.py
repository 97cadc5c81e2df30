"""Shared vocabularies from guardrails/lexicons/*.yaml, loaded and compiled once per process."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from rewriter.analysis.lexicon import Lexicon
from rewriter.paths import lexicon_data

if TYPE_CHECKING:
    import regex


def raw(name: str) -> dict[str, Any]:
    """guardrails/lexicons/NAME.yaml with a team's own lexicons laid over it (paths.lexicon_data).

    The compiled vocabularies below are kept for the process: a team's folders are chosen before
    the first check (H2H_RULES, --rules), not switched in the middle of a run."""
    return lexicon_data(name)


def lexicon_from(spec: Any, *, default_gap: int = 1) -> Lexicon:
    """A Lexicon from a YAML value: a list of phrases, or {phrases, gap, any_order, window}."""
    if spec is None:
        return Lexicon([])
    if isinstance(spec, list):
        return Lexicon(spec, gap=default_gap)
    return Lexicon(
        spec.get("phrases", []),
        gap=spec.get("gap", default_gap),
        any_order=spec.get("any_order", False),
        window=spec.get("window", 6),
    )


@cache
def situation_lexicon(name: str) -> Lexicon:
    return lexicon_from(raw("situation")[name])


@cache
def situation_exceptions(name: str) -> Lexicon:
    spec = raw("situation")[name]
    return Lexicon(spec.get("exceptions", []) if isinstance(spec, dict) else [], gap=1)


@cache
def constraint_lexicons() -> dict[str, Lexicon]:
    # Order-tolerant: «нет доступа к почте» = «доступа к почте нет».
    # A constraint is a list of phrases, or {phrases, window} when its words must stay closer
    # («потерял телефон с симкой, как заблокировать карту» lost a phone, not a card).
    out = {}
    for cid, spec in raw("situation")["constraints"].items():
        phrases, window = (
            (spec["phrases"], spec["window"]) if isinstance(spec, dict) else (spec, 10)
        )
        out[cid] = Lexicon(phrases, any_order=True, window=window)
    return out


@cache
def constraint_index() -> dict[str, frozenset[str]] | None:
    """Doc key → the constraints whose lexicon that key may wake (each lexicon's prefilter): a
    customer message is looked at only by the constraints of the words it holds. None when a
    constraint's phrase of prefixes alone makes every text a candidate."""
    index: dict[str, set[str]] = {}
    for cid, lexicon in constraint_lexicons().items():
        if lexicon.prefilter is None:
            return None
        for key in lexicon.prefilter:
            index.setdefault(key, set()).add(cid)
    return {key: frozenset(cids) for key, cids in index.items()}


@cache
def constraint_keys() -> frozenset[str] | None:
    """The keys of `constraint_index` as a set: intersected with a Doc's keys in C."""
    index = constraint_index()
    return None if index is None else frozenset(index)


@cache
def constraint_object_classes() -> dict[str, frozenset[str]]:
    """Constraint id → the lemmas that can name the lacking thing (situation.yaml)."""
    from rewriter.analysis.morph import phrase_lemmas

    return {
        cid: frozenset().union(*(phrase_lemmas(w) for w in words))
        for cid, words in raw("situation").get("constraint_objects", {}).items()
    }


@cache
def topic_lexicons() -> dict[str, Lexicon]:
    return {
        name: Lexicon(phrases, any_order=True, window=4)
        for name, phrases in raw("situation").get("topics", {}).items()
    }


@cache
def compile_pattern(pattern: str) -> re.Pattern[str] | regex.Pattern[str]:
    """A pattern of a data file: the standard library's engine when it can read it (several
    times faster on plain patterns), the `regex` module for what only it knows (\\p{…} classes,
    variable-width look-behind). Both give the same matches for a pattern both accept."""
    try:
        return re.compile(pattern)
    except re.error:
        import regex

        return regex.compile(pattern)


@cache
def style_pattern(name: str) -> re.Pattern[str] | regex.Pattern[str]:
    # Kept like the vocabularies above: called for every text (facts reads list markers), where
    # re-reading the lexicon file's merged data meant a look at os.environ each time.
    return compile_pattern(raw("situation")["style"][name])


@cache
def any_style_pattern(*names: str) -> re.Pattern[str] | regex.Pattern[str]:
    """One pattern that matches wherever any of the named ones does: a single scan tells that a
    text has none of them (the common case) without running each."""
    style = raw("situation")["style"]
    return compile_pattern("|".join(f"(?:{style[name]})" for name in names))


@cache
def time_lexicon(name: str) -> Lexicon:
    return Lexicon(raw("time")[name], gap=0)
