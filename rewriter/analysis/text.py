"""Tokens, sentences and lemmas of one text, computed once and shared by every rule."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from rewriter.analysis.morph import lemmas, normalise_word

# Words (letters/digits joined by inner hyphens) and the symbols lexicons talk about.
# Stdlib `re` on purpose: it is several times faster than `regex` for plain classes.
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*|[₽$€%№]")
TOKEN = _TOKEN  # for units that read other texts the way a Doc is read (analysis/ngrams.py)
# A sentence ends after . ! ? … (a run, then closing quotes/brackets) before a space, or at a
# newline; the end mark stays with its sentence.
_SENT_END = re.compile(r"([.!?…]+[»\"')]*)\s+|\n+")
# With emoji, a pictograph before a capital ends a sentence too («…поновее 😄 Новую карту…»).
_EMOJI_CHAR = re.compile("[\u2600-\u27bf\U0001f300-\U0001faff]")
_SENT_END_EMOJI = re.compile(
    r"([.!?…]+[»\"')]*)\s+|\n+|([\u2600-\u27bf\U0001f300-\U0001faff]\ufe0f?)\s+(?=[А-ЯЁA-Z])"
)


class Token(NamedTuple):
    text: str
    start: int
    end: int
    sent: int
    norm: str
    lemmas: frozenset[str]
    keys: frozenset[str]  # the lemmas and «=norm»: what a lexicon index is keyed by


class Doc:
    """An analysed text. Build with `analyse()`, which caches by the text itself. Treat as
    immutable: it is shared by every rule (a plain slotted class, because a frozen dataclass
    costs a tenth of the analysis just to construct)."""

    __slots__ = ("keys", "sentences", "text", "tokens")

    def __init__(
        self,
        text: str,
        tokens: tuple[Token, ...],
        sentences: tuple[tuple[int, int], ...],
        keys: frozenset[str] = frozenset(),
    ) -> None:
        self.text = text
        self.tokens = tokens
        self.sentences = sentences
        # Every lemma of every word, and every word form as «=form» (no lemma starts with «=»):
        # what lexicons test before looking at a single token.
        self.keys = keys

    def __repr__(self) -> str:
        return f"Doc({self.text!r}, {len(self.tokens)} tokens)"

    def may_contain(self, keys: Iterable[str]) -> bool:
        """False when no word of the text has any of `keys`: lexicons skip the text at once."""
        return not self.keys.isdisjoint(keys)

    def sentence_span(self, index: int) -> tuple[int, int]:
        return self.sentences[index]

    def sentence_of(self, offset: int) -> int:
        for i, (start, end) in enumerate(self.sentences):
            if start <= offset < end:
                return i
        return max(0, len(self.sentences) - 1)

    def sentence_text(self, index: int) -> str:
        start, end = self.sentences[index]
        return self.text[start:end]

    def has_lemma(self, lemma: str) -> bool:
        return lemma in self.keys

    def tokens_in(self, sent: int) -> list[Token]:
        return [t for t in self.tokens if t.sent == sent]


def split_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    # Most texts have no emoji: one quick search finds out, and the plain pattern is faster.
    ends = _SENT_END_EMOJI if _EMOJI_CHAR.search(text) else _SENT_END
    for m in ends.finditer(text):
        end = m.end(1) if m.group(1) else m.end(2) if m.lastindex == 2 else m.start()
        if end > pos:
            spans.append((pos, end))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


@lru_cache(maxsize=200_000)
def _word(word: str) -> tuple[str, frozenset[str], frozenset[str]]:
    norm = normalise_word(word)
    word_lemmas = lemmas(word)
    return norm, word_lemmas, word_lemmas | {"=" + norm}


@lru_cache(maxsize=4096)
def _number(word: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """A run of digits is its own lemma. A cache of its own: amounts and ids are mostly new each
    time and would only push real words out of the word cache."""
    return word, frozenset((word,)), frozenset((word, "=" + word))


_new_token = tuple.__new__  # NamedTuple's own __new__ is a Python function: too slow per word


@lru_cache(maxsize=4096)
def analyse(text: str) -> Doc:
    sentences = split_sentences(text)
    ends = [end for _, end in sentences] if len(sentences) > 1 else None
    tokens: list[Token] = []
    append = tokens.append
    keys: set[str] = set()
    add_keys = keys.update
    for m in _TOKEN.finditer(text):
        word = m.group()
        norm, word_lemmas, word_keys = _number(word) if word.isdigit() else _word(word)
        start, end = m.span()
        sent = bisect_right(ends, start) if ends else 0
        append(_new_token(Token, (word, start, end, sent, norm, word_lemmas, word_keys)))
        add_keys(word_keys)
    return Doc(text, tuple(tokens), tuple(sentences), frozenset(keys))


def is_sentence_start(text: str, offset: int) -> bool:
    """True when only quotes, dashes or spaces lie between a sentence end and `offset`."""
    i = offset - 1
    while i >= 0 and text[i] in " \t«\"'(—–-•*":
        i -= 1
    return i < 0 or text[i] in ".!?…\n"
