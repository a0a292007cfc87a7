"""The knowledge loader: every real entry is valid, and every kind of mistake is reported with file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from retrieval.knowledge import KnowledgeError, load_entry, load_knowledge, load_not_covered, load_out_of_scope

from .conftest import ROOT

EXAMPLE = ROOT / "knowledge" / "entries" / "interreg-next-pl-ua"


def test_every_shipped_entry_is_valid_and_cites_a_source():
    entries = load_knowledge(ROOT / "knowledge")
    assert len(entries) >= 40
    for entry in entries:
        assert entry.meta.sources and entry.url.startswith("http"), entry.id
        assert {"en", "uk"} <= set(entry.documents), entry.id
        sections = {lang: len(doc.sections) for lang, doc in entry.documents.items()}
        assert len(set(sections.values())) == 1, f"{entry.id}: languages differ in sections {sections}"


@pytest.fixture
def broken(tmp_path) -> Path:
    target = tmp_path / "interreg-next-pl-ua"
    shutil.copytree(EXAMPLE, target)
    return target


def _edit_meta(folder: Path, old: str, new: str) -> None:
    path = folder / "meta.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("verified: 2025-07-01", "verified: 2025-13-45", "verified"),
        ("verified: 2025-07-01", "verified: 2099-01-01", "future"),
        ("verified: 2025-07-01\n", "", "verified"),
        ("  - url: https://pl-ua.eu/en/news/3114\n", "  - url: not a url\n", "sources"),
        ("sectors: [environment,", "sectors: [space-travel, environment,", "unknown sector"),
        ("ua_oblasts: [volyn,", "ua_oblasts: [atlantis,", "unknown oblast"),
        ("kind: funding", "kind: lottery", "kind"),
        ("id: interreg-next-pl-ua", "id: other-id", "folder"),
        ("programme:", "programme_name:", "programme"),
    ],
)
def test_bad_meta_is_reported_with_file_and_field(broken, old, new, message):
    _edit_meta(broken, old, new)
    with pytest.raises(KnowledgeError) as error:
        load_entry(broken)
    assert "meta.yaml" in str(error.value)
    assert message in str(error.value)


def test_entry_without_sources_is_rejected(broken):
    text = (broken / "meta.yaml").read_text()
    start, end = text.index("sources:"), text.index("verified:")
    (broken / "meta.yaml").write_text(text[:start] + "sources: []\n" + text[end:])
    with pytest.raises(KnowledgeError, match="sources"):
        load_entry(broken)


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_missing_required_language_is_rejected(broken, lang):
    (broken / f"{lang}.md").unlink()
    with pytest.raises(KnowledgeError, match=f"{lang}.md"):
        load_entry(broken)


def test_markdown_without_sections_is_rejected(broken):
    (broken / "uk.md").write_text("# Заголовок\n\nТекст без розділів.\n")
    with pytest.raises(KnowledgeError, match="uk.md"):
        load_entry(broken)


def test_broken_yaml_is_reported(broken):
    (broken / "meta.yaml").write_text("id: [unclosed\n")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        load_entry(broken)


def test_sample_questions_are_loaded_by_language(broken):
    (broken / "questions.yaml").write_text("en:\n  - Who can apply?\nuk:\n  - Хто може подати заявку?\n")
    assert load_entry(broken).questions == {"en": ("Who can apply?",), "uk": ("Хто може подати заявку?",)}


@pytest.mark.parametrize(
    ("text", "message"),
    [("xx:\n  - Who?\n", "'xx' is not a supported language"), ("en: Who can apply?\n", "list of non-empty"),
     ("en:\n  - ''\n", "list of non-empty"), ("- Who?\n", "mapping"), ("en: [unclosed\n", "not valid YAML")],
)
def test_bad_sample_questions_are_reported_with_file_and_field(broken, text, message):
    (broken / "questions.yaml").write_text(text)
    with pytest.raises(KnowledgeError, match=message) as error:
        load_entry(broken)
    assert "questions.yaml" in str(error.value)


def test_member_states_must_be_eu_countries(broken):
    _edit_meta(broken, "member_states: [PL]", "member_states: [UA]")
    with pytest.raises(KnowledgeError, match="member_states"):
        load_entry(broken)


@pytest.mark.parametrize(
    ("text", "message"),
    [("visas:\n  xx:\n    - Visa?\n", "'xx' is not a supported language"), ("visas: [Visa?]\n", "language codes"),
     ("visas:\n  en: Visa?\n", "list of non-empty"), ("- Visa?\n", "mapping"), ("visas: [unclosed\n", "YAML")],
)
def test_bad_out_of_scope_questions_are_reported_with_file_and_topic(tmp_path, text, message):
    (tmp_path / "out_of_scope.yaml").write_text(text)
    with pytest.raises(KnowledgeError, match=message) as error:
        load_out_of_scope(tmp_path)
    assert "out_of_scope.yaml" in str(error.value)


def test_not_covered_names_are_read_from_every_file_and_a_key_only_once(tmp_path):
    (tmp_path / "not_covered").mkdir()
    (tmp_path / "not_covered" / "a.yaml").write_text("urbact:\n  - URBACT\n")
    (tmp_path / "not_covered" / "b.yaml").write_text("kfw:\n  - KfW Bankengruppe\n")
    assert load_not_covered(tmp_path) == {"urbact": ("URBACT",), "kfw": ("KfW Bankengruppe",)}
    (tmp_path / "not_covered" / "c.yaml").write_text("urbact:\n  - URBACT Programme\n")
    with pytest.raises(KnowledgeError, match="c.yaml.*urbact"):
        load_not_covered(tmp_path)
