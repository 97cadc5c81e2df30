"""The model call, behind a seam: the rewrite loop takes any completion function.

Tests pass a fake; the real path uses litellm, imported lazily so `h2h check` and the offline
engine never pay its ~3 s import or touch the network.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import regex

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Completion:
    """What a model answered: the text, why it stopped, what it cost."""

    text: str
    finish_reason: str | None = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None


@dataclass(frozen=True)
class ModelConfig:
    model: str
    api_base: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    api_key: str | None = None

    @staticmethod
    def resolve(
        model: str | None = None, api_base: str | None = None, timeout: float | None = None
    ) -> ModelConfig | None:
        """CLI/API arguments first, then H2H_MODEL, H2H_API_BASE, H2H_TIMEOUT; None = offline."""
        from rewriter.errors import UsageError

        model = model or os.environ.get("H2H_MODEL") or None
        if not model:
            return None
        env_timeout = os.environ.get("H2H_TIMEOUT")
        if timeout is None and env_timeout:
            try:
                timeout = float(env_timeout)
            except ValueError:
                raise UsageError(
                    f"H2H_TIMEOUT must be a number of seconds, got {env_timeout!r}"
                ) from None
        if timeout is not None and timeout <= 0:
            raise UsageError("the timeout must be a positive number of seconds")
        return ModelConfig(
            model=model,
            api_base=api_base or os.environ.get("H2H_API_BASE") or None,
            timeout=timeout or DEFAULT_TIMEOUT,
            api_key=os.environ.get("H2H_API_KEY") or None,
        )


class CompletionFn(Protocol):
    def __call__(self, messages: list[dict[str, str]], config: ModelConfig) -> Completion | str: ...


AsyncCompletionFn = Callable[[list[dict[str, str]], ModelConfig], Awaitable[Completion | str]]


def _litellm() -> Any:
    # No network look-up of the price map and no .env loading at import (see NOTES).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_MODE", "PRODUCTION")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def _kwargs(messages: list[dict[str, str]], config: ModelConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "timeout": config.timeout,
        "temperature": 0.3,
        # One layer owns retries: the SDK's (bounded, with backoff); litellm never reruns a call.
        "num_retries": 0,
        "max_retries": 2,
    }
    if config.api_base:
        kwargs["api_base"] = config.api_base
    key = config.api_key
    if (
        key is None
        and config.api_base
        and config.model.startswith("openai/")
        and not os.environ.get("OPENAI_API_KEY")
    ):
        key = "sk-no-key-needed"  # local OpenAI-compatible servers (vLLM, Ollama) want *a* key
    if key:
        kwargs["api_key"] = key
    return kwargs


def _from_response(litellm: Any, response: Any) -> Completion:
    choice = response.choices[0]
    usage = getattr(response, "usage", None)
    cost: float | None
    try:
        cost = float(litellm.completion_cost(completion_response=response))
    except Exception:  # unknown model price: no cost rather than a wrong one
        cost = None
    return Completion(
        text=choice.message.content or "",
        finish_reason=choice.finish_reason,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cost_usd=cost,
    )


def litellm_completion(messages: list[dict[str, str]], config: ModelConfig) -> Completion:
    litellm = _litellm()
    return _from_response(litellm, litellm.completion(**_kwargs(messages, config)))


async def litellm_acompletion(messages: list[dict[str, str]], config: ModelConfig) -> Completion:
    litellm = _litellm()
    return _from_response(litellm, await litellm.acompletion(**_kwargs(messages, config)))


_FENCE = regex.compile(r"^```[\w-]*\s*\n(.*?)\n?```$", regex.S)
_LABEL = regex.compile(
    r"^(?:ответ|переписанный ответ|итоговый ответ|вариант|rewritten reply|reply)\s*:\s*", regex.I
)
_QUOTES = (("«", "»"), ('"', '"'), ("“", "”"), ("'", "'"))


def clean_answer(text: str) -> str:
    """The reply alone: strip code fences, a leading label and quotes wrapping the whole text."""
    t = text.strip()
    m = _FENCE.match(t)
    if m:
        t = m.group(1).strip()
    t = _LABEL.sub("", t).strip()
    for left, right in _QUOTES:
        inner = t[len(left) : -len(right)]
        if (
            t.startswith(left)
            and t.endswith(right)
            and len(t) > 2
            and left not in inner
            and right not in inner
        ):
            t = inner.strip()
            break
    return t
