"""Reading the data folders: broken files are named, parsed files are cached by folder version."""

from __future__ import annotations

import datetime
import shutil

import pytest

from rewriter import paths
from rewriter.errors import RuleFileError
from rewriter.guard.rules import load_rules


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """Per-test cache folder and no in-process memory of earlier reads."""
    monkeypatch.setenv("H2H_CACHE_DIR", str(tmp_path / "cache"))
    for fn in (paths._parsed_folder, paths.folder_digest, load_rules):
        fn.cache_clear()
    yield tmp_path
    for fn in (paths._parsed_folder, paths.folder_digest, load_rules):
        fn.cache_clear()


def test_a_broken_rule_file_is_named(fresh) -> None:
    folder = fresh / "rules"
    folder.mkdir()
    shutil.copy(paths.data_dir("guardrails") / "template-phrase.yaml", folder)
    (folder / "zz-broken.yaml").write_text("id: zz-broken\nmessage: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"zz-broken\.yaml: cannot read"):
        load_rules(folder)
    assert not (fresh / "cache" / "data").exists()  # nothing cached from a broken folder


def test_parsed_files_are_cached_per_folder_version(fresh, monkeypatch) -> None:
    folder = fresh / "lexicons"
    folder.mkdir()
    (folder / "words.yaml").write_text("phrases: [спасибо за обращение]\n", encoding="utf-8")
    assert paths.read_yaml(folder / "words.yaml") == {"phrases": ["спасибо за обращение"]}
    cached = list((fresh / "cache" / "data").glob("lexicons-*.json"))
    assert len(cached) == 1

    # A new process (caches cleared) reads the JSON and never parses YAML.
    paths._parsed_folder.cache_clear()

    def no_yaml(path):
        raise AssertionError(f"parsed {path} although it was cached")

    monkeypatch.setattr(paths, "_parse_yaml", no_yaml)
    assert paths.read_yaml(folder / "words.yaml") == {"phrases": ["спасибо за обращение"]}
    monkeypatch.undo()

    # Editing the file is a new version: the edit is what is read.
    monkeypatch.setenv("H2H_CACHE_DIR", str(fresh / "cache"))
    (folder / "words.yaml").write_text("phrases: [уточняю информацию]\n", encoding="utf-8")
    paths._parsed_folder.cache_clear()
    paths.folder_digest.cache_clear()
    assert paths.read_yaml(folder / "words.yaml") == {"phrases": ["уточняю информацию"]}
    assert len(list((fresh / "cache" / "data").glob("lexicons-*.json"))) == 2


def test_values_json_would_change_are_not_cached(fresh) -> None:
    folder = fresh / "odd"
    folder.mkdir()
    (folder / "dates.yaml").write_text("since: 2024-01-05\n1: one\n", encoding="utf-8")
    data = paths.read_yaml(folder / "dates.yaml")
    assert data == {"since": datetime.date(2024, 1, 5), 1: "one"}
    assert not list((fresh / "cache").rglob("odd-*.json"))


def test_an_unreadable_phrase_names_its_rule_file(fresh) -> None:
    """A support lead's typo in a lexicon is one clear error naming the file, not a traceback."""
    from rewriter.guard.context import Context, run_rule
    from rewriter.models import Case

    folder = fresh / "rules"
    folder.mkdir()
    source = (paths.data_dir("guardrails") / "template-phrase.yaml").read_text(encoding="utf-8")
    broken = source.replace("      - {phrase: ожидайте,", "      - {phrase: =ожидайте|ждите,", 1)
    assert broken != source
    (folder / "template-phrase.yaml").write_text(broken, encoding="utf-8")
    (rule,) = load_rules(folder)
    with pytest.raises(RuleFileError, match=r"template-phrase\.yaml: lexicon: alternatives"):
        run_rule(rule, Context(Case(draft="Ожидайте."), "Ожидайте."))


def test_every_shipped_data_file_is_json_cacheable() -> None:
    """The check path reads data files from their JSON cache and never loads a YAML parser; a
    value JSON would change (an integer key, a date) makes every start parse YAML again."""
    import json

    import yaml

    for folder in ("guardrails", "guardrails/lexicons", "prompts"):
        for path in sorted(
            (paths.data_dir(folder.split("/")[0]) / "/".join(folder.split("/")[1:])).glob("*.yaml")
        ):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert json.loads(json.dumps(data, ensure_ascii=False)) == data, path
