"""Is a text a reply at all? The shape of a finished message, read without the rules' data:
a dangling end, unbalanced quotes or brackets, a repeated stretch, and who is speaking.

Each function is a small measurement; the `reply-form` check kind (rewriter/guard/replyform.py)
combines them with the word lists of its rule file.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from itertools import islice

from rewriter.analysis.morph import (
    first_person_plural,
    first_person_singular,
    may_address_you,
    may_be_predicate,
)
from rewriter.analysis.text import Doc, Token, analyse
from rewriter.analysis.vocab import style_pattern

Span = tuple[int, int]

_END_PUNCT = re.compile(r"[.!?…)»\"'\]:;]\s*$|[\U0001F000-\U0001FAFF\u2600-\u27BF]\s*$")
# «…» or «...» at the end: of a text stripped on the right, what `str.endswith` tells.
_ELLIPSIS_ENDS = ("…", "...")
_LIST_MARKER_END = re.compile(r"(?:^|\n)\s*(?:\d{1,2}[.)]|[-•*–—])\s*$")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)
_NO_PUNCT = str.maketrans(dict.fromkeys(".,!?…:;—–-«»\"'()", " "))
_URL_TAIL = ".,;:!?)»\"'"
_WORDS = re.compile(r"[^\W_]+")
# Brackets that are smileys («:(», «))», «;-)») or list numbers («1)») are not brackets.
_SMILEY = re.compile(r"[:;=]-?[()]+|\){2,}|\({2,}|(?<=\s)\)(?=\s|$)|\b[a-zа-яё]\)")
_PAIRS = (("«", "»"), ("(", ")"), ("[", "]"), ("{", "}"), ("“", "”"))
# Every mark `unbalanced` counts: a text with none of them is balanced.
_PAIR_MARK = re.compile(r"[«»()\[\]{}“”\"`]")
# The last character of a text (stripped on the right) that ends with a list marker
# (_LIST_MARKER_END): a bullet, or «.» / «)» after a digit. Any other text need not be searched.
_BULLET_LAST = frozenset("-•*–—")
_NUMBER_MARK_LAST = frozenset(".)")


def unbalanced(text: str) -> Span | None:
    """An opening quote, bracket or code fence that is never closed: the text was cut."""
    if _PAIR_MARK.search(text) is None:
        return None  # no quote, bracket or backtick at all
    present = [pair for pair in _PAIRS if pair[0] in text or pair[1] in text]
    if all(text.count(a) == text.count(b) for a, b in present) and not (
        ('"' in text and text.count('"') % 2) or ("`" in text and text.count("```") % 2)
    ):
        return None  # the common case: as many closing marks as opening ones
    blank = lambda m: " " * len(m.group())  # noqa: E731 — offsets must stay valid
    text = _SMILEY.sub(blank, style_pattern("list_marker").sub(blank, text))
    for left, right in _PAIRS:
        depth, opened = 0, -1
        for i, ch in enumerate(text):
            if ch == left:
                if depth == 0:
                    opened = i
                depth += 1
            elif ch == right and depth:
                depth -= 1
        if depth:
            return opened, len(text.rstrip())
    for mark in ('"', "```"):
        if text.count(mark) % 2:
            start = text.rfind(mark)
            return start, len(text.rstrip())
    return None


def _last_clause(doc: Doc, clause_words: Collection[str]) -> list[Token]:
    """The tokens after the last comma, dash, colon or clause word of the last sentence."""
    toks = [t for t in doc.tokens if t.sent == doc.tokens[-1].sent]
    start = 0
    for i in range(1, len(toks)):
        gap = doc.text[toks[i - 1].end : toks[i].start]
        if any(ch in gap for ch in ",:;—–(") or toks[i].norm in clause_words:
            start = i
    return toks[start:]


def dangling_end(
    doc: Doc,
    dangling_words: Collection[str],
    clause_words: Collection[str],
    draft: str | None = None,
) -> Span | None:
    """Where the text breaks off: a preposition or conjunction last, a list item with nothing in
    it, «…» after a fragment, a word or link cut short (a prefix of the draft's), or a clause
    opened by «что»/«чтобы»/«если» that never gets its verb."""
    text = doc.text.rstrip()
    if not text or not doc.tokens:
        return None
    last = doc.tokens[-1]
    tail = text[last.end :]
    end = text[-1]
    may_be_marker = end in _BULLET_LAST or (end in _NUMBER_MARK_LAST and text[-2:-1].isdigit())
    marker = _LIST_MARKER_END.search(text) if may_be_marker else None
    if marker:
        return marker.start(), len(text)
    ellipsis = text.endswith(_ELLIPSIS_ENDS)
    if tail.strip() and not ellipsis:
        return None  # ends on punctuation that closes a thought (or an emoji)
    if last.norm in dangling_words:
        return last.start, len(text)
    if ellipsis:  # «…» after a fragment with no verb at all («По вашему вопросу…»)
        sentence = doc.tokens_in(last.sent)
        if not any(may_be_predicate(t.text) for t in sentence):
            return doc.sentence_span(last.sent)[0], len(text)
        return None
    clause = _last_clause(doc, clause_words)
    if _END_PUNCT.search(text):
        return None
    if draft is not None and _cut_short(text, last, analyse(draft)):
        return last.start, len(text)
    opened = clause and clause[0].norm in clause_words and clause[0].norm not in ("а", "и", "но")
    if opened and not any(may_be_predicate(t.text) for t in clause[1:]):
        return clause[0].start, len(text)
    return None


def _cut_short(text: str, last: Token, draft: Doc) -> bool:
    """The last word or link is the start of one of the draft's, not the whole of it."""
    url = None
    for m in _URL.finditer(text):
        if m.end() == len(text):
            url = m.group().rstrip(_URL_TAIL)
    if url:
        links = [u.rstrip(_URL_TAIL) for u in _URL.findall(draft.text)]
        return any(u.startswith(url) and u != url for u in links)
    word = last.norm
    if len(word) < 2 or any(t.norm == word for t in draft.tokens):
        return False
    return any(t.norm.startswith(word) for t in draft.tokens)


def repeated_stretch(doc: Doc, n: int = 8, sentence_words: int = 4) -> Span | None:
    """The second occurrence of a run of `n` words that the text already said (a reply given
    twice, a paragraph pasted again), or of a whole sentence of `sentence_words` or more."""
    text = doc.text
    norms = [t.norm for t in doc.tokens]
    if len(set(norms)) == len(norms):
        return None  # no word comes twice, so no stretch of words does either
    short = list(zip(*[norms[k:] for k in range(sentence_words)], strict=False))
    if len(set(short)) == len(short):
        return None  # the common case: not even `sentence_words` words come twice in a row
    if len(doc.sentences) > 1:
        said: set[tuple[str, ...]] = set()
        for start, end in doc.sentences:
            words = tuple(text[start:end].lower().translate(_NO_PUNCT).split())
            if len(words) >= sentence_words:
                if words in said:
                    return start, end
                said.add(words)
    toks = doc.tokens
    if len(toks) < 2 * n:
        return None
    grams = list(zip(*(norms[k:] for k in range(n)), strict=False))
    if len(set(grams)) == len(grams):
        return None  # the common case: no run of n words comes twice
    first: dict[tuple[str, ...], int] = {}
    for i, gram in enumerate(grams):
        j = first.setdefault(gram, i)
        if j + n <= i:
            return toks[i].start, toks[i + n - 1].end
    return None


@dataclass(frozen=True, slots=True)
class Voice:
    """Who seems to speak: the customer's marks against the company's («вы», «мы»).

    Customer marks: «я», «мне», «меня», «мой» ½ each (an agent says «я проверил» too); a verb
    in the 1st person singular («жду», «поменяю») ½ (one for «мы» counts for the company); an
    acknowledgement opening a paragraph («Понял, спасибо») 1; a question that does not speak
    to the reader («Когда курьер заберёт?», «почему я должна…») 1½ — an agent's questions
    ask the customer something («Можете прислать скриншот?»); «у меня» 1; an impatient
    demand («Сделайте уже…», «Верните наконец…») 1."""

    customer: float
    company: int
    evidence: Span | None


def voice(
    doc: Doc,
    you_words: Collection[str],
    we_words: Collection[str],
    me_words: Collection[str],
    openers: Collection[str],
    why_words: Collection[str] = (),
    impatience: Collection[str] = (),
) -> Voice:
    score = 0.0
    company = 0
    first: Span | None = None
    for sent in range(len(doc.sentences)):
        toks = doc.tokens_in(sent)
        if not toks:
            continue
        mark = 0.0
        addressed = False
        me = False
        demands = False
        for k, t in enumerate(toks):
            if t.norm in you_words or t.norm in we_words:
                company += 1
                addressed = True
            elif t.norm in me_words:
                # «у меня» is the customer's trouble («у меня снова не работает»)
                mark += 1.0 if k and toks[k - 1].norm == "у" else 0.5
                me = True
            elif t.text.isalpha():
                if first_person_singular(t.text):
                    mark += 0.5
                elif first_person_plural(t.text):
                    company += 1
                elif may_address_you(t.text):
                    addressed = True
                    demands = demands or any(x.norm in impatience for x in toks)
        start, end = doc.sentence_span(sent)
        opens_paragraph = start == 0 or "\n" in doc.text[max(0, start - 2) : start]
        if opens_paragraph and toks[0].norm in openers:
            mark += 1.0
        asks = doc.text[start:end].rstrip().endswith("?")
        # «Не понимаю, почему я должна платить!»: a question about oneself, however punctuated.
        asks = asks or (me and any(t.norm in why_words for t in toks))
        if asks and not addressed:
            mark += 1.5
        if demands:  # «Сделайте уже что-нибудь», «Верните наконец деньги»
            mark += 1.0
        if mark and first is None:
            first = (start, end)
        score += mark
    return Voice(score, company, first)


def _content(doc: Doc, filler: Collection[str], names: Collection[str]) -> Iterator[Token]:
    return (
        t
        for t in doc.tokens
        if t.lemmas.isdisjoint(filler) and t.norm not in names and not t.norm.isdigit()
    )


def content_tokens(doc: Doc, filler: Collection[str], names: Collection[str]) -> list[Token]:
    """The words that say something: not a greeting, thanks, sign-off or acknowledgement
    (`filler`, lemmas), not a function word, not the customer's name."""
    return list(_content(doc, filler, names))


def more_content_than(
    doc: Doc, filler: Collection[str], names: Collection[str], limit: int
) -> bool:
    """More than `limit` content_tokens: counted only as far as needed."""
    return next(islice(_content(doc, filler, names), limit, None), None) is not None


def has_words(text: str) -> bool:
    return _WORDS.search(text) is not None
