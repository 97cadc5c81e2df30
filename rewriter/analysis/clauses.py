"""Segments: the parts of a sentence that a dash, a colon, a semicolon or a contrasting
«, а» / «, но» set apart.

A word and the request it belongs to are usually in one segment: «Вам придёт код — введите его в
приложении, а нам пришлите скриншот» is three segments, and «пришлите» has nothing to do with the
code. Commas alone do not split: lists («номер карты, срок действия и код») stay together.
"""

from __future__ import annotations

from functools import lru_cache

from rewriter.analysis.text import Doc

_HARD_BREAK = frozenset("—–;:")
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
