"""The model call, behind a seam: the rewrite loop takes any completion function.

Two transports, both imported lazily so `h2h check` and the offline engine never pay for them:
- `openai/…` models (OpenAI and every OpenAI-compatible server: vLLM, Ollama's /v1, LM Studio)
  are one POST to /chat/completions over httpx — measured here, importing the openai SDK and
  its chat resources alone costs 1.2 s of a CLI call, httpx about 0.1 s;
- every other provider goes through litellm (2.8 s to import, only when used).

Neither retries on its own (`max_retries=0`, `num_retries=0`): h2h owns the one retry layer
(model/loop.py), so a fault costs a known number of requests and a `Retry-After` longer than
the time left is answered by falling back at once instead of waiting.
"""

from __future__ import annotations

import email.utils
import importlib.util
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import regex

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
NO_KEY = "sk-no-key-needed"  # local OpenAI-compatible servers want *a* key


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
    retries: int = DEFAULT_RETRIES  # per call, for transport faults only
    fallbacks: tuple[str, ...] = ()  # models tried, in order, when this one fails to answer

    @staticmethod
    def resolve(
        model: str | None = None,
        api_base: str | None = None,
        timeout: float | None = None,
        fallbacks: tuple[str, ...] | list[str] = (),
        retries: int | None = None,
    ) -> ModelConfig | None:
        """Arguments first, then H2H_MODEL, H2H_API_BASE, H2H_TIMEOUT; None = offline."""
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
        if retries is not None and retries < 0:
            raise UsageError("retries must be 0 or more")
        return ModelConfig(
            model=model,
            api_base=api_base or os.environ.get("H2H_API_BASE") or None,
            timeout=timeout or DEFAULT_TIMEOUT,
            api_key=os.environ.get("H2H_API_KEY") or None,
            retries=DEFAULT_RETRIES if retries is None else retries,
            fallbacks=tuple(fallbacks),
        )

    def validate(self) -> ModelConfig:
        """Fail fast (UsageError, no request sent) on a configuration that cannot work: a
        provider with no key, a base URL without a scheme, an unknown provider. Returns self."""
        from rewriter.model.providers import validate

        for name in (self.model, *self.fallbacks):
            validate(name, self.api_base, self.api_key)
        return self

    @property
    def direct_openai(self) -> bool:
        return self.model.startswith("openai/") and os.environ.get("H2H_TRANSPORT") != "litellm"

    @property
    def base_url(self) -> str:
        return (self.api_base or "https://api.openai.com/v1").rstrip("/")


class CompletionFn(Protocol):
    def __call__(self, messages: list[dict[str, str]], config: ModelConfig) -> Completion | str: ...


AsyncCompletionFn = Callable[[list[dict[str, str]], ModelConfig], Awaitable[Completion | str]]


# --- faults --------------------------------------------------------------------------------------

FaultKind = Literal["retry", "misconfigured", "context", "refused", "fatal"]


@dataclass(frozen=True)
class Fault:
    """What went wrong with a call, by what the rewrite loop should do about it."""

    kind: FaultKind
    detail: str
    retry_after: float | None = None


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    if not headers:
        headers = getattr(exc, "litellm_response_headers", None) or {}
    try:
        ms = headers.get("retry-after-ms")
        if ms:
            return float(ms) / 1000
        value = headers.get("retry-after")
    except AttributeError:
        return None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def classify(exc: BaseException) -> Fault:
    """Sort an exception from either transport (or a test's fake) by shape, not by class."""
    name = type(exc).__name__.lower()
    text = " ".join(str(exc).split())[:300]
    low = text.lower()
    status = _status(exc)
    if "contextwindow" in name or "context_length" in low or "maximum context" in low:
        return Fault("context", f"the prompt is longer than the model's context window: {text}")
    if "contentpolicy" in name or "content_policy" in low or "content policy" in low:
        return Fault("refused", f"the provider refused the content: {text}")
    if status in (401, 403, 404) or name in (
        "authenticationerror",
        "permissiondeniederror",
        "notfounderror",
    ):
        return Fault("misconfigured", f"HTTP {status}: {text} (check the model, key and URL)")
    if (
        status in (408, 409, 429)
        or (status is not None and status >= 500)
        or "timeout" in name
        or "connect" in name
        or "protocol" in name  # a connection cut mid-answer
        or "decode" in name  # a body that is not the JSON it claims to be (a proxy's HTML page)
        or isinstance(exc, (TimeoutError, ConnectionError))
    ):
        return Fault("retry", f"{type(exc).__name__}: {text}", _retry_after(exc))
    return Fault("fatal", f"{type(exc).__name__}: {text}")


# --- OpenAI-compatible HTTP, direct -------------------------------------------------------------

MAX_CONNECTIONS = 16  # per process: a storm of concurrent rewrites shares a bounded pool

_CLIENTS: dict[bool, Any] = {}
_CLIENTS_LOCK = threading.Lock()


