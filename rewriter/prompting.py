"""Messages for the model, rendered from prompts/ (jinja2, sandboxed, StrictUndefined).

The system prompt is static (identical across calls, so provider prompt caching applies);
everything about this case goes into the user message.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from rewriter.errors import TemplateError
from rewriter.models import Case, Violation
from rewriter.paths import prompts_dir, read_yaml
from rewriter.situation import Situation, analyse_thread


@cache
def _env(folder: Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render(name: str, **variables: Any) -> str:
    folder = prompts_dir()
    try:
        return _env(folder).get_template(name).render(**variables).strip()
    except jinja2.TemplateNotFound:
        raise TemplateError(f"prompt template {name!r} not found in {folder}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"prompt template {name!r}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"prompt template {name!r}: {exc}") from None


@cache
def _situation_texts(folder: Path) -> dict[str, str]:
    path = folder / "situation.yaml"
    return read_yaml(path) if path.exists() else {}


def situation_lines(situation: Situation) -> list[str]:
    """The lines of prompts/situation.yaml whose condition holds for this thread."""
    texts = _situation_texts(prompts_dir())
    reg = situation.register
    flags = {
        "legal_dispute": bool(situation.legal_dispute),
        "angry": bool(situation.angry),
        "grave": bool(situation.grave),
        "uses_ty": reg.uses_ty,
        "formal": not reg.uses_ty and (reg.uses_vy or reg.formal_greeting),
        "playful": reg.playful > 0 and not situation.serious,
    }
    flags |= {f"constraint_{cid}": True for cid in situation.constraints}
    lines = [texts[key] for key, on in flags.items() if on and key in texts]
    if situation.customer_name and "name" in texts:
        lines.append(texts["name"].format(name=situation.customer_name))
    return lines


def build_messages(case: Case) -> list[dict[str, str]]:
    situation = analyse_thread(case.customer_texts, case.customer_name)
    return [
        {"role": "system", "content": render("system.j2")},
        {
            "role": "user",
            "content": render(
                "user.j2",
                thread=case.thread,
                facts=case.facts,
                draft=case.draft or "",
                situation_lines=situation_lines(situation),
            ),
        },
    ]


def reask_message(violations: list[Violation]) -> dict[str, str]:
    return {"role": "user", "content": render("reask.j2", violations=violations)}
