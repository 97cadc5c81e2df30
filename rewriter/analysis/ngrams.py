"""Long word n-grams shared by two texts: how a prompt leak is found.

Words are compared by a crude stem (the lower-cased word cut to five letters), which makes
«переписать черновик» and «переписывай черновики» different but «ограничения» and
«ограничений» the same, without asking pymorphy3 about every word of every prompt at start-up.
Numbers are words too: «в течение 3 рабочих дней» is not «в течение 7 рабочих дней».
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+(?:[:.,]\d+)*")
# An n-gram must hold this many words of three letters or more: «с 10:00 до 14:00» is too
# common to tell a leak.
MIN_WORDS = 4
STEM = 5


def stems(text: str) -> list[tuple[str, int, int]]:
    """(stem, start, end) for every word of `text`."""
    return [
        (m.group().lower().replace("ё", "е")[:STEM], m.start(), m.end())
        for m in _WORD.finditer(text)
    ]


def _telling(gram: tuple[str, ...]) -> bool:
    return sum(len(w) >= 3 and w.isalpha() for w in gram) >= MIN_WORDS


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = [s for s, _, _ in stems(text)]
    grams = (tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return {g for g in grams if _telling(g)}


class NgramIndex:
    """The n-grams of a set of texts; `shared` finds the stretches of another text made of them."""

    def __init__(self, texts: Iterable[str], n: int) -> None:
        self.n = n
        self.grams: set[tuple[str, ...]] = set()
        for text in texts:
            self.grams |= ngrams(text, n)

    def shared(self, text: str) -> list[tuple[int, int]]:
        """Character spans of `text` covered by n-grams of the index, merged where they touch."""
        words = stems(text)
        n = self.n
        spans: list[tuple[int, int]] = []
        for i in range(len(words) - n + 1):
            if tuple(w for w, _, _ in words[i : i + n]) in self.grams:
                start, end = words[i][1], words[i + n - 1][2]
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                else:
                    spans.append((start, end))
        return spans
