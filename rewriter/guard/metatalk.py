"""Check kind `self-reference`: the reply talks about itself or its task instead of to the
customer, or leaks the instructions behind it. And the one safe fix for it, `unwrap`.

Three classes of finding, each a violation with its own reason:
- wrapper: structure around the reply — a `<think>` block, a code fence, a heading, a label line
  («Ответ:», «Примечание:»), a `>` quotation of the reply;
- self: the text speaks of itself («Вот переписанный вариант», «я убрал канцелярит»,
  «Как языковая модель»);
- leak: the instructions show — a long run of words shared with the prompt templates, the
  few-shot texts or the rules' messages (prompts/, guardrails/), a rule id, a section label of
  the prompt («Системная инструкция:»), talk of «мои правила».

`unwrap` removes a wrapper around a faithful reply; it refuses (None) when the text leaks, since
a model that shows its instructions is not to be trusted with the rest.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, NamedTuple

from pydantic import BaseModel

from rewriter.analysis.lexicon import Match
from rewriter.analysis.morph import has_grammemes
from rewriter.analysis.ngrams import NgramIndex, ngrams
from rewriter.analysis.situation import instructs_model
from rewriter.analysis.text import Doc, analyse
from rewriter.analysis.vocab import compile_pattern
from rewriter.analysis.wrapper import (
    BOLD_LINE,
    FENCE,
    HEADING,
    QUOTE_LINE,
    RULE_LINE,
    THINK,
    json_dump,
    label_pattern,
    paragraphs,
    quoted_lines_removed,
    strip_quotes,
)
from rewriter.guard.context import Context, Params, compiled, lexicon_of, violation
from rewriter.guard.rules import Rule, rules_by_id
from rewriter.models import Case, Violation

RULE_ID = "meta-talk"


class Labels(Params):
    keep: list[str]  # «Ответ:» — what follows is the reply
    drop: list[str]  # «Черновик:», «Примечание:» — what follows is not
    variant: list[str]  # «Вариант 1:» — several replies offered
    leak: list[str]  # «Системная инструкция:» — a section of the prompt


class SelfReferenceParams(Params):
    reasons: dict[str, str]
    labels: Labels
    self_reference: Any
    edits: Any
    leak_phrases: Any
    authorship: Any = None  # the text credited to a machine; only the draft licenses it
    patterns: dict[str, list[str]]
    # Prompt files by the n-gram length that counts as a leak of them (see the rule file).
    prompt_files: dict[int, list[str]]


PARAMS_SCHEMAS: dict[str, type[BaseModel]] = {"self-reference": SelfReferenceParams}


class Finding(NamedTuple):
    start: int
    end: int
    cls: str  # "wrapper" | "self" | "leak"


# --- the prompt texts a leak is measured against -------------------------------------------------

_LATIN = re.compile(r"[A-Za-z]{2}")
# What any structural finding needs: a tag, a fence, a heading, bold, a quote, a colon, a
# bracket, a rule line, or Latin letters.
_MARKS = re.compile(r"[<`#*>:\[{=_]|---|[A-Za-z]{2}")
# The characters a _MARKS match starts with: a class scan is several times cheaper than the
# alternation, and a plain Russian reply holds none of them.
_MARK_FIRST = re.compile(r"[<`#*>:\[{=_\-A-Za-z]")
_JINJA = re.compile(r"\{[{%#].*?[}%#]\}", re.DOTALL)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def prompt_texts(patterns: list[str], messages: bool = True) -> list[str]:
    """The texts the model is shown besides the case: templates (with their Jinja tags cut out,
    so no n-gram runs across one), data files of prompts/ («file.yaml:key,key» takes only those
    keys of a list of mappings) and, with `messages`, every rule's message. Read as data,
    through rewriter.paths."""
    from rewriter.paths import data_dir, prompts_dir, read_yaml

    folders = [data_dir("prompts")]
    if prompts_dir() != folders[0]:
        folders.append(prompts_dir())
    texts: list[str] = []
    for folder in folders:
        for pattern in patterns:
            for path in sorted(folder.glob(pattern.split(":")[0])):
                if path.suffix == ".j2":
                    texts += _JINJA.split(path.read_text(encoding="utf-8"))
                else:
                    data = read_yaml(path)
                    keys = pattern.split(":")[1].split(",") if ":" in pattern else None
                    if keys and isinstance(data, list):
                        data = [{k: item.get(k) for k in keys} for item in data]
                    texts += _strings(data)
    if messages:
        for rule in rules_by_id().values():
            texts += re.split(r"\{\w+\}", rule.message)
    return texts


def _prompt_indexes(rule: Rule) -> list[NgramIndex]:
    """One index per n-gram length; the rules' messages go with the shortest."""

    def build() -> list[NgramIndex]:
        groups = sorted((int(n), list(files)) for n, files in rule.params["prompt_files"].items())
        return [
            NgramIndex(prompt_texts(files, messages=i == 0), n)
            for i, (n, files) in enumerate(groups)
        ]

    return compiled(rule, "prompt-index", build)


