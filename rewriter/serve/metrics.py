"""Prometheus metrics, all prefixed `h2h_`. They hold counts and timings, never text.

With `--workers N` every worker process writes its values to files under
PROMETHEUS_MULTIPROC_DIR (set by the parent before the workers start) and `/metrics`, answered by
whichever worker the connection reached, adds them up across all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate

from rewriter.models import Violation

REQUESTS = Counter(
    "h2h_requests",
    "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "h2h_request_duration_seconds",
    "Time from the request's arrival to its last byte, by route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
VIOLATIONS = Counter(
    "h2h_violations",
    "Violations found in answered checks and rewrites, by rule.",
    ["rule", "severity", "route"],
)
REWRITES = Counter(
    "h2h_rewrites", "Rewrites answered, by the engine that produced the text.", ["source"]
)
FALLBACKS = Counter(
    "h2h_fallbacks", "Rewrites where a model was configured but the offline result was returned."
)
REJECTED = Counter("h2h_rejected", "Requests refused before any work, by reason.", ["reason"])

CONTENT_TYPE = CONTENT_TYPE_LATEST


def count_violations(violations: Iterable[Violation], route: str) -> None:
    for v in violations:
        VIOLATIONS.labels(v.rule, v.severity, route).inc()


def exposition() -> bytes:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return _generate()
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return _generate(registry)
