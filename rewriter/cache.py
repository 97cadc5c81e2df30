"""An on-disk cache of model answers, keyed by model + URL + messages + parameters.

Re-running an eval costs nothing; a rewrite uses it only when asked. h2h owns it rather than
using litellm's (whose cache-hit path has crashed without optional dependencies). Only finished
answers (finish_reason "stop", non-empty) are stored; entries are plain JSON files.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from rewriter.llm import Completion, ModelConfig
from rewriter.paths import cache_root

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
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename: concurrent evals never read half a file.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(answer), fh, ensure_ascii=False)
        os.replace(tmp, folder / f"{key(messages, config)}.json")
    except OSError:
        pass  # a cache that cannot be written is only a slower run
