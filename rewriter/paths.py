"""Where the data folders are.

`guardrails/`, `prompts/`, `evals/` and `examples/` sit at the top of the repository
(they are data, not import packages). A wheel carries them under `rewriter/_data/`;
a source checkout or editable install reads them in place.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_PACKAGE = Path(__file__).resolve().parent
# libyaml's safe loader when PyYAML was built with it: 5-10x faster start-up on the rule files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def data_dir(name: str) -> Path:
    """Return the folder `name` (guardrails, prompts, evals, examples), installed or in-tree."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"h2h data folder {name!r} is missing from this installation")


def prompts_dir() -> Path:
    """Templates: a team's own folder (H2H_PROMPTS) wins over the shipped one."""
    override = os.environ.get("H2H_PROMPTS")
    return Path(override) if override else data_dir("prompts")


def read_yaml(path: Path) -> Any:
    """A data file under guardrails/ or prompts/; a broken file is a RuleFileError naming it."""
    from rewriter.errors import RuleFileError

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path.name}: cannot read: {' '.join(str(exc).split())}") from None
