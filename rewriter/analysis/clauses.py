"""Segments: the parts of a sentence that a dash, a colon, a semicolon or a contrasting
«, а» / «, но» set apart.

A word and the request it belongs to are usually in one segment: «Вам придёт код — введите его в
приложении, а нам пришлите скриншот» is three segments, and «пришлите» has nothing to do with the
code. Commas alone do not split: lists («номер карты, срок действия и код») stay together.

Clauses (`clause_ids`) are finer: every comma, bracket or line break between two words also
splits. The guard's kinds and the claim reader share this one splitter.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rewriter.analysis.text import Doc

_HARD_BREAK = frozenset("—–;:")
# Clauses (finer than segments): a comma, colon, semicolon, dash, bracket or line break.
_BREAK = re.compile(r"[,;:—–()\n]| - ")
# A contrast after a comma opens a new segment; «и» does not (it joins list items as often as
# clauses, and a request verb before «и» usually governs what follows).
_CONTRAST = frozenset({"а", "но", "однако", "зато"})
# Words that point back to something named in the previous segment: «— продиктуйте его мне».
ANAPHORA = frozenset(
    {
        "его",
        "ее",
        "их",
        "это",
        "эти",
        "этот",
        "эту",
        "него",
        "нее",
        "них",
        "ему",
        "ей",
        "им",
        "нему",
        "ней",
        "ним",
    }
)


@lru_cache(maxsize=2048)
def segments(doc: Doc) -> tuple[int, ...]:
    """The segment number of every token (numbering runs across the whole text)."""
    out: list[int] = []
    seg = 0
    toks = doc.tokens
    for i, t in enumerate(toks):
        if i:
            prev = toks[i - 1]
            gap = doc.text[prev.end : t.start]
            contrast = "," in gap and t.norm in _CONTRAST
            if prev.sent != t.sent or _HARD_BREAK & set(gap) or contrast:
                seg += 1
        out.append(seg)
    return tuple(out)


def boundary_after(doc: Doc, seg: int) -> str:
    """The punctuation that closes segment `seg` («:», «—», «,» …), or "" at a sentence end."""
    segs = segments(doc)
    toks = doc.tokens
    for i in range(1, len(toks)):
        if segs[i - 1] == seg and segs[i] != seg:
            if toks[i - 1].sent != toks[i].sent:
                return ""
            return doc.text[toks[i - 1].end : toks[i].start].strip()
    return ""


def has_anaphora(doc: Doc, seg: int) -> bool:
    segs = segments(doc)
    return any(t.norm in ANAPHORA for t, s in zip(doc.tokens, segs, strict=True) if s == seg)


@lru_cache(maxsize=256)
def clause_ids(doc: Doc) -> tuple[int, ...]:
    """A clause number per token: a new clause at each sentence and at each comma, colon,
    semicolon, dash or bracket between two words."""
    breaks = [m.start() for m in _BREAK.finditer(doc.text)]
    out: list[int] = []
    clause = 0
    k = 0  # the next break not yet passed
    prev = None
    for tok in doc.tokens:
        if prev is not None:
            crossed = False
            while k < len(breaks) and breaks[k] < tok.start:
                crossed = crossed or breaks[k] >= prev.end
                k += 1
            if crossed or prev.sent != tok.sent:
                clause += 1
        prev = tok
        out.append(clause)
    return tuple(out)