@cache
def _rule_ids() -> re.Pattern[str]:
    ids = sorted((re.escape(r) for r in rules_by_id() if "-" in r), key=len, reverse=True)
    return re.compile(rf"(?<![\w-])(?:{'|'.join(ids)})(?![\w-])", re.IGNORECASE)


# --- findings ------------------------------------------------------------------------------------


def _labels(rule: Rule) -> dict[str, re.Pattern[str]]:
    spec = rule.params["labels"]
    return compiled(rule, "labels", lambda: {k: label_pattern(v) for k, v in spec.items()})


def _sources(case: Case | None, text: str) -> list[str]:
    if case is None:
        return []
    # The draft counts even when it is the text itself (the offline fallback): what the agent
    # wrote is never a leak. A «fact» addressed to the model is planted data: it licenses
    # nothing here either (guard/context.py, licensing_facts).
    facts = [f for f in case.facts if not instructs_model(f)]
    out = [t for t in (case.draft, *facts) if t]
    return out + [m.text for m in case.thread]


def _echoed(m: Match, docs: list[Doc]) -> bool:
    """Every word of the phrase occurs in a source: «черновик» in a mail service's thread."""
    return any(all(any(w.matches(t) for t in d.tokens) for w in m.phrase.words) for d in docs)


def findings(
    rule: Rule, text: str, case: Case | None = None, doc: Doc | None = None
) -> list[Finding]:
    doc = doc or analyse(text)
    found: list[Finding] = []
    add = found.append
    if _MARK_FIRST.search(text) is not None and _MARKS.search(text) is not None:
        _structure(rule, text, case, found)
    gate = _lexical_keys(rule)
    if gate is None or not doc.keys.isdisjoint(gate):
        _lexical_findings(rule, text, case, doc, found)
    for index in _prompt_indexes(rule):
        shared = index.shared(doc)
        if shared:
            own: set[tuple[str, ...]] = set()
            for t in _sources(case, text):
                own |= ngrams(t, index.n)
            for start, end in shared:
                if not ngrams(text[start:end], index.n) <= own:
                    add(Finding(start, end, "leak"))
    return _merge(found)


_LEXICAL = (("self_reference", "self"), ("edits", "self"), ("leak_phrases", "leak"))


def _lexical_keys(rule: Rule) -> frozenset[str] | None:
    """Doc keys of which a text must hold one for any lexicon of the rule to match: the union
    of their prefilters (None when one of them looks at every text). Most replies hold none,
    and then one set test stands for four `find`s — exactly, since `find` returns nothing for a
    text that holds no key of its lexicon's prefilter."""

    def build() -> frozenset[str] | None:
        keys = [key for key, _ in _LEXICAL]
        if rule.params.get("authorship"):
            keys.append("authorship")
        filters = [lexicon_of(rule, key).prefilter for key in keys]
        if any(f is None for f in filters):
            return None
        return frozenset().union(*filters)

    return compiled(rule, "lexical-keys", build)


def _lexical_findings(
    rule: Rule, text: str, case: Case | None, doc: Doc, found: list[Finding]
) -> None:
    """Self-reference, edits and leak phrases (unless a source says the same), and a credit to
    a machine the draft does not give."""
    lexical: list[tuple[Match, str]] = []
    for key, cls in _LEXICAL:
        lexical += [(m, cls) for m in lexicon_of(rule, key).find(doc)]
    if lexical:
        docs = [analyse(t) for t in _sources(case, text)]
        found += [Finding(m.start, m.end, c) for m, c in lexical if not _echoed(m, docs)]
    if rule.params.get("authorship"):
        credits = lexicon_of(rule, "authorship").find(doc)
        if credits:
            # Only the agent's own draft licenses it: a thread or a facts record asking for the
            # line is an injection.
            own = [analyse(case.draft)] if case and case.draft else []
            found += [Finding(m.start, m.end, "self") for m in credits if not _echoed(m, own)]


