"""A table of the rule files' phrase-word lemmas on disk, so a fresh `h2h check` does not ask
pymorphy3 about the ~600 words it already knows (and, for a text of known words, never loads its
dictionary). Keyed by a digest of the rule folders in use (guardrails/ and a team's) and the
pymorphy3 dictionary version: editing a lexicon simply makes a new table. It grows as lexicons
are first compiled and holds phrase words only — never a word of a checked text.
Plain JSON, never pickle."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from rewriter.analysis.morph import LEMMA_SCHEME, phrase_table, seed_lemmas
from rewriter.paths import CACHE_VERSIONS, cache_root, rules_digest, write_cache_file


@cache
def _table_path() -> Path | None:
    if os.environ.get("H2H_NO_LEMMA_CACHE"):
        return None
    try:
        import pymorphy3_dicts_ru  # type: ignore[import-untyped]

        dict_version = getattr(pymorphy3_dicts_ru, "__version__", "?")
    except ImportError:
        dict_version = "?"
    rules = rules_digest()  # the shipped rules and every team folder in use
    digest = hashlib.sha256(f"{dict_version}:{LEMMA_SCHEME}:{rules}".encode()).hexdigest()[:16]
    return cache_root() / f"lemmas-{digest}.json"


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
    table = phrase_table()
    path = _table_path()
    if path is None:
        return
    write_cache_file(path, json.dumps(table, ensure_ascii=False), keep_versions=CACHE_VERSIONS)
