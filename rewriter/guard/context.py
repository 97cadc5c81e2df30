"""What a check kind sees — the case, the checked text and their lazy analyses — and the helpers
every kind shares to compile a rule's data once and to turn a match into a Violation.

Kept apart from the kinds themselves so a new kind (a module of its own) can import it without
importing the registry that lists every kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rewriter.analysis.lexicon import Lexicon
from rewriter.analysis.situation import Situation, analyse_thread
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.vocab import lexicon_from
from rewriter.errors import RuleFileError
from rewriter.guard.rules import Rule
from rewriter.models import Case, Violation


@dataclass
class Context:
    """Everything a rule may look at, computed lazily and at most once per check."""

    case: Case
    text: str  # the text being checked: the reply, or the draft when no reply is given

    @cached_property
    def doc(self) -> Doc:
        return analyse(self.text)

    @cached_property
    def situation(self) -> Situation:
        return analyse_thread(self.case.customer_texts, self.case.customer_name)

    @property
    def compares_to_draft(self) -> bool:
        """invented-* and lost-fact apply only when a draft is rewritten into a different reply."""
        c = self.case
        return c.draft is not None and c.reply is not None and c.reply != c.draft

    def source_texts(self, which: list[str]) -> Iterator[str]:
        """The texts a reply may draw on, in this order: draft, facts, agent, customer. Lazy, so
        a claim the draft supports never makes the thread be read."""
        c = self.case
        if "draft" in which and c.draft:
            yield c.draft
        if "facts" in which:
            yield from c.facts
        if "agent" in which:
            yield from c.agent_texts
        if "customer" in which:
            # A message that tries to instruct the model is data, not a source of facts.
            skip = self.situation.instructing
            yield from (t for i, t in enumerate(c.customer_texts) if i not in skip)


Span = tuple[int, int]
# The kind registry, filled by rewriter/guard/checks.py when it loads: a kind that needs another
# rule's findings (what that rule would remove from the draft) runs it through here, without
# importing the registry that imports it.
KIND_REGISTRY: dict[str, Callable[[Rule, Context], list[Violation]]] = {}


def run_other(rule: Rule, ctx: Context) -> list[Violation]:
    return KIND_REGISTRY[rule.kind](rule, ctx)


_COMPILED: dict[tuple[int, str], Any] = {}


def compiled(rule: Rule, key: str, build: Callable[[], Any]) -> Any:
    """Compile a rule's lexicon or pattern once per process. A phrase the matcher cannot read
    («=вы|ты» mixes kinds) is the rule file's error, named as such — not a traceback."""
    k = (id(rule), key)
    if k not in _COMPILED:
        try:
            _COMPILED[k] = build()
        except ValueError as exc:
            where = rule.path.name if rule.path else rule.id
            raise RuleFileError(f"{where}: {key}: {exc}") from None
    return _COMPILED[k]


def lexicon_of(rule: Rule, key: str, default_gap: int = 1) -> Lexicon:
    found = _COMPILED.get((id(rule), key))  # the hot path: no closure to build
    if found is None:
        found = compiled(
            rule, key, lambda: lexicon_from(rule.params.get(key), default_gap=default_gap)
        )
    return found


class MessageFields(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def violation(
    rule: Rule, ctx: Context, start: int | None, end: int | None, **fields: Any
) -> Violation:
    span = (start, end) if start is not None and end is not None else None
    text = ctx.text[start:end] if span else ""
    message = rule.message.format_map(MessageFields(text=text, **fields)).strip()
    return Violation(
        rule=rule.id,
        severity=rule.severity,
        message=message,
        span=span,
        text=text,
        evidence=fields.get("evidence"),
    )
