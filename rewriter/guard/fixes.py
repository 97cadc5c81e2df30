"""Safe deterministic fixes, declared per rule (`fix:` in the rule file).

A fix edits style, never substance: it may lower-case «Вы», replace a canned phrase with a human
one, drop a promo offer to a customer who is suing, strip emoji and «!!!». It never removes a
sentence that carries a fact unless the rule says the fact goes with it (`keep_facts: false`).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from rewriter.analysis.facts import LOSABLE, extract_facts
from rewriter.analysis.lexicon import Lexicon
from rewriter.analysis.text import analyse
from rewriter.analysis.vocab import lexicon_from
from rewriter.guard.context import Context
from rewriter.guard.rules import Rule
from rewriter.models import Violation


@dataclass(frozen=True, slots=True)
class Edit:
    start: int
    end: int
    replacement: str


def _thanks(rule: Rule, ctx: Context) -> str:
    """Concrete thanks for what the customer sent (the rule file's `thanks_for`), or nothing."""
    table: dict[str, str] = rule.params.get("thanks_for", {})
    for text in reversed(ctx.case.customer_texts):
        doc = analyse(text)
        for lemma, phrase in table.items():
            if doc.has_lemma(lemma):
                return phrase
    return ""


def _sentence_edit(ctx: Context, v: Violation, keep_facts: bool) -> Edit | None:
    assert v.span is not None
    doc = ctx.doc
    start, end = doc.sentence_span(doc.sentence_of(v.span[0]))
    if keep_facts and any(
        f.kind in LOSABLE and start <= f.start < end for f in extract_facts(ctx.text)
    ):
        return None
    # Take the whitespace after the sentence with it.
    while end < len(ctx.text) and ctx.text[end] in " \t":
        end += 1
    return Edit(start, end, "")


def _replace_edit(rule: Rule, ctx: Context, v: Violation) -> Edit | None:
    assert v.span is not None
    lexicon: Lexicon = lexicon_from(rule.params.get("lexicon"))
    match = next((m for m in lexicon.find(ctx.doc) if (m.start, m.end) == v.span), None)
    replacement = (match.phrase.extra or {}).get("replace", "") if match else ""
    replacement = replacement.format(thanks=_thanks(rule, ctx), name=ctx.case.customer_name or "")
    start, end = v.span
    if not replacement:
        # Dropping the phrase: if it was the whole sentence, drop the sentence.
        s_start, s_end = ctx.doc.sentence_span(ctx.doc.sentence_of(start))
        rest = (ctx.text[s_start:start] + ctx.text[end:s_end]).strip(" ,.!?—-–:;")
        if not regex.search(r"\w", rest):
            return _sentence_edit(ctx, v, keep_facts=True)
        return Edit(start, end, "")
    if start == ctx.doc.sentence_span(ctx.doc.sentence_of(start))[0]:
        replacement = replacement[:1].upper() + replacement[1:]
    else:
        replacement = (
            replacement[:1].lower() + replacement[1:]
            if replacement[:1].isupper() and not _is_name(replacement, ctx)
            else replacement
        )
    return Edit(start, end, replacement)


def _is_name(text: str, ctx: Context) -> bool:
    return bool(ctx.case.customer_name) and text.startswith(ctx.case.customer_name or "\0")


def _strip_edit(ctx: Context, v: Violation) -> Edit | None:
    assert v.span is not None
    start, end = v.span
    piece = ctx.text[start:end]
    if regex.fullmatch(r"[!?]+", piece):
        return Edit(start, end, "!" if "!" in piece and "?" not in piece else "?")
    if regex.search(r"\w", piece):  # words («ты», «солнышко») have no safe automatic fix
        return None
    while start > 0 and ctx.text[start - 1] in " \t":
        start -= 1
    return Edit(start, end, "")


def edits_for(rules: dict[str, Rule], ctx: Context, violations: list[Violation]) -> list[Edit]:
    edits: list[Edit] = []
    for v in violations:
        rule = rules[v.rule]
        if rule.fix is None or v.span is None:
            continue
        action = rule.fix.action
        if action == "lowercase":
            edit = Edit(v.span[0], v.span[1], v.text.lower())
        elif action == "replace":
            edit = _replace_edit(rule, ctx, v)
        elif action == "drop_sentence":
            edit = _sentence_edit(ctx, v, rule.fix.keep_facts)
        else:
            edit = _strip_edit(ctx, v)
        if edit is not None:
            edits.append(edit)
    return edits


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits from the end, then tidy the punctuation they leave behind."""
    out = text
    last_start = len(text) + 1
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        if e.end > last_start:
            continue  # overlaps an edit already applied
        out = out[: e.start] + e.replacement + out[e.end :]
        last_start = e.start
    return tidy(out)


def tidy(text: str) -> str:
    t = regex.sub(r"[ \t]{2,}", " ", text)
    t = regex.sub(r"[ \t]+([,.!?;:…])", r"\1", t)
    t = regex.sub(r",\s*([.!?])", r"\1", t)  # «Добрый день, !» → «Добрый день!»
    t = regex.sub(r"([.!?])\s*,", r"\1", t)
    t = regex.sub(r"^[\s,.;:—–-]+", "", t)
    t = regex.sub(r"(?m)^[ \t]*[,;:]\s*", "", t)
    t = regex.sub(r",{2,}", ",", t)
    # Capitalise the first letter of every sentence.
    t = regex.sub(r"(^|[.!?…]\s+)(\p{Ll})", lambda m: m.group(1) + m.group(2).upper(), t)
    return t.strip()
