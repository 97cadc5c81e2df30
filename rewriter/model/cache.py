"""An on-disk cache of model answers, keyed by model + URL + messages + parameters.

Re-running an eval costs nothing; a rewrite uses it only when asked. h2h owns it rather than
using litellm's (whose cache-hit path has crashed without optional dependencies). Only finished
answers (finish_reason "stop", non-empty) are stored; entries are plain JSON files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from rewriter.model.llm import Completion, ModelConfig
from rewriter.paths import cache_root, write_cache_file

VERSION = 1


def cache_dir() -> Path:
    return cache_root() / "responses"


def key(messages: list[dict[str, str]], config: ModelConfig) -> str:
    payload = {
        "v": VERSION,
        "model": config.model,
        "api_base": config.api_base,
        "messages": messages,
        "temperature": 0.3,
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def get(messages: list[dict[str, str]], config: ModelConfig) -> Completion | None:
    path = cache_dir() / f"{key(messages, config)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Completion(**data)
    except (OSError, ValueError, TypeError):
        return None


def put(messages: list[dict[str, str]], config: ModelConfig, answer: Completion) -> None:
    if answer.finish_reason not in (None, "stop") or not answer.text.strip():
        return
    # Atomic, so concurrent evals never read half a file.
    path = cache_dir() / f"{key(messages, config)}.json"
    write_cache_file(path, json.dumps(asdict(answer), ensure_ascii=False))