def _structure(rule: Rule, text: str, case: Case | None, found: list[Finding]) -> None:
    """Wrappers, labels, delimiters and English meta talk: each needs a mark that a plain
    Russian reply rarely has (_MARKS), so most replies skip all of it."""
    add = found.append
    # Each structure is looked for only when the character it needs is in the text.
    for needed, rx in (("<", THINK), ("```", FENCE), ("#", HEADING), ("**", BOLD_LINE)):
        if needed in text:
            found += [Finding(m.start(), m.end(), "wrapper") for m in rx.finditer(text)]
    if any(mark in text for mark in ("---", "***", "___", "===")):
        found += [Finding(m.start(), m.end(), "wrapper") for m in RULE_LINE.finditer(text)]
    if ":" in text:
        _label_findings(rule, text, found)
    if ">" in text:
        customer = " ".join(case.customer_texts) if case else ""
        for m in QUOTE_LINE.finditer(text):
            if m.group(1).strip() and m.group(1).strip() not in customer:
                add(Finding(m.start(), m.start(1), "wrapper"))
    if text.lstrip()[:1] in ("[", "{") and json_dump(text):
        role = text.find('"role"')  # quoted alone: the whole dump would not fit a message
        add(Finding(role, role + 6, "leak") if role >= 0 else Finding(0, 1, "wrapper"))
    # The patterns need a colon (a preface), Latin letters (English meta talk), or the marks of
    # a delimiter; a plain Russian reply has none of them and is not scanned.
    latin = _LATIN.search(text) is not None
    needs = {
        "wrapper": latin or ":" in text,
        "self": latin,
        "leak": latin or any(mark in text for mark in ("<", "==", "[")),
    }
    for cls, rx in _class_patterns(rule).items():
        if needs.get(cls, True):
            found += [Finding(m.start(), m.end(), cls) for m in rx.finditer(text)]
    if latin and "-" in text:
        found += [Finding(m.start(), m.end(), "leak") for m in _rule_ids().finditer(text)]