class HTTPStatusFault(Exception):
    """A non-2xx answer; keeps the status and headers (Retry-After) for `classify`."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status_code = response.status_code
        try:
            detail = response.json().get("error", {}).get("message") or response.text
        except ValueError:
            detail = response.text
        super().__init__(f"HTTP {response.status_code}: {' '.join(str(detail).split())[:200]}")


class AnswerShapeFault(Exception):
    """A 200 whose body is not a chat completion."""


def _http_client(asynchronous: bool) -> Any:
    """One shared client per process (and per sync/async): pooled, bounded connections."""
    import httpx

    with _CLIENTS_LOCK:
        if asynchronous not in _CLIENTS:
            limits = httpx.Limits(max_connections=MAX_CONNECTIONS)
            cls = httpx.AsyncClient if asynchronous else httpx.Client
            _CLIENTS[asynchronous] = cls(limits=limits, follow_redirects=False)
        return _CLIENTS[asynchronous]


def _request(messages: list[dict[str, str]], config: ModelConfig) -> dict[str, Any]:
    key = (
        config.api_key or os.environ.get("OPENAI_API_KEY") or (NO_KEY if config.api_base else None)
    )
    if key is None:
        from rewriter.errors import ModelError

        raise ModelError("no API key: set OPENAI_API_KEY or H2H_API_KEY (or give --api-base)")
    return {
        "url": config.base_url + "/chat/completions",
        "headers": {"authorization": f"Bearer {key}", "content-type": "application/json"},
        "json": {
            "model": config.model.removeprefix("openai/"),
            "messages": messages,
            "temperature": 0.3,
        },
        "timeout": config.timeout,
    }


def _parse(response: Any, model: str) -> Completion:
    if response.status_code >= 300:
        raise HTTPStatusFault(response)
    try:
        body = response.json()
        choice = body["choices"][0]
        text = choice["message"].get("content") or ""
        finish = choice.get("finish_reason")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise AnswerShapeFault(f"not a chat completion: {response.text[:120]!r}") from exc
    usage = body.get("usage") or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    return Completion(text, finish, prompt, completion, price(model, prompt, completion))


def openai_completion(messages: list[dict[str, str]], config: ModelConfig) -> Completion:
    request = _request(messages, config)
    return _parse(_http_client(False).post(**request), config.model)


async def openai_acompletion(messages: list[dict[str, str]], config: ModelConfig) -> Completion:
    request = _request(messages, config)
    return _parse(await _http_client(True).post(**request), config.model)


@cache
def _price_table() -> dict[str, Any]:
    """litellm's bundled price map, read as JSON: no litellm import, no network."""
    spec = importlib.util.find_spec("litellm")
    if not spec or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations)))
    path = path / "model_prices_and_context_window_backup.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def price(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Cost in USD when the model's price is known, else None (never a guess)."""
    table = _price_table()
    entry = table.get(model) or table.get(model.split("/", 1)[-1])
    if not entry:
        return None
    try:
        return prompt_tokens * float(entry["input_cost_per_token"]) + completion_tokens * float(
            entry["output_cost_per_token"]
        )
    except (KeyError, TypeError, ValueError):
        return None


# --- litellm -------------------------------------------------------------------------------------


def _litellm() -> Any:
    # No network look-up of the price map and no .env loading at import (see NOTES).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_MODE", "PRODUCTION")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def _litellm_kwargs(messages: list[dict[str, str]], config: ModelConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "timeout": config.timeout,
        "temperature": 0.3,
        # h2h owns retries: neither litellm nor the SDK under it may repeat a request.
        "num_retries": 0,
        "max_retries": 0,
    }
    if config.api_base:
        kwargs["api_base"] = config.api_base
    from rewriter.model.providers import provider_of

    key = config.api_key
    if (
        key is None
        and config.api_base
        and provider_of(config.model) == "openai"  # `openai/x`, or a bare `gpt-4o-mini`
        and not os.environ.get("OPENAI_API_KEY")
    ):
        key = NO_KEY
    if key:
        kwargs["api_key"] = key
    return kwargs


def _from_litellm(litellm: Any, response: Any) -> Completion:
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
    return _from_litellm(litellm, litellm.completion(**_litellm_kwargs(messages, config)))


async def litellm_acompletion(messages: list[dict[str, str]], config: ModelConfig) -> Completion:
    litellm = _litellm()
    return _from_litellm(litellm, await litellm.acompletion(**_litellm_kwargs(messages, config)))


def default_completion(messages: list[dict[str, str]], config: ModelConfig) -> Completion:
    call = openai_completion if config.direct_openai else litellm_completion
    return call(messages, config)


async def default_acompletion(messages: list[dict[str, str]], config: ModelConfig) -> Completion:
    call = openai_acompletion if config.direct_openai else litellm_acompletion
    return await call(messages, config)


def with_timeout(config: ModelConfig, seconds: float) -> ModelConfig:
    return replace(config, timeout=seconds)


# --- the answer ----------------------------------------------------------------------------------

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
