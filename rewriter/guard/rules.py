"""Rule files under guardrails/: one YAML file per rule id (Vale-style: the id is the file name).

A rule names a `kind` (the code that runs it, see rewriter/guard/checks.py), carries its Russian
message, its lexicons and parameters, an optional safe `fix`, and examples that must and must
not fire. The examples run as tests, so a support lead can tune a lexicon and see at once what
it changed.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import VERSION as PYDANTIC_VERSION
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rewriter.errors import RuleFileError
from rewriter.paths import (
    CACHE_VERSIONS,
    cache_root,
    folder_digest,
    read_yaml,
    rule_dirs,
    write_cache_file,
)

# The check kinds a rule file may name (rewriter/guard/checks.py registers one function each).
Kind = Literal[
    "phrases",
    "pattern",
    "unsupported",
    "lost",
    "constraint",
    "register",
    "groups",
    "contradiction",
    "coverage",
    "language",
    "self-reference",
    "reply-form",
]
KINDS: tuple[str, ...] = get_args(Kind)
SEVERITIES = ("block", "warn")


class ThreadMessage(BaseModel):
    """A message of an example's thread (the same keys as a case file's)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    author: Literal["customer", "agent"]
    text: str
    name: str | None = None


class Example(BaseModel):
    """A small case: a reply plus just enough thread/draft/facts to make the rule meaningful."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    reply: str | None = None  # none: the draft is checked (with `grounded`, against the facts)
    customer: str | list[str] | None = None  # shorthand for customer messages
    thread: list[ThreadMessage] | None = None
    draft: str | None = None
    facts: list[str] = Field(default_factory=list)
    name: str | None = None
    note: str | None = None
    grounded: bool = False  # check as `h2h check --grounded` does

    @model_validator(mode="after")
    def _checks_something(self) -> Example:
        if self.reply is None and self.draft is None:
            raise ValueError("an example needs a reply or a draft")
        return self

    @property
    def text(self) -> str:
        """What the example checks: the reply, or the draft when there is none."""
        return self.reply if self.reply is not None else self.draft or ""

    def case_data(self) -> dict[str, Any]:
        thread = [m.model_dump() for m in self.thread or []]
        if self.customer is not None:
            texts = [self.customer] if isinstance(self.customer, str) else self.customer
            thread += [{"author": "customer", "text": t, "name": self.name} for t in texts]
        return {"thread": thread, "draft": self.draft, "facts": self.facts, "reply": self.reply}


def _reply_only(value: Any) -> Any:
    """An example written as a bare string is its reply."""
    return {"reply": value} if isinstance(value, str) else value


ExampleItem = Annotated[Example, BeforeValidator(_reply_only)]


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    fire: list[ExampleItem] = Field(default_factory=list)
    pass_: list[ExampleItem] = Field(default_factory=list, alias="pass")


class Fix(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    action: Literal["lowercase", "replace", "drop_sentence", "strip"]
    keep_facts: bool = True  # never drop a sentence that carries a fact, unless told


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    severity: Literal["block", "warn"]
    kind: Kind
    description: str
    message: str
    # Checked against the kind's own schema (PARAMS_SCHEMAS of its module) when the engine
    # loads the rules; kept as the file wrote it, for the kinds to read.
    params: dict[str, Any] = Field(default_factory=dict)
    fix: Fix | None = None
    examples: Examples = Field(default_factory=Examples)
    path: Path | None = None

    @property
    def one_line(self) -> str:
        return " ".join(self.description.split())

    @field_validator("message")
    @classmethod
    def _fillable(cls, v: str) -> str:
        template_fields(v)
        return v


def template_fields(template: str) -> set[str]:
    """The {placeholders} of a message or wording; a brace the formatter cannot read («{» alone)
    is the file's error, found at load rather than as a traceback at the first violation."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError as exc:
        raise ValueError(f"cannot fill {{placeholders}}: {exc}") from None


def key_path(loc: Sequence[Any]) -> str:
    """pydantic's error location as a rule file's key path: «params.lexicon.phrases[3].phrse»."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("function-"):
            continue  # a validator's own tag, not a key of the file
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def rule_file_error(where: Path | str, exc: ValidationError, prefix: str = "") -> RuleFileError:
    """One line naming the file, the key path and what is wrong with the first error."""
    errors = exc.errors()
    # An unknown key explains the rest («phrse:» is also a missing «phrase:»): name it first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    head = [prefix] if prefix else []
    loc = key_path([*head, *err["loc"]])
    message = _MESSAGES.get(err["type"]) or err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        others = [key_path([*head, *e["loc"]]) for e in errors if e["type"] == "extra_forbidden"]
        others = others[1:]
        if others:
            message += f" (also: {', '.join(others[:3])})"
    return RuleFileError(f"{where}: {loc}: {message}")


def _load(path: Path) -> Rule:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RuleFileError(f"{path}: a rule file must be a mapping of keys (id, kind, …)")
    try:
        rule = Rule.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise rule_file_error(path, exc) from None
    if rule.id != path.stem:
        raise RuleFileError(f"{path}: id: {rule.id!r} must match the file name")
    return rule


def load_rules(folder: Path | tuple[Path, ...] | None = None) -> tuple[Rule, ...]:
    """Every rule of the rule folders in use (paths.rule_dirs: the shipped one, then a team's),
    in a stable order: block rules first, then by id. A later folder's file replaces the rule
    with the same id. One folder may be given (a test's, or a team's on its own)."""
    if folder is None:
        folder = rule_dirs()
    return _load_rules((folder,) if isinstance(folder, Path) else tuple(folder))


@cache
def _load_rules(folders: tuple[Path, ...]) -> tuple[Rule, ...]:
    trusted = validated_marker(folders).exists()
    by_id: dict[str, Rule] = {}
    for one in folders:
        for path in sorted(one.glob("*.yaml")):
            rule = _construct(read_yaml(path), path) if trusted else _load(path)
            by_id[rule.id] = rule
    if not by_id:
        raise RuleFileError(f"no rule files in {', '.join(str(f) for f in folders)}")
    rules = tuple(sorted(by_id.values(), key=lambda r: (r.severity != "block", r.id)))
    if trusted:
        _TRUSTED[id(rules)] = rules
    return rules


load_rules.cache_clear = _load_rules.cache_clear  # type: ignore[attr-defined]

# --- the fast path: files this code has validated before are not validated again ---------------
#
# Validating the rule files builds pydantic schemas for every level of a rule and of each kind's
# params (~40 ms, more than the rest of a `h2h check` start-up). Once a set of rule folders has
# passed, a marker in the cache says so, keyed by the folders' bytes and by this package's code;
# the next start builds the same objects without validating. Any edit makes a new key.

_TRUSTED: dict[int, tuple[Rule, ...]] = {}


def validated_marker(folders: tuple[Path, ...]) -> Path:
    guard = Path(__file__).resolve().parent
    # The code that validates: the kinds and their params schemas, and the phrase syntax.
    code = [*sorted(guard.glob("*.py")), guard.parent / "analysis" / "lexicon.py"]
    digest = hashlib.sha256(f"pydantic {PYDANTIC_VERSION};".encode())
    for source in code:
        st = source.stat()
        digest.update(f"{source.name}:{st.st_mtime_ns}:{st.st_size};".encode())
    for folder in folders:
        digest.update(f"{folder}={folder_digest(folder)};".encode())
    return cache_root() / "data" / f"rules-valid-{digest.hexdigest()[:16]}"


def is_validated(rules: tuple[Rule, ...]) -> bool:
    """These rules were built from files validated before (see validated_marker)."""
    return _TRUSTED.get(id(rules)) is rules


def mark_validated(rules: tuple[Rule, ...], folders: tuple[Path, ...]) -> None:
    """Record that `folders` passed every check (the engine calls it after the params too)."""
    _TRUSTED[id(rules)] = rules
    write_cache_file(validated_marker(folders), "ok\n", keep_versions=CACHE_VERSIONS)


_EXAMPLE_DEFAULTS: dict[str, Any] = {
    "reply": None,
    "customer": None,
    "thread": None,
    "draft": None,
    "facts": (),
    "name": None,
    "note": None,
    "grounded": False,
}


def _construct(data: dict[str, Any], path: Path) -> Rule:
    """A Rule from a file known to be valid, without validation (no schema is built)."""

    def example(item: Any) -> Example:
        fields = {**_EXAMPLE_DEFAULTS, **_reply_only(item)}
        fields["facts"] = list(fields["facts"])  # every field given: no default_factory to run
        if fields["thread"] is not None:
            fields["thread"] = [
                ThreadMessage.model_construct(**{"name": None, **m}) for m in fields["thread"]
            ]
        return Example.model_construct(**fields)

    examples = data.get("examples") or {}
    fix = data.get("fix")
    return Rule.model_construct(
        **{k: v for k, v in data.items() if k not in ("fix", "examples", "params")},
        params=data.get("params") or {},
        fix=Fix.model_construct(**{"keep_facts": True, **fix}) if fix else None,
        examples=Examples.model_construct(
            fire=[example(e) for e in examples.get("fire") or []],
            pass_=[example(e) for e in examples.get("pass") or []],
        ),
        path=path,
    )


def rule_by_id(rule_id: str) -> Rule:
    for rule in load_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


_BY_ID: dict[int, tuple[tuple[Rule, ...], dict[str, Rule]]] = {}


def rules_by_id() -> dict[str, Rule]:
    """The rules in use by id, rebuilt only when the loaded rules change."""
    rules = load_rules()
    held = _BY_ID.get(0)
    if held is None or held[0] is not rules:
        held = _BY_ID[0] = (rules, {r.id: r for r in rules})
    return held[1]
