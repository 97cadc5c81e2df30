"""The data contract of SPEC §2–§4, as pydantic models.

Schemas are built on first use (`defer_build`): `h2h check` never pays for RewriteResult.

Field names and JSON shapes are fixed by the SPEC; helpdesk plugins and eval files rely on them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rewriter.errors import UsageError

MAX_MESSAGES = 200
MAX_TEXT = 20_000


def _limit(text: str, what: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} is {len(text)} characters, over the limit of {MAX_TEXT}")
    return text


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    author: Literal["customer", "agent"]
    text: str
    name: str | None = None

    @field_validator("text")
    @classmethod
    def _text_limit(cls, v: str) -> str:
        return _limit(v, "a message")


class Case(BaseModel):
    """One support situation: the thread, the agent's draft, what the agent knows."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    id: str | None = None
    thread: list[Message] = Field(default_factory=list)
    draft: str | None = None
    facts: list[str] = Field(default_factory=list)
    reply: str | None = None

    @field_validator("thread")
    @classmethod
    def _thread_limit(cls, v: list[Message]) -> list[Message]:
        if len(v) > MAX_MESSAGES:
            raise ValueError(f"the thread has {len(v)} messages, over the limit of {MAX_MESSAGES}")
        return v

    @field_validator("draft", "reply")
    @classmethod
    def _draft_limit(cls, v: str | None) -> str | None:
        return None if v is None else _limit(v, "a draft or reply")

    @field_validator("facts")
    @classmethod
    def _facts_limit(cls, v: list[str]) -> list[str]:
        for fact in v:
            _limit(fact, "a fact")
        return v

    @model_validator(mode="after")
    def _something_to_read(self) -> Case:
        if self.draft is None and self.reply is None and not self.thread:
            raise ValueError("the case has no draft, no reply and no thread")
        return self

    @property
    def customer_texts(self) -> tuple[str, ...]:
        return tuple(m.text for m in self.thread if m.author == "customer")

    @property
    def agent_texts(self) -> tuple[str, ...]:
        return tuple(m.text for m in self.thread if m.author == "agent")

    @property
    def customer_name(self) -> str | None:
        for m in reversed(self.thread):
            if m.author == "customer" and m.name:
                return m.name
        return None

    @property
    def last_customer_text(self) -> str | None:
        texts = self.customer_texts
        return texts[-1] if texts else None


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    rule: str
    severity: Literal["block", "warn"]
    message: str
    span: tuple[int, int] | None = None
    text: str = ""
    evidence: str | None = None  # the thread sentence or source that made this a violation

    @property
    def blocks(self) -> bool:
        return self.severity == "block"


class CheckResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str | None = None
    ok: bool
    violations: list[Violation] = Field(default_factory=list)


class Usage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None


class RewriteResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str | None = None
    text: str
    source: Literal["llm", "offline"]
    model: str | None = None
    attempts: int = 0
    violations: list[Violation] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    usage: Usage | None = None
    reasks: dict[str, int] = Field(default_factory=dict)  # rule id -> re-asks it caused

    @property
    def ok(self) -> bool:
        return not any(v.blocks for v in self.violations)


def parse_case(data: Any, *, where: str = "case") -> Case:
    """Validate raw data into a Case; any problem becomes one UsageError line."""
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "case"
        msg = first["msg"].removeprefix("Value error, ")
        raise UsageError(f"{where}: {loc}: {msg}") from None
