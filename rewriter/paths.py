"""Where the data folders are.

`guardrails/`, `prompts/`, `evals/` and `examples/` sit at the top of the repository
(they are data, not import packages). A wheel carries them under `rewriter/_data/`;
a source checkout or editable install reads them in place (and then the checkout wins over a
stale `_data/` copy: editing a rule in a checkout must never silently do nothing).

A team adds its own rule folders to the shipped guardrails/ (H2H_RULES, `--rules`): see
`rule_dirs`.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def is_checkout() -> bool:
    """h2h runs from a source checkout (or an editable install of one), not an installed copy.
    The test is the project file beside the package: site-packages never has one, so a PyPI
    package that happens to be called `guardrails` there is never mistaken for ours."""
    return (_PACKAGE.parent / "pyproject.toml").is_file()


@cache
def data_dir(name: str) -> Path:
    """Return the folder `name` (guardrails, prompts, evals, examples), in-tree or installed."""
    candidates = [_PACKAGE / "_data" / name]
    if is_checkout():
        candidates.insert(0, _PACKAGE.parent / name)
    else:
        candidates.append(_PACKAGE.parent / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"h2h data folder {name!r} is missing from this installation")


RULES_ENV = "H2H_RULES"


def rule_dirs() -> tuple[Path, ...]:
    """The rule folders in use: the shipped guardrails/ first, then a team's folders from
    H2H_RULES (os.pathsep-separated; the CLI's `--rules` sets it). A later folder's rule file
    replaces an earlier one with the same id; its lexicons/ override shipped lexicon keys."""
    return _rule_dirs(os.environ.get(RULES_ENV, ""))


@cache
def _rule_dirs(setting: str) -> tuple[Path, ...]:
    from rewriter.errors import UsageError

    shipped = data_dir("guardrails")
    found = [shipped]
    for part in setting.split(os.pathsep):
        if not part.strip():
            continue
        folder = Path(part.strip()).expanduser().resolve()
        if not folder.is_dir():
            raise UsageError(f"{part}: the rules folder does not exist ({RULES_ENV} or --rules)")
        if folder not in found:
            found.append(folder)
    return tuple(found)


def rules_digest() -> str:
    """One digest of every rule folder in use (caches keyed by rule data include team folders)."""
    dirs = rule_dirs()
    if len(dirs) == 1:
        return folder_digest(dirs[0])
    joined = ":".join(f"{d}={folder_digest(d)}" for d in dirs)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def lexicon_data(name: str) -> dict[str, Any]:
    """A shared vocabulary, guardrails/lexicons/NAME.yaml, with the team folders' own
    lexicons/NAME.yaml laid over it key by key: a team replaces `constraints` or `negations`
    whole and keeps every key it does not name. A key the shipped file does not have, or a value
    of another shape, is a RuleFileError naming the team's file and the key."""
    return _lexicon_data(name, rule_dirs())


@cache
def _lexicon_data(name: str, dirs: tuple[Path, ...]) -> dict[str, Any]:
    from rewriter.errors import RuleFileError

    path = dirs[0] / "lexicons" / f"{name}.yaml"
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RuleFileError(f"{path}: a lexicon file must be a mapping")
    merged = dict(data)
    for folder in dirs[1:]:
        team = folder / "lexicons" / f"{name}.yaml"
        if not team.is_file():
            continue
        own = read_yaml(team)
        if not isinstance(own, dict):
            raise RuleFileError(f"{team}: a lexicon file must be a mapping")
        for key, value in own.items():
            if key not in data:
                known = ", ".join(str(k) for k in data)
                raise RuleFileError(f"{team}: {key}: unknown key (the shipped file has: {known})")
            if _shape(value) != _shape(data[key]):
                raise RuleFileError(
                    f"{team}: {key}: must be {_shape(data[key])} like the shipped value, "
                    f"got {_shape(value)}"
                )
            merged[key] = value
    return merged


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a number" if isinstance(value, (int, float)) else "a string"


# How many versions of each table keyed by the rule files (parsed folders, lemma tables, the
# validation marker) the cache keeps: enough for a few teams' rule sets side by side.
CACHE_VERSIONS = 8


def cache_root() -> Path:
    """~/.cache/h2h (H2H_CACHE_DIR or XDG_CACHE_HOME to move it)."""
    base = os.environ.get("H2H_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "h2h"
    )
    return Path(base)


def write_cache_file(path: Path, text: str, *, keep_versions: int = 0) -> None:
    """Write a file of the cache atomically (write, then rename: a concurrent reader never sees
    half of it). A cache that cannot be written only makes the next run slower: errors pass.

    `keep_versions`: the file is one version of a family named `<family>-<16 hex digits>` (a
    table keyed by a digest of the rule files): only that many of the family's newest files are
    kept, so a support lead who edits a lexicon fifty times does not leave fifty tables behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        return
    if keep_versions:
        prune_versions(path, keep_versions)


_VERSIONED = re.compile(r"(?P<family>.+)-[0-9a-f]{16}(?P<suffix>(?:\.\w+)?)")


def prune_versions(path: Path, keep: int) -> None:
    """Remove all but the `keep` newest files of `path`'s family (never `path` itself). A
    process still reading a removed version only finds it gone and rebuilds it."""
    named = _VERSIONED.fullmatch(path.name)
    if named is None:
        return
    family, suffix = named["family"], named["suffix"]
    siblings = []
    for other in path.parent.glob(f"{glob.escape(family)}-*{suffix}"):
        found = _VERSIONED.fullmatch(other.name)
        if other != path and found and (found["family"], found["suffix"]) == (family, suffix):
            try:
                siblings.append((other.stat().st_mtime, other))
            except OSError:
                continue
    for _, old in sorted(siblings, reverse=True)[max(keep - 1, 0) :]:
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            old.unlink()


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
    except OSError as exc:
        raise RuleFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        # PyYAML names the stream «<unicode string>»: say where instead, line and column.
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleFileError(f"{path}: cannot read{where}: {' '.join(problem.split())}") from None


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
        write_cache_file(target, text, keep_versions=CACHE_VERSIONS)
    return parsed
