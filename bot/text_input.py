"""Clean what people type before anything else sees it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUESTION_CHARS = 1000  # longer messages are answered from their first part (and the user is told so)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]", re.UNICODE)
_URL_ONLY = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class CleanText:
    text: str
    truncated: bool
    has_words: bool
    only_link: bool


def clean(raw: str | None) -> CleanText:
    """Normalize Unicode, drop control characters, squeeze spaces, and cut to a searchable length."""
    text = unicodedata.normalize("NFC", raw or "")
    text = _CONTROL.sub(" ", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    truncated = len(text) > MAX_QUESTION_CHARS
    if truncated:
        cut = text[:MAX_QUESTION_CHARS]
        boundary = max(cut.rfind(". "), cut.rfind("\n"), cut.rfind("? "))
        text = cut[: boundary + 1] if boundary > MAX_QUESTION_CHARS // 2 else cut
        text = text.strip()
    return CleanText(text, truncated, bool(_LETTER_OR_DIGIT.search(text)), bool(_URL_ONLY.match(text)))
