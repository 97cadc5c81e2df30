"""Is a model configuration usable at all? Answered before the first request, without litellm.

A missing key, a base URL without a scheme or a provider nobody knows is a mistake of the
person running h2h, not a fault of the provider: retrying it three times and quietly falling
back to the offline engine hides it. `validate` raises a UsageError (exit 2, one line) instead,
and no request is sent.

Importing litellm costs about 2.8 s, so its knowledge is read as data: the provider names from
its `LlmProviders` enum (source text) and its bundled price map (JSON), and the key variables
from the table below, copied from `litellm.utils.validate_environment` (which needs the import).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from rewriter.errors import UsageError

# Provider -> the environment variables litellm reads its key from (any one is enough).
# Providers missing here (cloud ones with their own credential chains: bedrock, vertex_ai,
# sagemaker, watsonx…) are not checked: their SDKs find credentials in too many places.
KEY_ENV: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "text-completion-openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
    "azure": ("AZURE_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "codestral": ("CODESTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "cohere_chat": ("COHERE_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY",),
    "fireworks_ai": (
        "FIREWORKS_AI_API_KEY",
        "FIREWORKS_API_KEY",
        "FIREWORKSAI_API_KEY",
        "FIREWORKS_AI_TOKEN",
    ),
    "xai": ("XAI_API_KEY",),
    "perplexity": ("PERPLEXITYAI_API_KEY",),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "huggingface": ("HUGGINGFACE_API_KEY",),
    "replicate": ("REPLICATE_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
    "nvidia_nim": ("NVIDIA_NIM_API_KEY",),
    "moonshot": ("MOONSHOT_API_KEY",),
    "dashscope": ("DASHSCOPE_API_KEY",),
    "novita": ("NOVITA_API_KEY",),
    "nebius": ("NEBIUS_API_KEY",),
    "ai21": ("AI21_API_KEY",),
    "ai21_chat": ("AI21_API_KEY",),
    "anyscale": ("ANYSCALE_API_KEY",),
    "volcengine": ("VOLCENGINE_API_KEY",),
}

# Servers that run on the user's own machine or network: no key is ever needed.
KEYLESS: frozenset[str] = frozenset(
    {
        "ollama",
        "ollama_chat",
        "lm_studio",
        "vllm",
        "hosted_vllm",
        "llamafile",
        "xinference",
        "triton",
        "custom",
        "custom_openai",
    }
)

_ENUM_VALUE = re.compile(r'^\s+[A-Z0-9_]+\s*=\s*"([^"]+)"', re.M)


def _litellm_file(*parts: str) -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if not spec or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)), *parts)


@cache
def _price_map() -> dict[str, object]:
    path = _litellm_file("model_prices_and_context_window_backup.json")
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}


@cache
def known_providers() -> frozenset[str]:
    """Every provider prefix litellm accepts, read from its source without importing it."""
    names = set(KEY_ENV) | KEYLESS
    path = _litellm_file("types", "utils.py")
    try:
        source = path.read_text(encoding="utf-8") if path else ""
    except OSError:
        source = ""
    start = source.find("class LlmProviders(")
    if start >= 0:
        end = source.find("\nclass ", start + 1)
        names.update(_ENUM_VALUE.findall(source[start : end if end > 0 else None]))
    for entry in _price_map().values():
        if isinstance(entry, dict) and isinstance(entry.get("litellm_provider"), str):
            names.add(entry["litellm_provider"])
    return frozenset(names)


def provider_of(model: str) -> str | None:
    """`anthropic/claude-…` → anthropic; a bare id litellm knows (`gpt-4o-mini`) → its
    provider; anything else → None."""
    prefix, slash, _ = model.partition("/")
    if slash and prefix in known_providers():
        return prefix
    entry = _price_map().get(model)
    if isinstance(entry, dict) and isinstance(entry.get("litellm_provider"), str):
        return entry["litellm_provider"]
    return None


def check_api_base(api_base: str, origin: str = "the API base URL") -> None:
    """An http(s) URL with a host; `localhost:8000/v1` would be read as a scheme `localhost`."""
    try:
        parts = urlsplit(api_base)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise UsageError(f"{origin} {api_base!r} is not a URL") from None
    if "://" not in api_base:
        raise UsageError(
            f"{origin} {api_base!r} has no scheme: write http://{api_base.lstrip('/')} "
            "(or https://…)"
        )
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{origin} {api_base!r}: the scheme must be http or https")
    if not parts.hostname:
        raise UsageError(f"{origin} {api_base!r} has no host")


def is_local(api_base: str) -> bool:
    """A loopback or private-network address: the user's own server."""
    host = urlsplit(api_base).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def validate(model: str, api_base: str | None, api_key: str | None) -> None:
    """Raise UsageError when `model` cannot work as configured; send nothing."""
    if not model.strip():
        raise UsageError("the model id is empty")
    if api_base is not None:
        check_api_base(api_base)
    provider = provider_of(model)
    if provider is None:
        prefix, slash, rest = model.partition("/")
        if slash:
            raise UsageError(
                f"unknown provider {prefix!r} in model {model!r}: use a litellm provider prefix "
                f"(openai/, anthropic/, ollama/…), or openai/{rest} for an OpenAI-compatible "
                "server given by --api-base"
            )
        raise UsageError(
            f"model {model!r} names no provider: write it as provider/model, e.g. "
            f"openai/{model} (with --api-base for an OpenAI-compatible server)"
        )
    if api_base is not None or api_key or provider in KEYLESS:
        return  # the server named by --api-base decides; a 401 from it is not retried either
    wanted = KEY_ENV.get(provider)
    if wanted and not any(os.environ.get(var) for var in wanted):
        raise UsageError(
            f"no API key for {model!r}: set {' or '.join(wanted)} (or H2H_API_KEY), "
            "or give --api-base for a local server"
        )
