"""Where the data folders are.

`guardrails/`, `prompts/`, `evals/` and `examples/` sit at the top of the repository
(they are data, not import packages). A wheel carries them under `rewriter/_data/`;
a source checkout or editable install reads them in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """Return the folder `name` (guardrails, prompts, evals, examples), installed or in-tree."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"h2h data folder {name!r} is missing from this installation")


def cache_root() -> Path:
    """~/.cache/h2h (H2H_CACHE_DIR or XDG_CACHE_HOME to move it)."""
    base = os.environ.get("H2H_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "h2h"
    )
    return Path(base)


def write_cache_file(path: Path, text: str) -> None:
    """Write a file of the cache atomically (write, then rename: a concurrent reader never sees
    half of it). A cache that cannot be written only makes the next run slower: errors pass."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        pass


def prompts_dir() -> Path:
    """Templates: a team's own folder (H2H_PROMPTS) wins over the shipped one."""
    override = os.environ.get("H2H_PROMPTS")
    return Path(override) if override else data_dir("prompts")


def read_yaml(path: Path) -> Any:
    """A data file under guardrails/ or prompts/; a broken file is a RuleFileError naming it.

    Parsed files are kept as one JSON file per folder version in the cache (keyed by a digest
    of the folder's YAML files), so a start-up reads JSON and never imports the YAML parser;
    editing any file simply makes a new version."""
    parsed = _parsed_folder(path.parent)
    if parsed is not None and path.name in parsed:
        return parsed[path.name]
    return _parse_yaml(path)


def _parse_yaml(path: Path) -> Any:
    import yaml

    from rewriter.errors import RuleFileError

    # libyaml's safe loader when PyYAML was built with it: 5-10x faster on the rule files.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path.name}: cannot read: {' '.join(str(exc).split())}") from None


@cache
def folder_digest(folder: Path, pattern: str = "*.yaml") -> str:
    """A digest of every `pattern` file under `folder` (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob(pattern)):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@cache
def _parsed_folder(folder: Path) -> dict[str, Any] | None:
    """Every YAML file of `folder` parsed, from the cache or parsed now and cached; None when a
    file is broken (each file is then parsed on its own, and the broken one named)."""
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("*.yaml"))
    if not files:
        return None
    target = cache_root() / "data" / f"{folder.name}-{folder_digest(folder, '*.yaml')}.json"
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    from rewriter.errors import RuleFileError

    try:
        parsed = {p.name: _parse_yaml(p) for p in files}
    except RuleFileError:
        return None
    try:
        text = json.dumps(parsed, ensure_ascii=False)
    except (TypeError, ValueError):
        return parsed  # values JSON cannot hold (YAML dates): parse again next time
    if json.loads(text) == parsed:  # non-string keys would come back changed: not cached
        write_cache_file(target, text)
    return parsed
