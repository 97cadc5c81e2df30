"""Personal data never leaves the process: masked before a model call, restored in the answer.

Cards (Luhn-checked), phones (any Russian format), e-mails, passport series and number, SNILS,
INN and bank account numbers become stable placeholders (⟨PHONE_1⟩) — the same value gets the
same placeholder in every message of the case. A placeholder the model drops shows up as a
lost fact once the answer is restored; one it invents stays in the text as an unknown id and
shows up as an invented fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rewriter.analysis.facts import CARD, EMAIL, PHONE, luhn_ok
from rewriter.models import Case, Message, Violation

_PASSPORT = re.compile(
    r"(?i)(?:паспорт\w*|серия|серии)[^\d\n]{0,25}(\d{2}[ \u00a0]?\d{2})[^\d\n]{0,12}(\d{6})(?!\d)"
)
_SNILS = re.compile(r"(?<!\d)\d{3}[- ]?\d{3}[- ]?\d{3}[- ]\d{2}(?!\d)")
_ACCOUNT = re.compile(r"(?<!\d)(?:\d[ \u00a0]?){19}\d(?!\d)")
_INN = re.compile(r"(?<!\d)(?:\d{12}|\d{10})(?!\d)")
PLACEHOLDER = re.compile(r"[⟨<\[{]?\b(CARD|PHONE|EMAIL|PASSPORT|SNILS|INN|ACCOUNT)_(\d+)\b[⟩>\]}]?")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _snils_ok(digits: str) -> bool:
    body, check = digits[:9], int(digits[9:])
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    expected = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    return expected == check


def _inn_ok(digits: str) -> bool:
    def check(weights: list[int], body: str) -> int:
        return sum(w * int(d) for w, d in zip(weights, body, strict=False)) % 11 % 10

    n = [int(d) for d in digits]
    if len(digits) == 10:
        return check([2, 4, 10, 3, 5, 9, 4, 6, 8], digits) == n[9]
    return (
        check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8], digits) == n[10]
        and check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8], digits) == n[11]
    )


@dataclass
class Masker:
    """One per case: a stable placeholder per value across every text of the case."""

    originals: dict[str, str] = field(default_factory=dict)  # placeholder -> original text
    _by_value: dict[str, str] = field(default_factory=dict)  # kind:normalised -> placeholder
    _counts: dict[str, int] = field(default_factory=dict)

    def _placeholder(self, kind: str, value: str, original: str) -> str:
        key = f"{kind}:{value}"
        if key not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            token = f"⟨{kind}_{self._counts[kind]}⟩"
            self._by_value[key] = token
            self.originals[token] = original
        return self._by_value[key]

    def mask(self, text: str) -> str:
        spans: list[tuple[int, int, str]] = []

        def take(start: int, end: int, kind: str, value: str) -> None:
            if any(s < end and start < e for s, e, _ in spans):
                return
            spans.append((start, end, self._placeholder(kind, value, text[start:end])))

        for m in EMAIL.finditer(text):
            take(m.start(), m.end(), "EMAIL", m.group().lower())
        for m in _PASSPORT.finditer(text):
            take(m.start(1), m.end(2), "PASSPORT", _digits(m.group(1) + m.group(2)))
        for m in CARD.finditer(text):
            d = _digits(m.group())
            if 13 <= len(d) <= 19 and luhn_ok(d):
                take(m.start(), m.end(), "CARD", d)
        for m in _ACCOUNT.finditer(text):
            take(m.start(), m.end(), "ACCOUNT", _digits(m.group()))
        for m in _SNILS.finditer(text):
            d = _digits(m.group())
            if _snils_ok(d):
                take(m.start(), m.end(), "SNILS", d)
        for m in PHONE.finditer(text):
            take(m.start(), m.end(), "PHONE", _digits(m.group())[-10:])
        for m in _INN.finditer(text):
            if _inn_ok(m.group()):
                take(m.start(), m.end(), "INN", m.group())
        out, pos = [], 0
        for start, end, token in sorted(spans):
            out += [text[pos:start], token]
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def unmask(self, text: str) -> str:
        """Restore known placeholders (also when the model wrote <PHONE_1> or [PHONE_1])."""

        def restore(m: re.Match[str]) -> str:
            token = f"⟨{m.group(1)}_{m.group(2)}⟩"
            return self.originals.get(token, m.group(0))

        return PLACEHOLDER.sub(restore, text)

    def mask_case(self, case: Case) -> Case:
        return case.model_copy(
            update={
                "thread": [
                    Message(author=m.author, text=self.mask(m.text), name=m.name)
                    for m in case.thread
                ],
                "draft": self.mask(case.draft) if case.draft is not None else None,
                "facts": [self.mask(f) for f in case.facts],
                "reply": self.mask(case.reply) if case.reply is not None else None,
            }
        )

    def mask_violation(self, v: Violation) -> Violation:
        return v.model_copy(
            update={
                "text": self.mask(v.text),
                "message": self.mask(v.message),
                "evidence": self.mask(v.evidence) if v.evidence else None,
            }
        )
