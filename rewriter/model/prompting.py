"""Messages for the model, rendered from prompts/ (jinja2, sandboxed, StrictUndefined).

The system prompt is static for a team (principles, constraints, the team's own guidelines), so
provider prompt caching applies; everything about this case goes into the user message: the
situation lines that hold, up to three few-shot examples chosen for this situation, the thread,
the facts and the draft — delimited as data.

A team overrides any template or data file by putting its own in a folder (`--prompts DIR` or
H2H_PROMPTS); files it does not override come from the shipped prompts/.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from rewriter.analysis.situation import Situation, analyse_thread, thread_topics
from rewriter.errors import TemplateError, UsageError
from rewriter.models import Case, Violation
from rewriter.paths import data_dir, read_yaml

MAX_GUIDELINES = 10_000
MAX_EXAMPLES = 3
# What the model most needs to see handled: a dispute, anger or an impossible request outweighs
# the topic of the thread when examples are chosen.
_TAG_WEIGHT = {"legal_dispute": 4, "angry": 3, "grave": 3, "constraint": 3, "playful": 2}


@dataclass(frozen=True)
class PromptSettings:
    """Where templates come from and the team's own guidelines."""

    folder: Path | None = None
    guidelines: str | None = None

    @staticmethod
    def resolve(
        prompts: Path | str | None = None, guidelines: Path | str | None = None
    ) -> PromptSettings:
        """Arguments first, then H2H_PROMPTS and H2H_GUIDELINES (a Markdown file)."""
        folder = prompts or os.environ.get("H2H_PROMPTS") or None
        if folder is not None and not Path(folder).is_dir():
            raise UsageError(f"{folder}: the prompts folder does not exist")
        source = guidelines or os.environ.get("H2H_GUIDELINES") or None
        text = None
        if source is not None:
            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"{source}: cannot read the guidelines: {exc}") from None
            if len(text) > MAX_GUIDELINES:
                raise UsageError(
                    f"{source}: guidelines are {len(text)} characters, "
                    f"over the limit of {MAX_GUIDELINES}"
                )
        return PromptSettings(Path(folder) if folder else None, text or None)


@cache
def _env(folder: Path | None) -> SandboxedEnvironment:
    loaders: list[jinja2.BaseLoader] = []
    if folder is not None:
        loaders.append(jinja2.FileSystemLoader(str(folder)))
    loaders.append(jinja2.FileSystemLoader(str(data_dir("prompts"))))
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render(name: str, settings: PromptSettings | None = None, **variables: Any) -> str:
    settings = settings or PromptSettings.resolve()
    try:
        return _env(settings.folder).get_template(name).render(**variables).strip()
    except jinja2.TemplateNotFound:
        raise TemplateError(f"prompt template {name!r} not found") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"prompt template {name!r}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"prompt template {name!r}: {exc}") from None


@cache
def prompt_data(folder: Path | None, name: str) -> Any:
    """A data file of prompts/ (situation.yaml, examples.yaml, judge.yaml): the team's copy
    wins."""
    for base in (folder, data_dir("prompts")):
        if base is not None and (base / name).exists():
            return read_yaml(base / name)
    return None


def situation_tags(situation: Situation) -> set[str]:
    """The flags and topics of a thread, by the names prompts/*.yaml use."""
    reg = situation.register
    tags = set(thread_topics(situation.customer_texts))
    flags = {
        "legal_dispute": bool(situation.legal_dispute),
        "angry": bool(situation.angry),
        "grave": bool(situation.grave),
        "uses_ty": reg.uses_ty,
        "formal": not reg.uses_ty and (reg.uses_vy or reg.formal_greeting),
        "playful": reg.playful > 0 and not situation.serious,
        "constraint": bool(situation.constraints),
        "injection": bool(situation.injection),
    }
    tags |= {k for k, on in flags.items() if on}
    tags |= {f"constraint_{cid}" for cid in situation.constraints}
    return tags


def situation_lines(situation: Situation, settings: PromptSettings | None = None) -> list[str]:
    """The lines of prompts/situation.yaml whose condition holds for this thread, in file order."""
    settings = settings or PromptSettings.resolve()
    texts: dict[str, str] = prompt_data(settings.folder, "situation.yaml") or {}
    tags = situation_tags(situation)
    if situation.customer_name:
        tags.add("name")
    # The file's order is the prompt's order: a team that overrides the file controls both.
    return [
        line.format(name=situation.customer_name) if key == "name" else line
        for key, line in texts.items()
        if key in tags
    ]


def choose_examples(
    situation: Situation, settings: PromptSettings | None = None
) -> list[dict[str, Any]]:
    """Up to three seed examples that share the most tags with this thread (file order breaks ties).

    A legal dispute or an angry customer must not be shown a playful example, whatever else matches.
    """
    settings = settings or PromptSettings.resolve()
    examples: list[dict[str, Any]] = prompt_data(settings.folder, "examples.yaml") or []
    tags = situation_tags(situation)
    scored = []
    for order, ex in enumerate(examples):
        when = set(ex.get("when", []))
        if situation.serious and "playful" in when:
            continue
        score = sum(_TAG_WEIGHT.get(tag, 1) for tag in when & tags)
        if score:
            scored.append((-score, order, ex))
    chosen = [ex for _, _, ex in sorted(scored, key=lambda s: (s[0], s[1]))[:MAX_EXAMPLES]]
    for ex in chosen:
        missing = {"customer", "draft", "reply"} - set(ex)
        if missing:
            raise TemplateError(
                f"examples.yaml: {ex.get('id', '?')} lacks {', '.join(sorted(missing))}"
            )
    return [{"facts": [], **ex} for ex in chosen]


def build_messages(case: Case, settings: PromptSettings | None = None) -> list[dict[str, str]]:
    settings = settings or PromptSettings.resolve()
    situation = analyse_thread(case.customer_texts, case.customer_name)
    return [
        {
            "role": "system",
            "content": render("system.j2", settings, guidelines=settings.guidelines),
        },
        {
            "role": "user",
            "content": render(
                "user.j2",
                settings,
                thread=case.thread,
                facts=case.facts,
                draft=case.draft or "",
                situation_lines=situation_lines(situation, settings),
                examples=choose_examples(situation, settings),
            ),
        },
    ]


def reask_message(
    violations: list[Violation], settings: PromptSettings | None = None
) -> dict[str, str]:
    return {"role": "user", "content": render("reask.j2", settings, violations=violations)}
