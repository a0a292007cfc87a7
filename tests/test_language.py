"""Language detection: lingua for sentences, the knowledge base's own words for questions of three or four words."""

from __future__ import annotations

import pytest

from bot.language import WordEvidence, detect_language

WORDS = WordEvidence({
    "de": ["Wer kann die Förderung beantragen? Die Kommune stellt den Antrag."],
    "en": ["Who can apply for the grant? The municipality applies."],
    "fr": ["Qui peut postuler ? La commune dépose la demande."],
    "nl": ["Wie kan de subsidie aanvragen? De gemeente vraagt aan."],
})


def test_words_used_by_one_language_decide():
    assert WORDS.guess("Wer kann beantragen?") == "de"
    assert WORDS.guess("Qui peut postuler ?") == "fr"


@pytest.mark.parametrize("text", ["ok", "NAKOPA?", "de", "Grant?", "👍", ""])
def test_one_word_or_unknown_words_are_no_evidence(text):
    assert WORDS.guess(text) is None


def test_a_tie_is_no_evidence():
    tie = WordEvidence({"da": ["kommune med"], "nb": ["kommune med"]})
    assert tie.guess("kommune med") is None


@pytest.mark.parametrize(
    ("question", "lang"),
    [("Що таке NAKOPA?", "uk"), ("Wer kann NAKOPA beantragen?", "de"), ("Qui peut postuler ?", "fr"),
     ("Chi può partecipare?", "it"), ("Vem kan ansöka?", "sv"), ("Hvem kan søge?", "da"), ("Ki pályázhat?", "hu"),
     ("Co to jest NAKOPA?", "pl"), ("¿Qué es NAKOPA?", "es"), ("Who can apply?", "en")],
)
def test_short_questions_get_their_language_from_the_knowledge_base(assistant, question, lang):
    assert detect_language(question) is None or detect_language(question) == lang  # lingua alone may not know
    assert assistant.ask(question).language == lang


@pytest.mark.parametrize("text", ["ok", "Danke", "NAKOPA?", "А дедлайн?", "а дедлайни?", "test"])
def test_too_little_to_tell_keeps_the_users_language(assistant, text):
    assert detect_language(text, assistant.words) is None
