"""What the server is configured with: environment variables only, so `--workers N` processes,
spawned fresh, read the same configuration as the parent without any hand-over."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from rewriter.errors import UsageError
from rewriter.model.llm import DEFAULT_TIMEOUT

MAX_BODY = 2 * 1024 * 1024  # bytes: a case is at most ~200 × 20,000 characters, rarely near it
MAX_REWRITES = 64  # rewrites in flight per process before 429
MAX_BATCH = 1000
# A check whose texts total at most this many characters runs on the event loop itself; longer
# ones go to a thread, so no 20,000-character reply (≈10+ ms) stalls every other request.
# Measured (benchmarks/bench_serve.py, 16 keep-alive clients, 2 busy cores) against sending every
# check to the thread pool: the hop cost more server CPU per check in eleven runs of twelve
# (one tie; e.g. 0.91 against 0.80 of the CLI's rate per CPU-second), and the loop mostly had
# the lower p99 (58 against 81 ms). The pool won on the clock only on the oversubscribed test
# machine, where a process with more runnable threads gets a larger share (docs/serve.md).
CHECK_INLINE_CHARS = 4000


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    model: str | None = None
    allowed_models: frozenset[str] = frozenset()
    timeout: float = DEFAULT_TIMEOUT
    max_body: int = MAX_BODY
    max_rewrites: int = MAX_REWRITES
    max_batch: int = MAX_BATCH
    check_inline_chars: int = CHECK_INLINE_CHARS

    @staticmethod
    def from_env() -> Settings:
        timeout = DEFAULT_TIMEOUT
        raw = os.environ.get("H2H_TIMEOUT")
        if raw:
            try:
                timeout = float(raw)
            except ValueError:
                raise UsageError(f"H2H_TIMEOUT must be a number of seconds, got {raw!r}") from None
        model = os.environ.get("H2H_MODEL") or None
        allowed = {m.strip() for m in os.environ.get("H2H_ALLOWED_MODELS", "").split(",")}
        allowed.discard("")
        if model:
            allowed.add(model)
        return Settings(
            token=os.environ.get("H2H_API_TOKEN") or None,
            model=model,
            allowed_models=frozenset(allowed),
            timeout=timeout,
            max_body=_int("H2H_MAX_BODY", MAX_BODY),
            max_rewrites=_int("H2H_MAX_REWRITES", MAX_REWRITES),
            max_batch=MAX_BATCH,
            check_inline_chars=_int("H2H_CHECK_INLINE_CHARS", CHECK_INLINE_CHARS),
        )


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_open_bind(host: str, token: str | None) -> None:
    """Off loopback, anyone on the network could spend the model's budget: require a token."""
    if not token and not is_loopback(host):
        raise UsageError(
            f"refusing to listen on {host} without a token: set H2H_API_TOKEN "
            "(or bind to 127.0.0.1 behind a proxy that authenticates)"
        )
