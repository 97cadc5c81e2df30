"""The litellm call replayed from a vcrpy cassette, and a scan that no cassette leaks a key or PII.

Replay is the default (record mode "none": a missing cassette fails instead of calling out).
To re-record, see tests/cassettes/README.md.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import vcr
import yaml

from rewriter import Case, rewrite

from .conftest import EXAMPLES

CASSETTES = Path(__file__).parent / "cassettes"
RECORD = os.environ.get("H2H_RECORD")  # unset: replay only
REAL_MODEL = os.environ.get("H2H_RECORD_MODEL")  # set with a key to record a real provider

SECRET_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
]

recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="once" if RECORD else "none",
    match_on=["method", "path"],  # the scripted server's port changes between runs
    filter_headers=SECRET_HEADERS,
    filter_query_parameters=["key", "api_key"],
    decode_compressed_response=True,
)

COURT_ANSWER = (
    "Вижу вашу претензию: её передали в юридический отдел, письменный ответ придёт "
    "в течение 10 рабочих дней."
)


def test_litellm_call_replays_from_cassette(request, monkeypatch) -> None:
    monkeypatch.setenv("H2H_TRANSPORT", "litellm")  # the litellm path, not the direct SDK one
    case = Case.model_validate_json((EXAMPLES / "court-promo.json").read_text(encoding="utf-8"))
    if RECORD and not REAL_MODEL:
        server = request.getfixturevalue("server")
        server.say(COURT_ANSWER)
        model, api_base = "openai/test-model", server.url
    elif RECORD:
        model, api_base = REAL_MODEL, os.environ.get("H2H_API_BASE")
    else:
        model, api_base = "openai/test-model", "http://127.0.0.1:9/v1"  # nothing listens there
    with recorder.use_cassette("litellm-court-promo.yaml") as cassette:
        result = rewrite(case, model, api_base=api_base, timeout=10)
    assert cassette.play_count == 1 or RECORD
    assert result.source == "llm", result.errors
    assert result.attempts == 1
    if not REAL_MODEL:
        assert result.text == COURT_ANSWER
    assert "SORRY100" not in result.text


_KEY_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),
    re.compile(r"Bearer\s+\S+", re.I),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b"),  # card numbers
]


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        try:  # bodies are JSON strings: decode them so escaped text is scanned as text
            return [obj, *_strings(json.loads(obj))]
        except (json.JSONDecodeError, ValueError):
            return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassettes_hold_no_secrets(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for interaction in data["interactions"]:
        for part in ("request", "response"):
            headers = {k.lower() for k in interaction[part].get("headers", {})}
            assert not headers & set(SECRET_HEADERS), f"{path.name}: {part} keeps a secret header"
    for text in _strings(data):
        for pattern in _KEY_PATTERNS:
            assert not pattern.search(text), f"{path.name}: {pattern.pattern} found"


def test_there_is_a_cassette() -> None:
    assert list(CASSETTES.glob("*.yaml")), "the replay test needs a recorded cassette"
