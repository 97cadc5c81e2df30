"""Long word n-grams shared by two texts: how a prompt leak is found.

Words are the tokens of rewriter/analysis/text.py compared by a crude stem (the normalised word
cut to five letters), which makes «ограничения» and «ограничений» the same without asking
pymorphy3 about every word of every prompt at start-up; a checked text reuses the tokens its
Doc already has. Numbers are words too: «в течение 3 рабочих дней» is not «в течение 7 рабочих
дней».
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from rewriter.analysis.morph import normalise_word
from rewriter.analysis.text import TOKEN, Doc

STEM = 5
# An n-gram must hold this many words of three letters or more: «с 10:00 до 14:00» is too
# common to tell a leak.
MIN_WORDS = 4


def _stem(norm: str) -> str:
    return norm[:STEM]


def stems(text: str) -> list[str]:
    return [_stem(normalise_word(m.group())) for m in TOKEN.finditer(text)]


def _telling(gram: Sequence[str]) -> bool:
    return sum(len(w) >= 3 and w.isalpha() for w in gram) >= MIN_WORDS


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = stems(text)
    grams = (tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return {g for g in grams if _telling(g)}


@lru_cache(maxsize=256)
def doc_stems(doc: Doc) -> tuple[str, ...]:
    """The stems of a Doc's tokens: every index (one per n-gram length) reads the same ones."""
    return tuple([t.norm[:STEM] for t in doc.tokens])


class NgramIndex:
    """The n-grams of a set of texts; `shared` finds the stretches of another text made of them."""

    def __init__(self, texts: Iterable[str], n: int) -> None:
        self.n = n
        self.grams: set[tuple[str, ...]] = set()
        for text in texts:
            self.grams |= ngrams(text, n)
        self.vocabulary = frozenset(w for g in self.grams for w in g)
        self._run = b"\x01" * n  # n words in a row, each in the vocabulary

    def _has_run(self, doc: Doc) -> bool:
        """Some `n` words in a row are all in the vocabulary: one membership test per word (in
        C, through map) and one byte search, instead of a Python loop over the tokens."""
        return bytes(map(self.vocabulary.__contains__, doc_stems(doc))).find(self._run) >= 0

    def shared(self, doc: Doc) -> list[tuple[int, int]]:
        """Character spans of the text covered by n-grams of the index, merged where they
        touch. Only runs of `n` words that all occur in the index are looked up."""
        if not self._has_run(doc):
            # Exact: the loop below looks an n-gram up only at the end of such a run.
            return []
        toks = doc.tokens
        n, vocabulary, grams = self.n, self.vocabulary, self.grams
        spans: list[tuple[int, int]] = []
        run = 0
        for i, t in enumerate(toks):
            run = run + 1 if t.norm[:STEM] in vocabulary else 0
            if run < n:
                continue
            first = i - n + 1
            if tuple(x.norm[:STEM] for x in toks[first : i + 1]) in grams:
                start, end = toks[first].start, t.end
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                else:
                    spans.append((start, end))
        return spans
