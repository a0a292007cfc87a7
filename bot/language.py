"""Detect the language of a message.

lingua (low-accuracy mode: trigram models, about 50 MB instead of 750 MB) among the EU languages plus Ukrainian,
Russian and Belarusian. Short or ambiguous texts ("NAKOPA?", "hello", emoji) return None so that the caller falls
back to the user's chosen language instead of guessing. Letters only Ukrainian uses settle Cyrillic text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

CANDIDATES = "bg cs da de el en es et fi fr ga hr hu it lt lv nl pl pt ro sk sl sv uk ru be".split()
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.8
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_NOT_LANGUAGE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+|<[^>]{0,200}>", re.IGNORECASE)
_ACRONYM = re.compile(r"\b(?:[A-ZА-ЯІЇЄҐ]{2,}|\w*\d\w*)\b")  # NAKOPA, HUSKROUA, M4EG say nothing of the language


@lru_cache(maxsize=1)
def _detector():
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in CANDIDATES]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or unclear to tell."""
    text = _ACRONYM.sub(" ", _NOT_LANGUAGE.sub(" ", text))
    letters = _LETTER.findall(text)
    if len(letters) < 3:
        return None
    cyrillic = sum(1 for c in letters if _CYRILLIC.match(c))
    if cyrillic > len(letters) / 2:
        if _UKRAINIAN_ONLY.search(text) and not _RUSSIAN_ONLY.search(text) and "ў" not in text:
            return "uk"
    if len(letters) < MIN_LETTERS and cyrillic == 0:
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value < MIN_CONFIDENCE:
        return None
    return values[0].language.iso_code_639_1.name.lower()
