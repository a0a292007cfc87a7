"""Gettext translations through Babel, with the language chosen per message.

Catalogs live in `locales/<lang>/LC_MESSAGES/messages.po`. The compiled `.mo` files are not committed: they are
compiled from the `.po` files on first use (and by `make translations`), so a catalog edit takes effect without a
manual step. The active language is a context variable, so concurrent Telegram updates do not leak into each other.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.config import PROJECT_ROOT

log = logging.getLogger(__name__)

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
_current = contextvars.ContextVar("language", default=SOURCE_LANGUAGE)
_compile_lock = threading.Lock()


def N_(message: str) -> str:
    """Mark a module-level string for extraction; it is translated where it is used."""
    return message


@lru_cache(maxsize=1)
def supported_languages() -> tuple[str, ...]:
    """The source language plus every language with a catalog, in a stable order."""
    found = sorted(p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *[lang for lang in found if lang != SOURCE_LANGUAGE])


def _compiled(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    with _compile_lock:
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            tmp = mo_path.with_suffix(".mo.tmp")
            with tmp.open("wb") as mo_file:
                write_mo(mo_file, catalog, use_fuzzy=False)
            tmp.replace(mo_path)
    return mo_path


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    po_path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == SOURCE_LANGUAGE or not po_path.exists():
        return NullTranslations()
    with _compiled(po_path).open("rb") as mo_file:
        return Translations(mo_file, domain=DOMAIN)


def current_language() -> str:
    return _current.get()


@contextlib.contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Translate everything inside the block into `lang` (or the source language if it has no catalog)."""
    chosen = lang if lang in supported_languages() else SOURCE_LANGUAGE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def _(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def language_name(code: str, in_language: str | None = None) -> str:
    """'uk' -> 'українська' (its own name) or the name in another language, from CLDR."""
    try:
        name = Locale.parse(code).get_display_name(in_language or code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


def normalize_language(code: str | None) -> str | None:
    """Telegram's 'de-AT' / 'pt-br' -> a supported catalog ('de', 'pt'), or None."""
    if not code:
        return None
    try:
        base = Locale.parse(code.replace("_", "-"), sep="-").language
    except (UnknownLocaleError, ValueError):
        base = code.split("-")[0].split("_")[0].lower()
    return base if base in supported_languages() else None
