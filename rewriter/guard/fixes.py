"""Safe deterministic fixes, declared per rule (`fix:` in the rule file).

A fix edits style, never substance: it may lower-case «Вы», replace a canned phrase with a human
one, drop a promo offer to a customer who is suing, strip emoji and «!!!». It never removes a
sentence that carries a fact unless the rule says the fact goes with it (`keep_facts: false`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import regex

from rewriter.analysis.facts import LOSABLE, extract_facts
from rewriter.analysis.lexicon import Match
from rewriter.analysis.morph import is_name, normalise_word
from rewriter.analysis.text import analyse, split_sentences
from rewriter.analysis.vocab import situation_lexicon
from rewriter.guard.context import Context, lexicon_of
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


def _sentence_edit(ctx: Context, at: int, keep_facts: bool) -> Edit | None:
    """Drop the sentence holding offset `at` (and the spaces after it)."""
    doc = ctx.doc
    start, end = doc.sentence_span(doc.sentence_of(at))
    if keep_facts and any(
        f.kind in LOSABLE and start <= f.start < end for f in extract_facts(ctx.text)
    ):
        return None
    # Take the whitespace after the sentence with it.
    while end < len(ctx.text) and ctx.text[end] in " \t":
        end += 1
    return Edit(start, end, "")


def _replace_edits(rule: Rule, ctx: Context, v: Violation) -> list[Edit]:
    """The human wording for each canned phrase of the finding (one finding may span two
    phrases written side by side); a phrase with no wording is dropped."""
    assert v.span is not None
    inside = [m for m in lexicon_of(rule, "lexicon").find(ctx.doc) if _within(m, v.span)]
    chosen: list[Match] = []
    for m in sorted(inside, key=lambda m: (m.start - m.end, m.start)):  # longest first
        if not any(c.start < m.end and m.start < c.end for c in chosen):
            chosen.append(m)
    if not chosen:
        edit = _replace_one(rule, ctx, v.span, None)
        return [edit] if edit else []
    return [e for m in chosen if (e := _replace_one(rule, ctx, (m.start, m.end), m))]


def _within(m: Match, span: tuple[int, int]) -> bool:
    return span[0] <= m.start and m.end <= span[1]


def _replace_one(
    rule: Rule, ctx: Context, span: tuple[int, int], match: Match | None
) -> Edit | None:
    replacement = (match.phrase.extra or {}).get("replace", "") if match else ""
    replacement = replacement.format(thanks=_thanks(rule, ctx), name=ctx.case.customer_name or "")
    start, end = span
    if not replacement:
        # Dropping the phrase: if it was the whole sentence, drop the sentence.
        s_start, s_end = ctx.doc.sentence_span(ctx.doc.sentence_of(start))
        rest = (ctx.text[s_start:start] + ctx.text[end:s_end]).strip(" ,.!?—-–:;")
        if not regex.search(r"\w", rest):
            return _sentence_edit(ctx, start, keep_facts=True)
        return Edit(start, end, "")
    if start == ctx.doc.sentence_span(ctx.doc.sentence_of(start))[0] or _opens_unmarked(
        ctx.text, start
    ):
        replacement = replacement[:1].upper() + replacement[1:]
    else:
        replacement = (
            replacement[:1].lower() + replacement[1:]
            if replacement[:1].isupper() and not _is_name(replacement, ctx)
            else replacement
        )
    return Edit(start, end, replacement)


def _opens_unmarked(text: str, start: int) -> bool:
    """A capital after an emoji or a smiley and no full stop («в пути 🚀 Ожидайте»): the writer
    began a sentence there, though no punctuation says so."""
    before = text[:start].rstrip()
    return (
        text[start : start + 1].isupper()
        and bool(before)
        and not regex.match(r"[\w,;:—–\-«\"(]", before[-1])
    )


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
        if action == "replace":
            edits += _replace_edits(rule, ctx, v)
            continue
        if action == "lowercase":
            edit: Edit | None = Edit(v.span[0], v.span[1], v.text.lower())
        elif action == "drop_sentence":
            edit = _sentence_edit(ctx, v.span[0], rule.fix.keep_facts)
        else:
            edit = _strip_edit(ctx, v)
        if edit is not None:
            edits.append(edit)
    return edits


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits from the end, then tidy the punctuation they leave behind."""
    # Of edits that overlap, the widest wins: a dropped sentence takes the «Вам» it held with it
    # rather than leaving the sentence for lower-casing.
    chosen: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start - e.end, e.start)):
        if not any(c.start < e.end and e.start < c.end for c in chosen):
            chosen.append(e)
    out = text
    for e in sorted(chosen, key=lambda e: e.start, reverse=True):
        left, right = out[: e.start], out[e.end :]
        out = left + (e.replacement or _junction(left, right)) + right
    return tidy(out)


def _junction(left: str, right: str) -> str:
    """What stands where a piece was removed. An emoji or a phrase may have been all that ended a
    sentence («Не волнуйтесь 😊 Мы обязательно…»): when a sentence starts right after it and
    nothing ends the one before, a full stop does (tidy closes up the spaces)."""
    before, after = left.rstrip(" \t"), right.lstrip(" \t")
    if before and after and regex.match(r"[\w»\")]", before[-1]) and after[0].isupper():
        return ". "
    return ""


def _address_words(text: str, customer_name: str | None) -> list[str] | None:
    """The words of a sentence that only addresses the customer (a name, with or without a
    greeting): «Ольга!», «Здравствуйте, Ольга!». None when the sentence says anything else."""
    doc = analyse(text)
    greeting = {
        i
        for name in ("formal_greeting", "informal_greeting")
        for m in situation_lexicon(name).find(doc)
        for i in range(m.first, m.last + 1)
    }
    own = {normalise_word(p) for p in (customer_name or "").split()}
    names = []
    for i, t in enumerate(doc.tokens):
        if i in greeting:
            continue
        if not regex.match(r"\w", t.text):
            continue
        if t.norm in own or (t.text[:1].isupper() and is_name(t.text)):
            names.append(t.text)
        else:
            return None
    return names if len(doc.tokens) else None


def join_bare_address(text: str, customer_name: str | None) -> str:
    """A name a fix left alone as a sentence («Ольга! Проверим платёж.», once «Ольга, спасибо
    за обращение!» lost its template) opens the next sentence instead: «Ольга, проверим
    платёж.» A greeting with the name («Здравствуйте, Ольга!») is a sentence of its own."""
    spans = split_sentences(text)
    for (s, e), (next_start, _) in reversed(list(pairwise(spans))):
        sentence = text[s:e]
        words = _address_words(sentence, customer_name)
        if not words or len(words) != len(regex.findall(r"\w+", sentence)):
            continue  # not a bare name (a greeting stays a sentence)
        rest = text[next_start:]
        first = regex.match(r"\w+", rest)
        if first and not _keeps_capital(first.group(), customer_name):
            rest = rest[:1].lower() + rest[1:]
        text = text[:s] + sentence.rstrip(" !.…,") + ", " + rest
    return text


def _keeps_capital(word: str, customer_name: str | None) -> bool:
    """A word that is capitalised anywhere: a name, an acronym («СМС»)."""
    own = {normalise_word(p) for p in (customer_name or "").split()}
    return (word.isupper() and len(word) > 1) or normalise_word(word) in own or is_name(word)


def only_address(text: str, customer_name: str | None) -> bool:
    """Nothing but a greeting and a name is left: not a reply anyone would send."""
    return all(
        _address_words(text[s:e], customer_name) is not None for s, e in split_sentences(text)
    )


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