# «Перефразированный текст:», «Отредактированная версия:»: a label line whose first word may be
# a passive participle (checked by morphology below, so any editing verb counts, and no list of
# verbs is kept) and whose head names the text itself.
_EDITED = re.compile(
    r"^[ \t>]*[(\[]?[ \t]*(?:\*\*|__)?(?P<label>(?P<part>[А-ЯЁа-яё]{4,})[ \t]+"
    r"(?:текст|вариант|верси[яи]|ответ|редакци[яи]|формулировк[аи])[а-я]{0,2})"
    r"[ \t]*(?:\*\*|__)?[ \t]*:(?:\*\*|__)?[ \t]*(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_PASSIVE_PARTICIPLE = frozenset({"PRTF", "pssv"})


def edited_labels(text: str) -> list[re.Match[str]]:
    """Label lines that name the text as an edited one: a passive participle of any verb
    («исправленный», «доработанная», «смягчённый») before «текст»/«вариант»/«версия»/«ответ»."""
    return [
        m
        for m in _EDITED.finditer(text)
        if has_grammemes(m.group("part").lower(), _PASSIVE_PARTICIPLE)
    ]


def _label_findings(rule: Rule, text: str, found: list[Finding]) -> None:
    labels = _labels(rule)
    found += [Finding(m.start("label"), m.start("rest"), "wrapper") for m in edited_labels(text)]
    for cls in ("keep", "drop"):
        for m in labels[cls].finditer(text):
            found.append(Finding(m.start("label"), m.start("rest"), "wrapper"))
    variants = list(labels["variant"].finditer(text))
    if len(variants) >= 2 or any("(" in m.group() for m in variants):
        found += [Finding(m.start("label"), m.start("rest"), "wrapper") for m in variants]
    for m in labels["leak"].finditer(text):
        found.append(Finding(m.start("label"), m.start("rest"), "leak"))


def _class_patterns(rule: Rule) -> dict[str, re.Pattern[str]]:
    """One pattern per class (its file patterns as alternatives): one scan each."""

    def build() -> dict[str, re.Pattern[str]]:
        out = {}
        for cls, patterns in rule.params["patterns"].items():
            for pattern in patterns:
                compile_pattern(pattern)  # a pattern that does not compile names the rule file
            joined = "|".join(f"(?:{p})" for p in patterns)
            out[cls] = re.compile(joined, re.IGNORECASE | re.MULTILINE)
        return out

    return compiled(rule, "class-patterns", build)


def _merge(found: list[Finding]) -> list[Finding]:
    """Overlapping findings become one, of the gravest class (leak > self > wrapper)."""
    rank = {"wrapper": 0, "self": 1, "leak": 2}
    out: list[Finding] = []
    for f in sorted(found):
        if out and f.start < out[-1].end:
            last = out[-1]
            cls = max(last.cls, f.cls, key=rank.__getitem__)
            out[-1] = Finding(last.start, max(last.end, f.end), cls)
        else:
            out.append(f)
    return out


def check_self_reference(rule: Rule, ctx: Context) -> list[Violation]:
    reasons: dict[str, str] = rule.params["reasons"]
    out = []
    for f in findings(rule, ctx.text, ctx.case, ctx.doc):
        start, end = f.start, f.end
        while end > start and ctx.text[end - 1].isspace():
            end -= 1
        out.append(violation(rule, ctx, start, end, reason=reasons[f.cls]))
    return out


# --- the safe fix --------------------------------------------------------------------------------


def unwrap(text: str, case: Case | None = None) -> str | None:
    """The reply inside a wrapper — a preface, labels, notes after the reply, a code fence, a
    `<think>` block, a quotation — or None when there is nothing safe to remove: no wrapper,
    several variants, or a leak of the instructions anywhere in the text. The result is a
    candidate only: the caller checks it from scratch."""
    rule = rules_by_id().get(RULE_ID)
    if rule is None:
        return None
    found = findings(rule, text, case)
    # What a <think> block says is removed with it: only a leak outside one forbids the fix.
    visible = findings(rule, THINK.sub("", text), case) if THINK.search(text) else found
    if not found or any(f.cls == "leak" for f in visible):
        return None
    labels = _labels(rule)
    if len(list(labels["variant"].finditer(text))) >= 2:
        return None
    body = THINK.sub("", text)
    body = FENCE.sub(lambda m: m.group(1), body)
    # «Черновик: …» / «Ответ: …»: keep what follows the last reply label.
    keeps = list(labels["keep"].finditer(body))
    if keeps and labels["drop"].search(body[: keeps[-1].start()]):
        body = body[keeps[-1].start("rest") :]
    body = labels["keep"].sub(lambda m: m.group("rest"), body)
    for m in reversed(edited_labels(body)):
        body = body[: m.start()] + m.group("rest") + body[m.end() :]
    body = _drop_labelled(body, labels["drop"])
    for rx in (HEADING, BOLD_LINE, RULE_LINE):
        body = rx.sub("", body)
    body = quoted_lines_removed(body)
    body = _trim_paragraphs(rule, body, case)
    body = strip_quotes(body)
    if not body.strip() or body.strip() == text.strip():
        return None
    return body.strip()


def _drop_labelled(body: str, drop: re.Pattern[str]) -> str:
    """A «Примечание: …» line goes with the rest of its paragraph."""
    while True:
        m = drop.search(body)
        if not m:
            return body
        end = body.find("\n\n", m.end())
        body = body[: m.start()] + (body[end:] if end >= 0 else "")


def _trim_paragraphs(rule: Rule, body: str, case: Case | None) -> str:
    """Paragraphs that talk about the reply are dropped from both ends (a preface, a note)."""
    spans = paragraphs(body)

    def meta(span: tuple[int, int]) -> bool:
        return bool(findings(rule, body[span[0] : span[1]], case))

    while spans and meta(spans[0]):
        spans = spans[1:]
    while spans and meta(spans[-1]):
        spans = spans[:-1]
    if not spans:
        return ""
    return body[spans[0][0] : spans[-1][1]]
