"""Detect the language of a message.

lingua (low-accuracy mode: trigram models, about 50 MB instead of 750 MB) among the EU languages plus Ukrainian,
Russian and Belarusian. Short or ambiguous texts ("NAKOPA?", "hello", emoji) return None so that the caller falls
back to the user's chosen language instead of guessing. Letters only Ukrainian uses settle Cyrillic text.

Trigram statistics cannot tell three or four words apart ("Qui peut postuler ?", "Що таке NAKOPA?"), yet such
questions are common. When lingua is unsure, `WordEvidence` votes with the words of the question that our own
knowledge base uses in only one or a few languages, and answers only on a clear majority.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
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
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_KNOWN_WORDS = 2  # one shared word ("no", "test") is no evidence
MIN_LEAD = 1.5  # the winning language needs half as many votes again as the runner-up


class WordEvidence:
    """Which languages use each word, learnt from texts in known languages (the knowledge base).

    A word votes 1/n for each of the n languages that use it, so "kann" (German only) outweighs "die" or "is".
    """

    def __init__(self, texts_by_language: Mapping[str, Iterable[str]]) -> None:
        users: dict[str, set[str]] = {}
        for lang, texts in texts_by_language.items():
            for text in texts:
                for word in _WORD.findall(text.lower()):
                    users.setdefault(word, set()).add(lang)
        self._languages = {word: tuple(sorted(langs)) for word, langs in users.items()}

    def guess(self, text: str) -> str | None:
        """The language most of the text's known words point to, or None without a clear majority."""
        votes: Counter[str] = Counter()
        known = 0
        for word in _WORD.findall(text.lower()):
            langs = self._languages.get(word)
            if langs:
                known += 1
                for lang in langs:
                    votes[lang] += 1 / len(langs)
        if known < MIN_KNOWN_WORDS or not votes:
            return None
        (best, lead), *rest = votes.most_common(2)
        runner_up = rest[0][1] if rest else 0.0
        return best if lead >= MIN_LEAD * runner_up else None


@lru_cache(maxsize=1)
def _detector():
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in CANDIDATES]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def detect_language(text: str, words: WordEvidence | None = None) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or unclear to tell.

    With `words`, a text lingua cannot place is decided by the words it shares with texts of known language.
    """
    text = _ACRONYM.sub(" ", _NOT_LANGUAGE.sub(" ", text))
    letters = _LETTER.findall(text)
    if len(letters) < 3:
        return None
    cyrillic = sum(1 for c in letters if _CYRILLIC.match(c))
    if cyrillic > len(letters) / 2:
        if _UKRAINIAN_ONLY.search(text) and not _RUSSIAN_ONLY.search(text) and "ў" not in text:
            return "uk"
        if _RUSSIAN_ONLY.search(text):
            return "ru"
    # A few Cyrillic letters with none of one language's own ("а дедлайни?") are Ukrainian, Bulgarian and Russian
    # alike: lingua still picks one, so short texts are left to the words, or to the user's earlier language.
    detected = _lingua(text) if len(letters) >= MIN_LETTERS else None
    if detected is None and words is not None:
        return words.guess(text)
    return detected


def _lingua(text: str) -> str | None:
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value < MIN_CONFIDENCE:
        return None
    return values[0].language.iso_code_639_1.name.lower()
