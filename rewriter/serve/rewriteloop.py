"""Rewrites run on an event loop of their own, in one background thread.

A rewrite is mostly waiting on the model, but around each call it works on the CPU: masking the
case and building the prompt before, judging the answer with every rule after. Sixty-four
rewrites whose answers land together are a ~100 ms burst of such work; on the server's loop it
queues every /v1/check behind it. On its own loop, in its own thread, the burst shares the
interpreter with the server's loop in 5 ms slices, and a check waits for a slice, not for the
whole burst. Measured (benchmarks/bench_serve.py, 64 rewrites against a model answering in 0.5 s,
three interleaved runs on a loaded 2-core machine): /v1/check p99 58, 86, 158 ms on the server's
loop; 35, 24, 68 ms on this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class RewriteLoop:
    """The loop, and the model connections it holds: as many as rewrites may be in flight (the
    library's default pool of 16 would queue a storm of 64 behind each other). Both exist only
    between `start` and `stop` (the app's lifespan), so a test process that builds apps leaves
    the library's pool as it found it."""

    def __init__(self, pool: int) -> None:
        self.pool = pool
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._saved: tuple[int, Any] | None = None

    def start(self) -> None:
        from rewriter.model import llm

        self._saved = (llm.MAX_CONNECTIONS, llm._CLIENTS.get(True))
        llm.MAX_CONNECTIONS = max(llm.MAX_CONNECTIONS, self.pool)
        llm._CLIENTS.pop(True, None)  # the async client is made anew, on this loop, this size

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="h2h-rewrites", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the rewrite loop; cancelling the caller cancels it there too."""
        future = asyncio.run_coroutine_threadsafe(coro, self._ensure())
        return await asyncio.wrap_future(future)

    def stop(self) -> None:
        from rewriter.model import llm

        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if self._saved is not None:
            ours = llm._CLIENTS.pop(True, None)
            llm.MAX_CONNECTIONS, theirs = self._saved
            if theirs is not None:
                llm._CLIENTS[True] = theirs
            self._saved = None
            if ours is not None and loop is not None:
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(ours.aclose(), loop).result(5)
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            if not loop.is_running():
                loop.close()
