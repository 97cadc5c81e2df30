"""h2h: rewrite a support agent's draft so it reads human to human; block replies that break rules.

One public entry function per job: `rewrite` (and `arewrite` for event loops), `check`, `evaluate`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from rewriter.engine import check
from rewriter.errors import H2HError, ModelError, RuleFileError, TemplateError, UsageError
from rewriter.evaluate import evaluate
from rewriter.llm import Completion, ModelConfig
from rewriter.loop import arewrite, rewrite
from rewriter.models import Case, CheckResult, Message, RewriteResult, Usage, Violation

__all__ = [
    "Case",
    "CheckResult",
    "Completion",
    "H2HError",
    "Message",
    "ModelConfig",
    "ModelError",
    "RewriteResult",
    "RuleFileError",
    "TemplateError",
    "Usage",
    "UsageError",
    "Violation",
    "__version__",
    "arewrite",
    "check",
    "evaluate",
    "rewrite",
]
