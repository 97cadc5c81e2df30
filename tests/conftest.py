"""Shared fixtures: a scripted OpenAI-compatible chat server on 127.0.0.1, example paths."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@dataclass
class Reply:
    """One scripted answer: a chat completion with `content`, or a raw HTTP error/body."""

    content: str | None = None
    status: int = 200
    body: str | None = None
    delay: float = 0.0
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedServer:
    """Answers POST /v1/chat/completions from a script, in order; logs every request body.

    When the script runs out, the last reply repeats, so "every answer violates" is one entry.
    """

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                with server._lock:
                    server.requests.append(json.loads(raw or b"{}"))
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    index = min(len(server.requests), len(server.script)) - 1
                    reply = server.script[index] if server.script else Reply(content="")
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is not None or reply.status != 200:
                    payload = (
                        reply.body or json.dumps({"error": {"message": "scripted error"}})
                    ).encode()
                else:
                    payload = json.dumps(_completion(reply)).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def say(self, *replies: str | Reply) -> None:
        self.script = [r if isinstance(r, Reply) else Reply(content=r) for r in replies]
        self.requests.clear()
        self.headers.clear()

    def user_messages(self, request_index: int) -> list[str]:
        return [
            m["content"] for m in self.requests[request_index]["messages"] if m["role"] == "user"
        ]


def _completion(reply: Reply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    }


@pytest.fixture(scope="session")
def _server_instance() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()


@pytest.fixture
def server(_server_instance: ScriptedServer) -> ScriptedServer:
    _server_instance.say()
    return _server_instance


@pytest.fixture(autouse=True)
def _no_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests choose their model explicitly; a developer's H2H_* must not leak in, and the
    response cache of one test is never another's."""
    for var in (
        "H2H_MODEL",
        "H2H_API_BASE",
        "H2H_TIMEOUT",
        "H2H_API_KEY",
        "H2H_PROMPTS",
        "H2H_GUIDELINES",
        "H2H_LOG",
        "H2H_TRANSPORT",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("H2H_CACHE_DIR", str(tmp_path / "h2h-cache"))


@pytest.fixture(autouse=True)
def _rule_folders_stay_per_test() -> Iterator[None]:
    """`--rules` passes a team's folders on through H2H_RULES (so worker processes read them);
    a test that runs the CLI in-process must not leave them set for the next test. Restored
    last, after every other fixture (monkeypatch included) has undone its own changes."""
    import os

    before = os.environ.get("H2H_RULES")
    yield
    if before is None:
        os.environ.pop("H2H_RULES", None)
    else:
        os.environ["H2H_RULES"] = before
