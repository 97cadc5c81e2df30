"""Two readings of register that the `register` kind (checks.py) asks for: a reply written in
capitals, and a «ты» that mirrors the customer's informal manner without the customer ever
writing «ты».

Kept apart so that the kind itself stays a list of findings: each helper here answers one
question, from the reply, the draft and the customer's messages.
"""

from __future__ import annotations

import re

from rewriter.analysis.claims import quoted_tokens
from rewriter.analysis.morph import is_plain_word, is_ty_verb, is_vy_verb
from rewriter.analysis.text import analyse
from rewriter.analysis.vocab import situation_lexicon, style_pattern
from rewriter.guard.context import Context, Span

_SENTENCE_END = re.compile(r"[.!?…\n]")
_SHOUTED_MIN_LETTERS = 4  # «ПИН», «ИПУ», «ВУЗ»: three capitals are more often an abbreviation


def shouted_words(ctx: Context, least: int) -> list[Span]:
    """Words in capitals that no abbreviation explains — dictionary words of four letters or
    more («ЗДРАВСТВУЙТЕ», «ТАРИФ»; not «СМС», «МФЦ», «ОСАГО», nor a code «L0YAL») — when there
    are at least `least` of them: a reply in capitals shouts. A word the draft writes in
    capitals too is the agent's own emphasis and is not counted; the customer's capitals are
    no licence (capitals are anger, analysis/situation.py), so they are not mirrored."""
    caps = style_pattern("caps_word")
    found = [m for m in caps.finditer(ctx.text) if len(m.group()) >= _SHOUTED_MIN_LETTERS]
    if len(found) < least:
        return []  # the common case: no run of capitals at all
    draft = ctx.case.draft if ctx.compares_to_draft else None
    drafted = {m.group() for m in caps.finditer(draft)} if draft else set()
    # Capitals inside quotes are quoted, not shouted: a subject line «ВАЖНО ПРОЧТИТЕ», a button
    # «ОПЛАТИТЬ», an error message the customer sees.
    doc = ctx.doc
    inside = {doc.tokens[i].start for i in quoted_tokens(doc)}
    words = [
        m.span()
        for m in found
        if m.group() not in drafted and m.start() not in inside and is_plain_word(m.group())
    ]
    if len(words) < least:
        return []
    # One finding per sentence, not one per word: the re-ask names the shouted stretch once.
    spans = [words[0]]
    for start, end in words[1:]:
        if _SENTENCE_END.search(ctx.text, spans[-1][1], start):
            spans.append((start, end))
        else:
            spans[-1] = (spans[-1][0], end)
    return spans


def ty_mirrored(ctx: Context) -> bool:
    """«ты» mirrors a customer who writes informally and never formally: no «вы», no «вы»-verb
    («подскажите», «можете»), no «здравствуйте» — and who greets with «привет», or whose
    manner the agent already answered with «ты» in the draft this reply rewrites. Matching the
    customer's manner is the seed's rule («отзеркаливать их тон разговора и особенности
    письма»); a «вы» of the customer keeps the reply on «вы»."""
    s = ctx.situation
    reg = s.register
    if reg.uses_vy or reg.formal_greeting:
        return False
    if any(is_vy_verb(t.text) for d in s.docs for t in d.tokens if t.text.isalpha()):
        return False
    if reg.informal_greeting:
        return True
    draft = ctx.case.draft
    if not (draft and ctx.compares_to_draft):
        return False
    doc = analyse(draft)
    return bool(situation_lexicon("informal_you").find(doc)) or any(
        is_ty_verb(t.text) for t in doc.tokens if t.text.isalpha()
    )
