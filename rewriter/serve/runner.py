"""Running the app: one process, or a supervisor and N workers sharing one listening socket.

SIGTERM (and Ctrl-C): the listening socket closes, requests on kept-alive connections are answered
503, the requests in flight finish, and the process exits 0. uvicorn's own Server re-raises the
signal after draining (the process would die of SIGTERM, exit -15); `_Server` keeps the drain and
returns instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from rewriter.serve.settings import Settings, refuse_open_bind
from rewriter.serve.state import begin_shutdown

APP = "rewriter.serve.app:create_app"


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        begin_shutdown()
        super().handle_exit(sig, frame)


def _config(host: str, port: int, workers: int) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        log_level="warning",
        access_log=False,  # the gate writes one JSON line per request itself
        server_header=False,
        timeout_graceful_shutdown=None,  # in-flight rewrites finish (each has its own deadline)
    )


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> int:
    settings = Settings.from_env()  # a bad H2H_* value is a usage error before anything binds
    refuse_open_bind(host, settings.token)
    if workers < 1:
        from rewriter.errors import UsageError

        raise UsageError("--workers must be at least 1")
    sock = _bind(host, port)
    _announce(host, port, workers)
    if workers == 1:
        _Server(_config(host, port, 1)).run(sockets=[sock])
        return 0
    return _serve_many(sock, host, port, workers)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a port in use is one line and exit 2 (uvicorn would
    log two lines and exit 3)."""
    from rewriter.errors import UsageError

    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = info[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _serve_many(sock: socket.socket, host: str, port: int, workers: int) -> int:
    """A small supervisor: the parent binds the socket, N spawned workers accept on it. SIGTERM
    (or Ctrl-C) is passed to every worker, each drains its own requests, and the parent exits 0
    once all have. A worker that dies on its own is replaced."""
    import multiprocessing

    # Metrics of all workers are summed from files in one folder (prometheus-client's
    # multiprocess mode); it must exist before any worker imports prometheus_client.
    folder = tempfile.mkdtemp(prefix="h2h-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    stop = threading.Event()
    try:
        config = _config(host, port, workers)
        context = multiprocessing.get_context("spawn")

        def start() -> multiprocessing.process.BaseProcess:
            worker = context.Process(target=_worker, args=(config, sock), daemon=False)
            worker.start()
            return worker

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        procs = [start() for _ in range(workers)]
        while not stop.wait(0.5):
            for i, worker in enumerate(procs):
                if not worker.is_alive() and not stop.is_set():
                    _mark_dead(worker.pid)
                    _event("worker_replaced", pid=worker.pid, exitcode=worker.exitcode)
                    procs[i] = start()
        for worker in procs:
            if worker.is_alive() and worker.pid:
                os.kill(worker.pid, signal.SIGTERM)
        for worker in procs:
            worker.join()
        failed = [w.exitcode for w in procs if w.exitcode not in (0, None)]
        return 1 if failed else 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _worker(config: uvicorn.Config, sock: object) -> None:
    _Server(config).run(sockets=[sock])  # type: ignore[list-item]


def _mark_dead(pid: int | None) -> None:
    if pid:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def _event(name: str, **fields: object) -> None:
    sys.stderr.write(json.dumps({"event": name, **fields}) + "\n")
    sys.stderr.flush()


def _announce(host: str, port: int, workers: int) -> None:
    _event("starting", url=f"http://{host}:{port}", workers=workers)
