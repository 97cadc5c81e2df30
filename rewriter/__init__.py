"""h2h: rewrite a support agent's draft so it reads human to human; block replies that break rules.

One public entry function per job: `rewrite` (and `arewrite` for event loops), `check`, `evaluate`.
Names are imported on first use (PEP 562) so `h2h check` does not load the eval or model code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "check": "rewriter.guard.engine",
    "rewrite": "rewriter.model.loop",
    "arewrite": "rewriter.model.loop",
    "evaluate": "rewriter.evals.evaluate",
    "Case": "rewriter.models",
    "CheckResult": "rewriter.models",
    "Message": "rewriter.models",
    "RewriteResult": "rewriter.models",
    "Usage": "rewriter.models",
    "Violation": "rewriter.models",
    "Completion": "rewriter.model.llm",
    "ModelConfig": "rewriter.model.llm",
    "H2HError": "rewriter.errors",
    "ModelError": "rewriter.errors",
    "RuleFileError": "rewriter.errors",
    "TemplateError": "rewriter.errors",
    "UsageError": "rewriter.errors",
}

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

if TYPE_CHECKING:
    from rewriter.errors import H2HError, ModelError, RuleFileError, TemplateError, UsageError
    from rewriter.evals.evaluate import evaluate
    from rewriter.guard.engine import check
    from rewriter.model.llm import Completion, ModelConfig
    from rewriter.model.loop import arewrite, rewrite
    from rewriter.models import Case, CheckResult, Message, RewriteResult, Usage, Violation


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rewriter' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
