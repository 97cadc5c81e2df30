"""What one server process knows about itself: its settings, whether it is warm, how many
rewrites are in flight, whether it is shutting down."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from rewriter.serve.settings import Settings

# Every state of this process, so the signal handler (which sees the uvicorn server, not the app)
# can mark them all as shutting down.
_LIVE: weakref.WeakSet[ServerState] = weakref.WeakSet()


@dataclass(eq=False)
class ServerState:
    settings: Settings
    ready: asyncio.Event | None = None
    warm_error: str | None = None
    rewrites_in_flight: int = 0
    shutting_down: bool = False

    def __post_init__(self) -> None:
        _LIVE.add(self)


def begin_shutdown() -> None:
    for state in list(_LIVE):
        state.shutting_down = True
