"""Catalogs are tested artifacts: complete, compilable, and with the same {placeholders} as the source."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, supported_languages, translations, use_language, _

from .conftest import ROOT

LANGS = [lang for lang in supported_languages() if lang != "en"]
PLACEHOLDER = re.compile(r"{\w+}")


def test_the_main_languages_have_catalogs():
    assert {"uk", "de", "pl", "fr", "es", "it"} <= set(LANGS)


def test_template_is_up_to_date(tmp_path):
    """Every _() in the code is in messages.pot (run `make extract` after adding strings)."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "N_",
         "--no-location", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    ids = lambda path: {m.id for m in read_po(path.open("rb")) if m.id}  # noqa: E731
    missing = ids(fresh) - ids(LOCALES_DIR / "messages.pot")
    assert not missing


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_is_complete_and_keeps_placeholders(lang):
    catalog = read_po((LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb"))
    template = {m.id for m in read_po((LOCALES_DIR / "messages.pot").open("rb")) if m.id}
    translated = {m.id: m.string for m in catalog if m.id}
    assert template <= set(translated), template - set(translated)
    for msgid in template:
        assert translated[msgid], f"{lang}: untranslated {msgid!r}"
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(translated[msgid])), (lang, msgid)


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_compiles_and_translates(lang):
    assert translations(lang).gettext("Ask the secretariat") != "Ask the secretariat" or lang == "en"
    with use_language(lang):
        assert _("This button has expired. Please send your question again.")
