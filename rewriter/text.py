"""Tokens, sentences and lemmas of one text, computed once and shared by every rule."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from rewriter.morph import lemmas, normalise_word

# Words (letters/digits joined by inner hyphens) and the symbols lexicons talk about.
# Stdlib `re` on purpose: it is several times faster than `regex` for plain classes.
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*|[₽$€%№]")
# A sentence ends after . ! ? … (a run, then closing quotes/brackets) before a space, or at a
# newline; the end mark stays with its sentence.
_SENT_END = re.compile(r"([.!?…]+[»\"')]*)\s+|\n+")


class Token(NamedTuple):
    text: str
    start: int
    end: int
    sent: int
    norm: str
    lemmas: frozenset[str]


@dataclass(frozen=True)
class Doc:
    """An analysed text. Build with `analyse()`, which caches by the text itself."""

    text: str
    tokens: tuple[Token, ...]
    sentences: tuple[tuple[int, int], ...]
    _lemma_set: frozenset[str] = field(default=frozenset(), repr=False)
    _keys: frozenset[str] = field(default=frozenset(), repr=False)  # lemmas and "=form"s

    def may_contain(self, keys: frozenset[str]) -> bool:
        """False when no word of the text has any of `keys`: lexicons skip the text at once."""
        return not self._keys.isdisjoint(keys)

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
        return lemma in self._lemma_set

    def tokens_in(self, sent: int) -> list[Token]:
        return [t for t in self.tokens if t.sent == sent]


def split_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT_END.finditer(text):
        end = m.end(1) if m.group(1) else m.start()
        if end > pos:
            spans.append((pos, end))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


@lru_cache(maxsize=200_000)
def _word(word: str) -> tuple[str, frozenset[str]]:
    return normalise_word(word), lemmas(word)


@lru_cache(maxsize=4096)
def analyse(text: str) -> Doc:
    sentences = split_sentences(text)
    ends = [end for _, end in sentences]
    tokens: list[Token] = []
    append = tokens.append
    for m in _TOKEN.finditer(text):
        start = m.start()
        word = m.group()
        norm, word_lemmas = _word(word)
        append(Token(word, start, m.end(), bisect_right(ends, start), norm, word_lemmas))
    lemma_set = frozenset(lemma for t in tokens for lemma in t.lemmas)
    keys = lemma_set | {"=" + t.norm for t in tokens}
    return Doc(text, tuple(tokens), tuple(sentences), lemma_set, keys)


def is_sentence_start(text: str, offset: int) -> bool:
    """True when only quotes, dashes or spaces lie between a sentence end and `offset`."""
    i = offset - 1
    while i >= 0 and text[i] in " \t«\"'(—–-•*":
        i -= 1
    return i < 0 or text[i] in ".!?…\n"
