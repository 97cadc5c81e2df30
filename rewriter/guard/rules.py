"""Rule files under guardrails/: one YAML file per rule id (Vale-style: the id is the file name).

A rule names a `kind` (the code that runs it, see rewriter/guard/checks.py), carries its Russian
message, its lexicons and parameters, an optional safe `fix`, and examples that must and must
not fire. The examples run as tests, so a support lead can tune a lexicon and see at once what
it changed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rewriter.errors import RuleFileError
from rewriter.paths import data_dir, read_yaml

KINDS = (
    "phrases",
    "pattern",
    "unsupported",
    "lost",
    "constraint",
    "register",
    "language",
    "self-reference",
    "reply-form",
)
SEVERITIES = ("block", "warn")


class Example(BaseModel):
    """A small case: a reply plus just enough thread/draft/facts to make the rule meaningful."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    reply: str
    customer: str | list[str] | None = None  # shorthand for customer messages
    thread: list[dict[str, Any]] | None = None
    draft: str | None = None
    facts: list[str] = Field(default_factory=list)
    name: str | None = None
    note: str | None = None

    def case_data(self) -> dict[str, Any]:
        thread = list(self.thread or [])
        if self.customer is not None:
            texts = [self.customer] if isinstance(self.customer, str) else self.customer
            thread += [{"author": "customer", "text": t, "name": self.name} for t in texts]
        return {"thread": thread, "draft": self.draft, "facts": self.facts, "reply": self.reply}


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    fire: list[Example | str] = Field(default_factory=list)
    pass_: list[Example | str] = Field(default_factory=list, alias="pass")

    @model_validator(mode="after")
    def _wrap(self) -> Examples:
        self.fire = [Example(reply=e) if isinstance(e, str) else e for e in self.fire]
        self.pass_ = [Example(reply=e) if isinstance(e, str) else e for e in self.pass_]
        return self


class Fix(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    action: Literal["lowercase", "replace", "drop_sentence", "strip"]
    keep_facts: bool = True  # never drop a sentence that carries a fact, unless told


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    severity: Literal["block", "warn"]
    kind: Literal[
        "phrases",
        "pattern",
        "unsupported",
        "lost",
        "constraint",
        "register",
        "language",
        "self-reference",
        "reply-form",
    ]
    description: str
    message: str
    params: dict[str, Any] = Field(default_factory=dict)
    fix: Fix | None = None
    examples: Examples = Field(default_factory=Examples)
    path: Path | None = None

    @property
    def one_line(self) -> str:
        return " ".join(self.description.split())


def _load(path: Path) -> Rule:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RuleFileError(f"{path.name}: a rule file must be a mapping")
    try:
        rule = Rule.model_validate({**data, "path": path})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise RuleFileError(f"{path.name}: {loc}: {err['msg']}") from None
    if rule.id != path.stem:
        raise RuleFileError(f"{path.name}: id {rule.id!r} must match the file name")
    return rule


@cache
def load_rules(folder: Path | None = None) -> tuple[Rule, ...]:
    """Every rule, in a stable order: block rules first, then by id."""
    folder = folder or data_dir("guardrails")
    rules = [_load(p) for p in sorted(folder.glob("*.yaml"))]
    if not rules:
        raise RuleFileError(f"no rule files in {folder}")
    return tuple(sorted(rules, key=lambda r: (r.severity != "block", r.id)))


def rule_by_id(rule_id: str) -> Rule:
    for rule in load_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


@cache
def rules_by_id() -> dict[str, Rule]:
    return {r.id: r for r in load_rules()}
