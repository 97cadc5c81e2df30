"""The rewrite loop: ask the model, check the answer, re-ask with the violations, fall back.

Findings are values; this is the one place that decides what to do with them. A model answer
that breaks a block rule is never returned: after `max_attempts` answers the offline result is.

Faults: h2h owns the only retry layer. A retryable fault (timeout, connection, 429, 5xx) is
retried up to `retries` times per call with exponential backoff, honouring `Retry-After`; a wait
longer than the time left falls back at once. Misconfiguration (401/403/404), a refusal or a
context overflow is not retried: the next fallback model is tried, then the offline engine.
The whole rewrite has a deadline of `timeout × max_attempts` seconds.

Personal data is masked before anything leaves the process (rewriter/model/pii.py): the model sees
placeholders, the guardrails judge the restored answer against the real case, and re-asks
quote the violations masked.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewriter.errors import UsageError
from rewriter.guard.engine import violations_for
from rewriter.guard.metatalk import RULE_ID as META_TALK
from rewriter.guard.metatalk import unwrap
from rewriter.guard.offline import offline_rewrite
from rewriter.model.llm import (
    AsyncCompletionFn,
    Completion,
    CompletionFn,
    Fault,
    ModelConfig,
    classify,
    clean_answer,
    default_acompletion,
    default_completion,
    with_timeout,
)
from rewriter.model.pii import Masker
from rewriter.model.prompting import PromptSettings, build_messages, reask_message
from rewriter.models import Case, RewriteResult, Usage, Violation

DEFAULT_MAX_ATTEMPTS = 3
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def _require_draft(case: Case) -> Case:
    if case.draft is None or not case.draft.strip():
        raise UsageError("rewrite needs a non-empty draft")
    return case


@dataclass
class _Run:
    """State of one rewrite across calls and attempts."""

    case: Case
    config: ModelConfig
    max_attempts: int
    settings: PromptSettings
    masker: Masker | None
    messages: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0  # answers judged
    calls: int = 0  # requests made, retries included
    errors: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    reasks: Counter[str] = field(default_factory=Counter)  # rule id -> re-asks it caused
    history: list[dict[str, Any]] = field(default_factory=list)
    model_index: int = 0
    started: float = field(default_factory=time.monotonic)
    use_cache: bool = False
    cache_hits: int = 0

    @property
    def model(self) -> str:
        return ([self.config.model, *self.config.fallbacks])[self.model_index]

    @property
    def deadline(self) -> float:
        return self.started + self.config.timeout * self.max_attempts

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def call_config(self) -> ModelConfig:
        cfg = ModelConfig(
            model=self.model,
            api_base=self.config.api_base,
            api_key=self.config.api_key,
            retries=self.config.retries,
            fallbacks=(),
        )
        return with_timeout(cfg, max(0.05, min(self.config.timeout, self.remaining())))

    def take(self, answer: Completion | str) -> tuple[str | None, list[Violation] | None]:
        """Judge one answer: (text, violations) when it may be sent, (None, None) when not."""
        completion = answer if isinstance(answer, Completion) else Completion(text=str(answer))
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        if completion.cost_usd is not None:
            self.usage.cost_usd = (self.usage.cost_usd or 0.0) + completion.cost_usd
        entry: dict[str, Any] = {"attempt": self.attempts, "model": self.model}
        self.history.append(entry)
        if completion.finish_reason not in (None, "stop"):
            reason = completion.finish_reason
            entry["rejected"] = f"finish_reason={reason}"
            self.errors.append(f"attempt {self.attempts}: answer not finished ({reason})")
            return None, None
        raw = clean_answer(completion.text)
        text = self.masker.unmask(raw) if self.masker else raw
        if not text:
            entry["rejected"] = "empty"
            self.errors.append(f"attempt {self.attempts}: empty answer")
            return None, None
        found = violations_for(self.case.model_copy(update={"reply": text}), text)
        blocks = [v for v in found if v.blocks]
        entry["violations"] = sorted({v.rule for v in blocks})
        if not blocks:
            return text, found
        salvaged = salvage(self.case, text, blocks)
        if salvaged is not None:
            entry["salvaged"] = entry.pop("violations")
            return salvaged
        self.reasks.update({v.rule for v in blocks})
        self.errors.append(
            f"attempt {self.attempts}: guardrails rejected the answer: "
            + ", ".join(sorted({v.rule for v in blocks}))
        )
        quoted = [self.masker.mask_violation(v) for v in blocks] if self.masker else blocks
        self.messages += [
            {"role": "assistant", "content": self.masker.mask(text) if self.masker else text},
            reask_message(quoted, self.settings),
        ]
        return None, None

    def fault(self, fault: Fault) -> None:
        self.errors.append(f"call {self.calls} ({self.model}): {fault.kind}: {fault.detail}")
        self.history.append({"call": self.calls, "model": self.model, "fault": fault.kind})

    def next_model(self) -> bool:
        if self.model_index < len(self.config.fallbacks):
            self.model_index += 1
            return True
        return False

    def result(
        self, text: str | None = None, violations: list[Violation] | None = None
    ) -> RewriteResult:
        if text is not None and violations is not None:
            return RewriteResult(
                id=self.case.id,
                text=text,
                source="llm",
                model=self.model,
                attempts=self.calls,
                violations=violations,
                errors=[],
                usage=self.usage,
                reasks=dict(self.reasks),
            )
        fallback_text, fallback_violations = offline_rewrite(self.case)
        return RewriteResult(
            id=self.case.id,
            text=fallback_text,
            source="offline",
            model=None,
            attempts=self.calls,
            violations=fallback_violations,
            errors=self.errors or ["the model gave no usable answer"],
            usage=self.usage,
            reasks=dict(self.reasks),
        )


def salvage(case: Case, text: str, blocks: list[Violation]) -> tuple[str, list[Violation]] | None:
    """The one block that is fixed rather than re-asked: a meta-talk wrapper (a preface, labels,
    notes after the reply, a code fence, a `<think>` block) around a reply. The reply inside is
    checked from scratch against every rule; any other violation, or a leak of the
    instructions, is re-asked as usual."""
    if not blocks or any(v.rule != META_TALK for v in blocks):
        return None
    inner = unwrap(text, case)
    if inner is None:
        return None
    found = violations_for(case.model_copy(update={"reply": inner}), inner)
    if any(v.blocks for v in found):
        return None
    return inner, found


def write_log(
    path: Path | str | None, run: _Run | None, result: RewriteResult, seconds: float
) -> None:
    """One JSON line per rewrite: what a team needs to audit the tool in production. Texts are
    not logged at all, so no personal data can be; rule ids, counts and timings are."""
    import json
    import os

    target = path or os.environ.get("H2H_LOG")
    if not target:
        return
    record = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "id": result.id,
        "model": run.config.model if run else None,
        "source": result.source,
        "answered_by": result.model,
        "calls": result.attempts,
        "attempts": run.history if run else [],
        "reasks": result.reasks,
        "violations": sorted({v.rule for v in result.violations}),
        "latency_s": round(seconds, 3),
        "usage": result.usage.model_dump() if result.usage else None,
        "errors": [run.masker.mask(e) if run and run.masker else e for e in result.errors],
        "masked": bool(run and run.masker),
        "cache_hits": run.cache_hits if run else 0,
    }
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the log: {exc.strerror}") from None


def _offline_result(case: Case) -> RewriteResult:
    text, violations = offline_rewrite(case)
    return RewriteResult(
        id=case.id, text=text, source="offline", model=None, attempts=0, violations=violations
    )


# What the driver sends back for one judged attempt: an answer, or the fault that ended it
# (after retries) and whether another model may be tried.
Outcome = Completion | str | Fault
Step = Generator[list[dict[str, str]], Outcome, RewriteResult]


def _attempts(run: _Run) -> Step:
    """The loop without I/O: yields the messages to send, receives what came of them."""
    while run.attempts < run.max_attempts:
        run.attempts += 1
        outcome = yield list(run.messages)
        if isinstance(outcome, Fault):
            if outcome.kind == "retry" or not run.next_model():
                break  # transport exhausted, or misconfigured with no model left: fall back
            run.attempts -= 1  # a misconfigured model did not answer: the next one gets the turn
            continue
        text, violations = run.take(outcome)
        if text is not None and violations is not None:
            return run.result(text, violations)
    return run.result()


def _backoff(retry: int, fault: Fault) -> float:
    if fault.retry_after is not None:
        return fault.retry_after
    return min(BACKOFF_CAP, BACKOFF_BASE * 2**retry)


def _prepare(
    case: Case,
    model: str | None,
    api_base: str | None,
    timeout: float | None,
    max_attempts: int,
    injected: bool,
    fallbacks: tuple[str, ...] | list[str],
    retries: int | None,
) -> ModelConfig | None:
    _require_draft(case)
    if max_attempts < 1:
        raise UsageError("max_attempts must be at least 1")
    config = ModelConfig.resolve(model, api_base, timeout, fallbacks, retries)
    if config is None and injected:
        config = ModelConfig(model="injected")
    elif config is not None and not injected:
        config.validate()  # a caller's own completion function is its own transport
    return config


def _start(
    case: Case,
    config: ModelConfig,
    max_attempts: int,
    prompts: Path | str | None,
    guidelines: Path | str | None,
    mask: bool,
    use_cache: bool = False,
) -> tuple[_Run, Step, list[dict[str, str]]]:
    settings = PromptSettings.resolve(prompts, guidelines)
    masker = Masker() if mask else None
    prompt_case = masker.mask_case(case) if masker else case
    run = _Run(case, config, max_attempts, settings, masker, build_messages(prompt_case, settings))
    run.use_cache = use_cache
    steps = _attempts(run)
    return run, steps, next(steps)


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
    fallback_models: tuple[str, ...] | list[str] = (),
    retries: int | None = None,
    mask: bool = True,
    log: Path | str | None = None,
    cache: bool = False,
) -> RewriteResult:
    """Rewrite `case.draft`. No model configured (argument or H2H_MODEL) = the offline engine.

    `prompts` is a folder of template overrides, `guidelines` a Markdown file of the team's own
    rules (defaults: H2H_PROMPTS, H2H_GUIDELINES). `mask=False` sends personal data as is.
    `log` (or H2H_LOG) appends one JSON line per rewrite. `cache=True` reuses answers stored
    on disk for the same model and messages (rewriter/model/cache.py).
    """
    t0 = time.monotonic()
    config = _prepare(
        case,
        model,
        api_base,
        timeout,
        max_attempts,
        completion is not None,
        fallback_models,
        retries,
    )
    if config is None:
        result = _offline_result(case)
        write_log(log, None, result, time.monotonic() - t0)
        return result
    call = completion or default_completion
    run, steps, messages = _start(case, config, max_attempts, prompts, guidelines, mask, cache)
    while True:
        outcome: Outcome = _call_sync(run, call, messages)
        try:
            messages = steps.send(outcome)
        except StopIteration as done:
            write_log(log, run, done.value, time.monotonic() - t0)
            return done.value


def _cached(run: _Run, messages: list[dict[str, str]]) -> Completion | None:
    if not run.use_cache:
        return None
    from rewriter.model import cache

    hit = cache.get(messages, run.call_config())
    if hit is not None:
        run.cache_hits += 1
    return hit


def _store(run: _Run, messages: list[dict[str, str]], answer: Completion | str) -> None:
    if run.use_cache and isinstance(answer, Completion):
        from rewriter.model import cache

        cache.put(messages, run.call_config(), answer)


def _before_call(run: _Run) -> Fault | None:
    """A fault when the deadline has passed; otherwise count the call about to be made."""
    if run.remaining() <= 0:
        fault = Fault("retry", "deadline reached")
        run.fault(fault)
        return fault
    run.calls += 1
    return None


def _after_failure(run: _Run, retry: int, exc: Exception) -> Fault | float:
    """The retry policy, shared by both drivers: give up with the fault, or wait this long."""
    fault = classify(exc)
    run.fault(fault)
    if fault.kind != "retry" or retry == run.config.retries:
        return fault
    wait = _backoff(retry, fault)
    if wait >= run.remaining():
        run.errors.append(f"retry in {wait:.1f} s would pass the deadline: falling back now")
        return fault
    return wait


def _call_sync(run: _Run, call: CompletionFn, messages: list[dict[str, str]]) -> Outcome:
    hit = _cached(run, messages)
    if hit is not None:
        return hit
    for retry in range(run.config.retries + 1):
        stop = _before_call(run)
        if stop:
            return stop
        try:
            answer = call(messages, run.call_config())
        except Exception as exc:
            decision = _after_failure(run, retry, exc)
            if isinstance(decision, Fault):
                return decision
            time.sleep(decision)
            continue
        _store(run, messages, answer)
        return answer
    raise AssertionError("unreachable: the last retry returns a fault")


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
    fallback_models: tuple[str, ...] | list[str] = (),
    retries: int | None = None,
    mask: bool = True,
    log: Path | str | None = None,
    cache: bool = False,
) -> RewriteResult:
    """`rewrite` for callers with an event loop. A sync completion function runs in a thread."""
    t0 = time.monotonic()
    config = _prepare(
        case,
        model,
        api_base,
        timeout,
        max_attempts,
        completion is not None,
        fallback_models,
        retries,
    )
    if config is None:
        result = await asyncio.to_thread(_offline_result, case)
        write_log(log, None, result, time.monotonic() - t0)
        return result
    call = completion or default_acompletion
    run, steps, messages = _start(case, config, max_attempts, prompts, guidelines, mask, cache)
    while True:
        outcome: Outcome = await _call_async(run, call, messages)
        try:
            messages = steps.send(outcome)
        except StopIteration as done:
            write_log(log, run, done.value, time.monotonic() - t0)
            return done.value


async def _call_async(run: _Run, call: Any, messages: list[dict[str, str]]) -> Outcome:
    hit = _cached(run, messages)
    if hit is not None:
        return hit
    for retry in range(run.config.retries + 1):
        stop = _before_call(run)
        if stop:
            return stop
        try:
            if inspect.iscoroutinefunction(call):
                answer = await call(messages, run.call_config())
            else:
                answer = await asyncio.to_thread(call, messages, run.call_config())
        except Exception as exc:
            decision = _after_failure(run, retry, exc)
            if isinstance(decision, Fault):
                return decision
            await asyncio.sleep(decision)
            continue
        _store(run, messages, answer)
        return answer
    raise AssertionError("unreachable: the last retry returns a fault")
