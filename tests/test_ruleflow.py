"""The rule workflow of a support lead: rule files validated to the last key, a team's own rule
folders beside the shipped one, a grounded check of an agent's own draft, and offline output a
person would send."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from rewriter import check, paths
from rewriter.cli import main
from rewriter.errors import UsageError
from rewriter.guard import engine
from rewriter.guard.checks import KIND_FUNCS, PARAMS_SCHEMAS
from rewriter.guard.offline import offline_rewrite
from rewriter.guard.rules import KINDS, load_rules, validated_marker
from rewriter.models import Case

SHIPPED = paths.data_dir("guardrails")
ROOT = Path(__file__).resolve().parent.parent
LEGAL = {"author": "customer", "text": "Мой юрист уже готовит иск в суд.", "name": "Ольга"}


@pytest.fixture
def team(tmp_path, monkeypatch):
    """An empty team rule folder; whatever the test sets, the next test starts from scratch."""
    folder = tmp_path / "team"
    folder.mkdir()
    yield folder
    monkeypatch.delenv(paths.RULES_ENV, raising=False)
    load_rules.cache_clear()


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _team_copy(team: Path, rule_id: str, old: str, new: str) -> Path:
    source = (SHIPPED / f"{rule_id}.yaml").read_text(encoding="utf-8")
    assert old in source
    path = team / f"{rule_id}.yaml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    return path


def _case_file(tmp_path: Path, **case) -> str:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return str(path)


# --- every kind declares its params; every key of a rule file is checked --------------------------


def test_every_registered_kind_has_a_params_schema() -> None:
    """A kind another branch registers must declare its params schema too (extra keys refused)."""
    assert set(KIND_FUNCS) == set(KINDS)
    assert set(PARAMS_SCHEMAS) == set(KIND_FUNCS)
    for kind, schema in PARAMS_SCHEMAS.items():
        assert schema.model_config.get("extra") == "forbid", kind


def test_every_shipped_rule_file_validates_and_the_fast_path_builds_the_same_rules() -> None:
    rules = load_rules(SHIPPED)
    engine.validate(rules)
    for rule in rules:
        assert rule.params, rule.id  # every shipped rule has parameters, each one checked
    # Once validated, a new process builds the rules without validating: the very same values.
    load_rules.cache_clear()
    paths.write_cache_file(validated_marker((SHIPPED,)), "ok\n")
    fast = load_rules(SHIPPED)
    assert engine.is_validated(fast)
    assert [r.model_dump() for r in fast] == [r.model_dump() for r in rules]
    load_rules.cache_clear()


@pytest.mark.parametrize(
    ("rule_id", "old", "new", "said"),
    [
        (
            "template-phrase",
            "- {phrase: ожидайте,",
            "- {phrse: ожидайте,",
            r"params\.lexicon\.phrases\[\d+\]\.phrse: unknown key",
        ),
        ("template-phrase", "\n  lexicon:", "\n  lexicons:", "params.lexicons: unknown key"),
        ("capitalized-you", "mid_sentence_only: true", "mid_sentence: true", "unknown key"),
        ("invented-deadline", "extract: deadlines", "extract: deadline", "params.extract: "),
        ("invented-fact", "kinds: [num,", "kinds: [nums,", r"params\.kinds\[0\]"),
        ("invented-deadline", "sources: [draft,", "sources: [drafts,", r"params\.sources\[0\]"),
        ("invented-fact", "kinds: [num,", "weak_sources: [customer]\n  kinds: [num,", "not read"),
        ("promo-in-legal-dispute", "when: legal_dispute", "when: legal", "params.when"),
        ("lost-fact", "[promo-in-legal-dispute]", "[promo-in-court]", "no rule 'promo-in-court'"),
        ("impossible-request", "    no_app: [", "    no_apps: [", "resolved_by.no_apps"),
        ("tone-overshoot", "    sad: ", "    sadness: ", r"params\.reasons\.sadness: unknown"),
        ("capitalized-you", "fix:\n  action: lowercase", "fix:\n  action: lower", "fix.action"),
        ("capitalized-you", "action: lowercase", "action: replace", "replace needs params.lexicon"),
        ("capitalized-you", "examples:\n  fire:", "examples:\n  fires:", "examples.fires: unknown"),
        ("flat-refusal", "severity: warn", "severity: warn\ncolour: red", "colour: unknown key"),
        ("flat-refusal", "gap: 1", "gap: one", "params.lexicon.gap"),
        ("capitalized-you", "  «{text}» с", "  «{text» с", "message: cannot fill"),
        ("template-phrase", 'replace: "{thanks}"', 'replace: "{thank}"', r"\.replace: \{thank\}"),
        ("tone-overshoot", "«{quote}»", "«{qoute}»", r"params\.evidence: \{qoute\}"),
        ("capitalized-you", "pattern: '\\b(?:", "pattern: '\\b((?:", "not a valid regular"),
    ],
)
def test_a_mistake_in_a_rule_file_is_one_line_naming_file_and_key(
    team, capsys, rule_id, old, new, said
) -> None:
    path = _team_copy(team, rule_id, old, new)
    code, out, err = _run(
        capsys, "check", str(ROOT / "examples/court-promo.json"), "--rules", str(team)
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"h2h: error: {path}: ")
    assert re.search(said, err), err


def test_a_yaml_error_names_the_path_and_line(team, capsys) -> None:
    (team / "broken.yaml").write_text("id: broken\nmessage: [unclosed\n", encoding="utf-8")
    code, _, err = _run(capsys, "rules", "--rules", str(team))
    assert code == 2
    assert f"{team / 'broken.yaml'}: cannot read at line 3" in err
    assert "<unicode string>" not in err


# --- a team's own rules ---------------------------------------------------------------------------


def test_a_team_rule_replaces_the_shipped_one_and_a_new_rule_is_added(team, capsys, tmp_path):
    _team_copy(team, "template-phrase", "phrases:\n", "phrases:\n      - {phrase: всего доброго}\n")
    (team / "no-slang.yaml").write_text(
        "id: no-slang\nseverity: warn\nkind: phrases\ndescription: Slang.\n"
        "message: «{text}» — жаргон, скажите проще.\n"
        "params:\n  lexicon: [=кринж]\n"
        "examples:\n  fire: [Это кринж.]\n  pass: [Это странно.]\n",
        encoding="utf-8",
    )
    case = _case_file(tmp_path, draft="Это кринж. Всего доброго!")
    code, out, _ = _run(capsys, "check", case, "--json", "--rules", str(team))
    assert code == 0
    assert {v["rule"]: v["text"] for v in json.loads(out)["violations"]} == {
        "no-slang": "кринж",
        "template-phrase": "Всего доброго",
    }
    code, out, err = _run(capsys, "rules", "--rules", str(team))
    assert code == 0
    lines = {line.split()[0]: line.split()[2] for line in out.splitlines()}
    assert lines["no-slang"] == "team-1" and lines["template-phrase"] == "team-1"
    assert lines["invented-deadline"] == "shipped"
    assert f"shipped  {SHIPPED}" in err and f"team-1   {team}" in err


def test_h2h_rules_env_is_a_path_list_and_a_missing_folder_is_an_error(team, monkeypatch, capsys):
    second = team.parent / "second"
    second.mkdir()
    monkeypatch.setenv(paths.RULES_ENV, os.pathsep.join([str(team), "", str(second)]))
    assert paths.rule_dirs() == (SHIPPED, team.resolve(), second.resolve())
    monkeypatch.setenv(paths.RULES_ENV, str(team / "nowhere"))
    with pytest.raises(UsageError, match="nowhere: the rules folder does not exist"):
        paths.rule_dirs()
    monkeypatch.delenv(paths.RULES_ENV)
    code, _, err = _run(capsys, "check", "--rules", str(team / "nowhere"), "x.json")
    assert code == 2 and "the rules folder does not exist" in err


def test_team_lexicons_lay_over_the_shipped_keys(team, monkeypatch) -> None:
    (team / "lexicons").mkdir()
    (team / "lexicons" / "evidence.yaml").write_text(
        'searched: "искали здесь — {parts}"\n', encoding="utf-8"
    )
    monkeypatch.setenv(paths.RULES_ENV, str(team))
    case = Case(draft="Вернём деньги.", reply="Вернём деньги до пятницы.")
    (v,) = [v for v in check(case).violations if v.rule == "invented-deadline"]
    assert v.evidence == "искали здесь — черновик: «Вернём деньги.»"
    assert paths.lexicon_data("evidence")["separator"] == "; "  # a key it does not name stays

    (team / "lexicons" / "evidence.yaml").write_text("serched: x\n", encoding="utf-8")
    paths._parsed_folder.cache_clear()
    paths.folder_digest.cache_clear()
    paths._lexicon_data.cache_clear()
    load_rules.cache_clear()
    with pytest.raises(UsageError, match=r"evidence\.yaml: serched: unknown key"):
        check(case)
    (team / "lexicons" / "evidence.yaml").unlink()
    (team / "lexicons" / "grammer.yaml").write_text("negations: [не]\n", encoding="utf-8")
    load_rules.cache_clear()
    with pytest.raises(UsageError, match=r"grammer\.yaml: no shipped lexicon of this name"):
        check(case)
    paths.folder_digest.cache_clear()


def test_caches_keyed_by_rule_data_include_the_team_folders(team, monkeypatch) -> None:
    from rewriter.analysis import lemmacache

    plain = paths.rules_digest()
    monkeypatch.setenv(paths.RULES_ENV, str(team))
    _team_copy(team, "template-phrase", "phrases:\n", "phrases:\n      - {phrase: всего доброго}\n")
    assert paths.rules_digest() != plain
    lemmacache._table_path.cache_clear()
    with_team = lemmacache._table_path()
    monkeypatch.delenv(paths.RULES_ENV)
    lemmacache._table_path.cache_clear()
    assert lemmacache._table_path() != with_team
    lemmacache._table_path.cache_clear()


def test_a_checkout_reads_its_own_folders() -> None:
    """Editing a rule in a checkout takes effect: the in-tree folder wins over any _data copy."""
    assert paths.is_checkout()
    assert SHIPPED == ROOT / "guardrails"


def test_rules_test_runs_one_rules_examples(team, capsys) -> None:
    code, out, err = _run(capsys, "rules", "--test", "capitalized-you")
    assert code == 0 and out.startswith("capitalized-you: ") and "FAIL" not in out, err
    _team_copy(team, "capitalized-you", "- Мы проверили ваш платёж.", "- Мы проверили Ваш платёж.")
    code, out, _ = _run(capsys, "rules", "--test", "capitalized-you", "--rules", str(team))
    assert code == 1
    assert "FAIL pass[" in out and "fired on «Ваш»: Мы проверили Ваш платёж." in out
    code, _, err = _run(capsys, "rules", "--test", "no-such-rule")
    assert code == 2 and "no rule 'no-such-rule'" in err


def test_bench_rules_says_no_labelled_cases(team, capsys, tmp_path) -> None:
    (team / "no-slang.yaml").write_text(
        "id: no-slang\nseverity: warn\nkind: phrases\ndescription: Slang.\nmessage: «{text}».\n"
        "params:\n  lexicon: [=кринж]\nexamples:\n  fire: [кринж]\n  pass: [ок]\n",
        encoding="utf-8",
    )
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text('- {reply: "Спасибо за обращение!", expect: [template-phrase]}\n', "utf-8")
    scores = tmp_path / "scores.json"
    code, out, _ = _run(
        capsys, "bench-rules", "--corpus", str(corpus), "--json", str(scores), "--rules", str(team)
    )
    assert code == 0
    (line,) = [x for x in out.splitlines() if x.startswith("no-slang")]
    assert "no labelled cases" in line and "1.000" not in line
    data = json.loads(scores.read_text(encoding="utf-8"))
    assert data["rules"]["no-slang"]["recall"] is None
    assert data["rules"]["template-phrase"]["recall"] == 1.0


# --- a grounded check of the agent's own draft ----------------------------------------------------


def test_grounded_holds_a_draft_to_the_facts_and_the_thread() -> None:
    case = Case(
        thread=[
            {"author": "customer", "text": "Когда вернёте деньги за разбитый телефон?"},
            {"author": "agent", "text": "Проверим заказ, ответ отдела придёт в течение 3 дней."},
        ],
        draft="Деньги вернём до пятницы, ответ отдела придёт в течение 3 дней.",
        facts=["Решение о возврате ещё не принято."],
    )
    assert check(case).ok  # today's default: a draft alone is linted, not fact-checked
    grounded = check(case, grounded=True)
    assert {(v.rule, v.text) for v in grounded.violations if v.blocks} == {
        ("invented-promise", "Деньги вернём"),
        ("invented-deadline", "до пятницы"),
    }  # «в течение 3 дней» is stated by the agent's earlier message: not invented
    supported = case.model_copy(update={"facts": ["Возврат одобрен, деньги вернём до пятницы."]})
    assert check(supported, grounded=True).ok


def test_grounded_on_the_command_line_and_for_jsonl(capsys, tmp_path) -> None:
    example = str(ROOT / "examples/grounded-draft.json")
    assert _run(capsys, "check", example)[0] == 0
    code, out, _ = _run(capsys, "check", example, "--grounded", "--json")
    assert code == 1
    assert {v["rule"] for v in json.loads(out)["violations"]} >= {
        "invented-deadline",
        "invented-promise",
    }
    lines = tmp_path / "cases.jsonl"
    lines.write_text(
        json.dumps({"draft": "Всё починим завтра.", "facts": []}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    assert _run(capsys, "check", "--jsonl", str(lines))[0] == 0
    code, out, _ = _run(capsys, "check", "--jsonl", str(lines), "--grounded")
    assert code == 1 and "invented-deadline" in out


# --- offline output a person would send -----------------------------------------------------------


@pytest.mark.parametrize(
    ("thread", "draft", "expected"),
    [
        (
            [{"author": "customer", "text": "Где мои деньги? Третий день жду!"}],
            "Не волнуйтесь 😊 Мы обязательно всё проверим.",
            "Не волнуйтесь. Мы обязательно всё проверим.",
        ),
        (
            [{"author": "customer", "text": "Где мои деньги?"}],
            "Деньги уже в пути 🚀🚀 Ожидайте.",
            "Деньги уже в пути. Напишу, как только будет ответ.",
        ),
        (
            [{"author": "customer", "text": "Где мои деньги?", "name": "Ольга"}],
            "Ольга, спасибо за обращение! Проверим платёж сегодня.",
            "Ольга, проверим платёж сегодня.",
        ),
        (
            [LEGAL],
            "Ольга! Дарим Вам промокод SORRY100! Юристы ответят письменно.",
            "Ольга, юристы ответят письменно.",
        ),
    ],
)
def test_offline_fixes_read_as_written_by_a_person(thread, draft, expected) -> None:
    text, remaining = offline_rewrite(Case(thread=thread, draft=draft))
    assert text == expected
    assert not [v for v in remaining if v.blocks]


def test_two_canned_phrases_side_by_side_are_one_finding_and_both_are_fixed() -> None:
    screenshot = [{"author": "customer", "text": "Где платёж? Вот скриншот."}]
    case = Case(thread=screenshot, draft="Уважаемый клиент спасибо за обращение, проверим платёж.")
    found = [v.text for v in check(case).violations if v.rule == "template-phrase"]
    assert found == ["Уважаемый клиент спасибо за обращение"]
    assert offline_rewrite(case) == ("Спасибо за скриншот, проверим платёж.", [])


def test_a_greeting_alone_is_never_the_offline_answer() -> None:
    """Dropping the offer would leave «Здравствуйте, Ольга!»: the draft stays, flagged."""
    draft = "Здравствуйте, Ольга! Дарим вам промокод SORRY100."
    text, remaining = offline_rewrite(Case(thread=[LEGAL], draft=draft))
    assert text == draft
    assert [v.rule for v in remaining if v.blocks] == ["promo-in-legal-dispute"]


def test_one_violation_per_offending_phrase() -> None:
    case = Case(thread=[LEGAL], draft="Дарим Вам промокод SORRY100 на следующую покупку!")
    promo = [v for v in check(case).violations if v.rule == "promo-in-legal-dispute"]
    assert [(v.text, v.span) for v in promo] == [("Дарим Вам промокод SORRY100", (0, 27))]
    apart = Case(thread=[LEGAL], draft="Держите промокод. А ещё дарим скидку.")
    texts = [v.text for v in check(apart).violations if v.rule == "promo-in-legal-dispute"]
    assert texts == ["промокод", "дарим скидку"]


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ({"draft": "   \n"}, "nothing to check: the draft is blank"),
        ({"draft": "Проверим.", "reply": " "}, "nothing to check: the reply is blank"),
    ],
)
def test_a_blank_text_is_nothing_to_check(capsys, tmp_path, case, said) -> None:
    code, out, err = _run(capsys, "check", _case_file(tmp_path, **case))
    assert (code, out) == (2, "")
    assert err.strip() == f"h2h: error: {said}"


def test_cache_keeps_a_few_versions_of_each_table(tmp_path: Path) -> None:
    """Every edit of a rule file makes a new table keyed by the files' digest; the cache keeps
    the newest few of each family and never touches a file of another family or shape."""
    from rewriter.paths import write_cache_file

    for i in range(12):
        path = tmp_path / f"lemmas-{i:016x}.json"
        write_cache_file(path, "{}", keep_versions=3)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # distinct ages on any file system
    (tmp_path / "guardrails-0123456789abcdef.json").write_text("{}")  # another family
    (tmp_path / "lemmas-notes.json").write_text("{}")  # not a version: no digest
    write_cache_file(tmp_path / "lemmas-00000000000000ff.json", "{}", keep_versions=3)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [
        "guardrails-0123456789abcdef.json",
        "lemmas-000000000000000a.json",
        "lemmas-000000000000000b.json",
        "lemmas-00000000000000ff.json",
        "lemmas-notes.json",
    ]
