"""A table of the rule files' phrase-word lemmas on disk, so a fresh `h2h check` does not ask
pymorphy3 about ~550 words it already knows. Keyed by a digest of guardrails/ and the pymorphy3
dictionary version: editing a lexicon simply makes a new table. Plain JSON, never pickle."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path

from rewriter.cache import cache_dir
from rewriter.morph import computed_lemmas, seed_lemmas
from rewriter.paths import data_dir


@cache
def _table_path() -> Path | None:
    try:
        import pymorphy3_dicts_ru  # type: ignore[import-untyped]

        dict_version = getattr(pymorphy3_dicts_ru, "__version__", "?")
    except ImportError:
        dict_version = "?"
    digest = hashlib.sha256(dict_version.encode())
    folder = data_dir("guardrails")
    for path in sorted(folder.rglob("*.yaml")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    if os.environ.get("H2H_NO_LEMMA_CACHE"):
        return None
    return cache_dir().parent / f"lemmas-{digest.hexdigest()[:16]}.json"


def load() -> bool:
    """Seed the lemma cache; False when there is no table yet (the caller saves one later)."""
    path = _table_path()
    if path is None:
        return True
    try:
        seed_lemmas(json.loads(path.read_text(encoding="utf-8")))
        return True
    except (OSError, ValueError):
        return False


def save() -> None:
    path = _table_path()
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(computed_lemmas(), fh, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass  # no writable cache: only a slower start
