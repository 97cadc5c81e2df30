"""Helpers for the server tests: a real `h2h serve` process on 127.0.0.1 and a scripted
OpenAI-compatible model that can hold many connections at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent

# What the offline engine makes of examples/tariff-99.json: a reply every block rule passes,
# so a model that answers it is used as is (source "llm").
GOOD_ANSWER = (
    "Добрый день, Максим! С 5-ого числа действуют новые расценки по тарифу, но ваш безлимитный "
    "тариф они не затрагивают. Списание 99 рублей ошибочное, деньги вернутся в течение 3 рабочих "
    "дней. Простите, что так вышло."
)


class _Backlogged(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the default 5 drops connections under a storm (NOTES)


class FakeModel:
    """POST /v1/chat/completions → `answer` after `delay` seconds (or `status`)."""

    def __init__(self) -> None:
        self.answer = GOOD_ANSWER
        self.delay = 0.0
        self.status = 200
        self.calls = 0
        self.models: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with fake._lock:
                    fake.calls += 1
                    fake.models.append(body.get("model", ""))
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.status != 200:
                    payload = json.dumps({"error": {"message": "scripted failure"}}).encode()
                else:
                    payload = json.dumps(
                        {
                            "id": "x",
                            "object": "chat.completion",
                            "model": body.get("model"),
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": fake.answer},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 5},
                        }
                    ).encode()
                try:
                    self.send_response(fake.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = _Backlogged(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def reset(self, answer: str = GOOD_ANSWER, delay: float = 0.0, status: int = 200) -> None:
        self.answer, self.delay, self.status, self.calls = answer, delay, status, 0
        self.models.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CLEAN_ENV = ("H2H_MODEL", "H2H_API_BASE", "H2H_API_TOKEN", "H2H_ALLOWED_MODELS", "H2H_TIMEOUT")


class ServeProcess:
    """`h2h serve` in a subprocess; stderr (the JSON request log) goes to a file."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.port = free_port()
        self.log = tmp / f"serve-{self.port}.log"
        full = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        full.update(env or {})
        full["PYTHONUNBUFFERED"] = "1"
        args = ["serve", "--port", str(self.port), "--workers", str(workers)]
        self._err = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rewriter.cli", *args],
            cwd=ROOT,
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=self._err,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"h2h serve exited {self.proc.returncode}: {self.log_text()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"h2h serve did not get ready: {self.log_text()}")

    def log_text(self) -> str:
        self._err.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()
        return self.proc.returncode
