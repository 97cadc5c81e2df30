"""Token counts with tiktoken's o200k encoding, offline.

tiktoken downloads encodings on first use; litellm ships them in its package, so we point
TIKTOKEN_CACHE_DIR there (found without importing litellm, which costs seconds).
"""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _encoding() -> Any:
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        spec = importlib.util.find_spec("litellm")
        if spec and spec.submodule_search_locations:
            bundled = Path(next(iter(spec.submodule_search_locations)))
            folder = bundled / "litellm_core_utils" / "tokenizers"
            if folder.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    import tiktoken

    return tiktoken.get_encoding("o200k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text))


def count_messages(messages: list[dict[str, str]]) -> int:
    """Content tokens plus the few a chat format adds per message."""
    return sum(count_tokens(m["content"]) + 4 for m in messages) + 2
