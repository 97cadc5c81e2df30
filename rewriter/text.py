"""Tokens, sentences and lemmas of one text, computed once and shared by every rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import regex

from rewriter.morph import lemmas, normalise_word

# Words (letters/digits joined by inner hyphens) and the symbols lexicons talk about.
_TOKEN = regex.compile(r"[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*|[₽$€%№]")
# A sentence ends at . ! ? … (a run, closing quotes/brackets) before a space, or at a newline.
_SENT_END = regex.compile(r"(?<=[.!?…]+[»\"')]*)\s+|\n+")


@dataclass(frozen=True, slots=True)
class Token:
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
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


@lru_cache(maxsize=4096)
def analyse(text: str) -> Doc:
    sentences = split_sentences(text)
    tokens: list[Token] = []
    sent_index = 0
    for m in _TOKEN.finditer(text):
        while sent_index + 1 < len(sentences) and m.start() >= sentences[sent_index][1]:
            sent_index += 1
        word = m.group()
        tokens.append(
            Token(word, m.start(), m.end(), sent_index, normalise_word(word), lemmas(word))
        )
    lemma_set = frozenset(lemma for t in tokens for lemma in t.lemmas)
    return Doc(text, tuple(tokens), tuple(sentences), lemma_set)


def is_sentence_start(text: str, offset: int) -> bool:
    """True when only quotes, dashes or spaces lie between a sentence end and `offset`."""
    i = offset - 1
    while i >= 0 and text[i] in " \t«\"'(—–-•*":
        i -= 1
    return i < 0 or text[i] in ".!?…\n"
