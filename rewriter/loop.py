"""The rewrite loop: ask the model, check the answer, re-ask with the violations, fall back.

Findings are values; this is the one place that decides what to do with them. A model answer
that breaks a block rule is never returned: after `max_attempts` the offline result is.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from rewriter.engine import violations_for
from rewriter.errors import UsageError
from rewriter.llm import (
    AsyncCompletionFn,
    Completion,
    CompletionFn,
    ModelConfig,
    clean_answer,
    litellm_acompletion,
    litellm_completion,
)
from rewriter.models import Case, RewriteResult, Usage, Violation
from rewriter.offline import offline_rewrite
from rewriter.prompting import PromptSettings, build_messages, reask_message

DEFAULT_MAX_ATTEMPTS = 3


def _require_draft(case: Case) -> Case:
    if case.draft is None or not case.draft.strip():
        raise UsageError("rewrite needs a non-empty draft")
    return case


@dataclass
class _Run:
    """State of one rewrite across attempts."""

    case: Case
    config: ModelConfig
    max_attempts: int
    settings: PromptSettings
    messages: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    def take(self, answer: Completion | str) -> tuple[str | None, list[Violation] | None]:
        """Judge one answer: (text, violations) when usable, (None, None) when not."""
        completion = answer if isinstance(answer, Completion) else Completion(text=str(answer))
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        if completion.cost_usd is not None:
            self.usage.cost_usd = (self.usage.cost_usd or 0.0) + completion.cost_usd
        if completion.finish_reason not in (None, "stop"):
            self.errors.append(
                f"attempt {self.attempts}: answer cut off "
                f"(finish_reason={completion.finish_reason})"
            )
            return None, None
        text = clean_answer(completion.text)
        if not text:
            self.errors.append(f"attempt {self.attempts}: empty answer")
            return None, None
        found = violations_for(self.case.model_copy(update={"reply": text}), text)
        blocks = [v for v in found if v.blocks]
        if not blocks:
            return text, found
        self.errors.append(
            f"attempt {self.attempts}: guardrails rejected the answer: "
            + ", ".join(sorted({v.rule for v in blocks}))
        )
        self.messages += [
            {"role": "assistant", "content": text},
            reask_message(blocks, self.settings),
        ]
        return None, None

    def failed(self, exc: Exception) -> None:
        self.errors.append(
            f"attempt {self.attempts}: model call failed: {type(exc).__name__}: {_one_line(exc)}"
        )

    def success(self, text: str, violations: list[Violation]) -> RewriteResult:
        return RewriteResult(
            id=self.case.id,
            text=text,
            source="llm",
            model=self.config.model,
            attempts=self.attempts,
            violations=violations,
            errors=[],
            usage=self.usage,
        )

    def fallback(self) -> RewriteResult:
        text, violations = offline_rewrite(self.case)
        return RewriteResult(
            id=self.case.id,
            text=text,
            source="offline",
            model=None,
            attempts=self.attempts,
            violations=violations,
            errors=self.errors or ["the model gave no usable answer"],
            usage=self.usage,
        )


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def _offline_result(case: Case) -> RewriteResult:
    text, violations = offline_rewrite(case)
    return RewriteResult(
        id=case.id, text=text, source="offline", model=None, attempts=0, violations=violations
    )


Step = Generator[list[dict[str, str]], "Completion | str | Exception", RewriteResult]


def _attempts(case: Case, config: ModelConfig, max_attempts: int, settings: PromptSettings) -> Step:
    """The loop without I/O: yields the messages to send, receives the answer (or the exception
    the call raised), returns the result. `rewrite` and `arewrite` only drive it."""
    run = _Run(case, config, max_attempts, settings, build_messages(case, settings))
    while run.attempts < max_attempts:
        run.attempts += 1
        answer = yield list(run.messages)
        if isinstance(answer, Exception):  # transport faults: the SDK already retried; fall back
            run.failed(answer)
            break
        text, violations = run.take(answer)
        if text is not None and violations is not None:
            return run.success(text, violations)
    return run.fallback()


def _prepare(
    case: Case,
    model: str | None,
    api_base: str | None,
    timeout: float | None,
    max_attempts: int,
    injected: bool,
) -> ModelConfig | None:
    _require_draft(case)
    if max_attempts < 1:
        raise UsageError("max_attempts must be at least 1")
    config = ModelConfig.resolve(model, api_base, timeout)
    if config is None and injected:
        config = ModelConfig(model="injected")
    return config


def rewrite(
    case: Case,
    model: str | None = None,
    *,
    api_base: str | None = None,
    timeout: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    completion: CompletionFn | None = None,
    prompts: Path | str | None = None,
    guidelines: Path | str | None = None,
) -> RewriteResult:
    """Rewrite `case.draft`. No model configured (argument or H2H_MODEL) = the offline engine.

    `prompts` is a folder of template overrides, `guidelines` a Markdown file of the team's own
    rules (defaults: H2H_PROMPTS, H2H_GUIDELINES).
    """
    config = _prepare(case, model, api_base, timeout, max_attempts, completion is not None)
    if config is None:
        return _offline_result(case)
    call = completion or litellm_completion
    steps = _attempts(case, config, max_attempts, PromptSettings.resolve(prompts, guidelines))
    messages = next(steps)
    while True:
        answer: Completion | str | Exception
        try:
            answer = call(messages, config)
        except Exception as exc:
            answer = exc
        try:
            messages = steps.send(answer)
        except StopIteration as done:
            return done.value


async def arewrite(
    case: Case,
    model: str | None = None,
    *,
    api_base: str | None = None,
    timeout: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    completion: AsyncCompletionFn | CompletionFn | None = None,
    prompts: Path | str | None = None,
    guidelines: Path | str | None = None,
) -> RewriteResult:
    """`rewrite` for callers with an event loop. A sync completion function runs in a thread."""
    config = _prepare(case, model, api_base, timeout, max_attempts, completion is not None)
    if config is None:
        return await asyncio.to_thread(_offline_result, case)
    call = completion or litellm_acompletion
    steps = _attempts(case, config, max_attempts, PromptSettings.resolve(prompts, guidelines))
    messages = next(steps)
    while True:
        answer: Completion | str | Exception
        try:
            if inspect.iscoroutinefunction(call):
                answer = await call(messages, config)
            else:
                answer = await asyncio.to_thread(call, messages, config)
        except Exception as exc:
            answer = exc
        try:
            messages = steps.send(answer)
        except StopIteration as done:
            return done.value
