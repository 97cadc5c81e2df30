"""The error hierarchy: kept short so the CLI can map each class to one exit code."""

from __future__ import annotations


class H2HError(Exception):
    """Base of every error h2h raises on purpose."""


class UsageError(H2HError):
    """Bad input or bad usage: the CLI prints one line and exits 2."""


class RuleFileError(UsageError):
    """A rule or lexicon file under guardrails/ is malformed (a team edited it wrong)."""


class TemplateError(UsageError):
    """A prompt template is missing or refers to a variable that does not exist."""


class ModelError(H2HError):
    """A model call failed in a way the rewrite loop records and falls back from."""
