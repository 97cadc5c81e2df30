"""Check kind `language`: the reply is written in the customer's language.

The customer's language comes from the thread (Russian unless the customer writes another one);
the draft's language counts too, since the agent chose it. Each sentence of the reply in another
language is a violation, and so is a greeting or sign-off in one («Dear …», «Best regards»).
"""

from __future__ import annotations

from pydantic import BaseModel

from rewriter.analysis.language import (
    LATIN_LANGS,
    OTHER_LATIN,
    RUSSIAN,
    analyse_language,
    customer_language,
    may_be_foreign,
)
from rewriter.guard.context import Context, Params, violation
from rewriter.guard.rules import Rule
from rewriter.models import Violation


class LanguageParams(Params):
    # How each language is named in the message («{lang}») and the evidence («{expected}»).
    names: dict[str, str]
    # Sentences with fewer words do not count (a lone «OK» or a product name).
    min_words: int = 2
    evidence: str


PARAMS_SCHEMAS: dict[str, type[BaseModel]] = {"language": LanguageParams}


def check_language(rule: Rule, ctx: Context) -> list[Violation]:
    case = ctx.case
    customer_foreign = any(may_be_foreign(t) for t in case.customer_texts)
    if not customer_foreign and not may_be_foreign(ctx.text):
        return []  # the common case: Cyrillic Russian on both sides, nothing to read
    found = analyse_language(ctx.text)
    p = rule.params
    min_words = p.get("min_words", 2)
    foreign = [s for s in found.sentences if s.lang and s.words >= min_words]
    if not customer_foreign:
        # The common case: a customer writing Russian; only what is not Russian can be wrong.
        foreign = [s for s in foreign if s.lang != RUSSIAN]
    greetings = [g for g in found.salutations if g[2] != RUSSIAN]
    if not foreign and not greetings:
        return []
    expected = customer_language(case.customer_texts)
    allowed = {expected}
    if case.draft:  # the agent chose the draft's language: a rewrite may keep it
        allowed.add(analyse_language(case.draft).lang or RUSSIAN)
    if allowed & LATIN_LANGS:
        # A customer writing a Latin-script language: an unknown one is likely theirs.
        allowed.add(OTHER_LATIN)
    names: dict[str, str] = p["names"]
    evidence = p["evidence"].format(expected=names.get(expected, expected))
    out = []
    for s in foreign:
        if s.lang not in allowed:
            start, end = _trim(ctx.text, s.start, s.end)
            out.append(
                violation(rule, ctx, start, end, lang=names.get(s.lang, s.lang), evidence=evidence)
            )
    for start, end, lang in greetings:
        if lang not in allowed and not any(v.span and v.span[0] <= start < v.span[1] for v in out):
            out.append(
                violation(rule, ctx, start, end, lang=names.get(lang, lang), evidence=evidence)
            )
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
