"""The core assistant, driven directly: language, citations, abstention, bad input, feedback, privacy."""

from __future__ import annotations

import pytest

from bot.assistant import UserRef
from bot.i18n import _, use_language

from .conftest import ROOT  # noqa: F401


def _actions(reply):
    return [b.action for row in reply.buttons for b in row]


@pytest.mark.parametrize(
    ("question", "lang", "entry"),
    [
        ("Хто може подаватися на NAKOPA і скільки можна отримати?", "uk", "nakopa"),
        ("Who can apply to the HUSKROUA programme?", "en", "interreg-next-huskroua"),
        ("Wie hoch ist die Förderung aus dem Kleinprojektefonds der SKEW?", "de", "skew-kleinprojektefonds"),
        ("Jakie obwody Ukrainy mogą brać udział w Interreg NEXT Polska–Ukraina?", "pl", "interreg-next-pl-ua"),
    ],
)
def test_answer_is_in_the_question_language_and_cited(assistant, user, question, lang, entry):
    reply = assistant.handle_text(user, question)
    assert reply.language == lang
    assert not reply.abstained
    assert reply.citations[0].id == entry
    assert reply.citations[0].url.startswith("http")
    assert any(b.kind == "source" and b.url == reply.citations[0].url for b in reply.blocks)
    text = reply.plain_text()
    if lang == "uk":
        assert "Джерело" in text
    assert _actions(reply) == [f"fb:up:{reply.question_id}", f"fb:down:{reply.question_id}"]


def test_entry_without_the_language_is_quoted_in_english_with_a_note(assistant, user):
    reply = assistant.handle_text(UserRef("x", "uk"), "Who can apply to Erasmus+ capacity building in youth?")
    assert reply.language == "en"
    ua = assistant.handle_text(UserRef("y"), "Хто може брати участь в Erasmus+?")
    assert ua.language == "uk" and ua.citations[0].id == "erasmus-plus"


def test_off_topic_is_refused_and_can_go_to_the_secretariat(assistant, user, store):
    reply = assistant.handle_text(user, "Який прогноз погоди у Львові на завтра?")
    assert reply.abstained and reply.language == "uk" and not reply.citations
    assert "немає" in reply.plain_text()
    handoff = _actions(reply)[0]
    assert handoff == f"handoff:{reply.question_id}"
    thanks = assistant.handle_action(user, handoff)
    assert "секретаріату" in thanks.plain_text()
    assert assistant.handle_action(user, handoff).plain_text() != thanks.plain_text()  # no duplicate handoff
    assert store.unanswered_questions()[0]["handed_off"] == 1


@pytest.mark.parametrize(
    "text", ["", "   ", "🇺🇦🙏🔥", "https://pl-ua.eu/en/news/3114", "\x00\x07\x1b[31m", "x" * 20000,
             "<b>NAKOPA</b> & <script>alert(1)</script>", "NAKOPA для нашої Gemeinde — wer kann beantragen?"],
)
def test_bad_input_gets_a_clear_reply(assistant, user, text):
    reply = assistant.handle_text(user, text)
    assert reply.blocks and reply.plain_text().strip()
    assert len(reply.plain_text()) < 6000


def test_huge_message_is_answered_from_its_first_part(assistant, user):
    reply = assistant.handle_text(user, "Who can apply to NAKOPA? " + "More words here. " * 2000)
    assert reply.blocks[0].kind == "note"
    assert reply.citations and reply.citations[0].id == "nakopa"


def test_unknown_command_points_to_help(assistant):
    reply = assistant.handle_command(UserRef("u", "de"), "foobar")
    assert "/help" in reply.plain_text() and "/foobar" in reply.plain_text()


def test_language_choice_overrides_detection(assistant, store):
    user = UserRef("lang-user", "en")
    menu = assistant.handle_command(user, "language")
    assert "lang:uk" in _actions(menu)
    assistant.handle_action(user, "lang:uk")
    assert store.user("lang-user")["language"] == "uk"
    reply = assistant.handle_text(user, "Who can apply to NAKOPA?")
    assert reply.language == "uk"
    assistant.handle_action(user, "lang:auto")
    assert assistant.handle_text(user, "Who can apply to NAKOPA?").language == "en"


def test_feedback_flow_is_stored(assistant, user, store):
    reply = assistant.handle_text(user, "Who can apply to NAKOPA?")
    qid = reply.question_id
    assert "Thank" in assistant.handle_action(user, f"fb:up:{qid}").plain_text()
    reasons = assistant.handle_action(user, f"fb:down:{qid}")
    assert f"fbr:outdated:{qid}" in _actions(reasons)
    assistant.handle_action(user, f"fbr:outdated:{qid}")
    votes = [(r["vote"], r["reason"]) for r in store.db["feedback"].rows]
    assert votes == [("up", None), ("down", "outdated")]


@pytest.mark.parametrize("action", ["fb:up:999999", "fbr:bogus:1", "zzz", "fb:up:abc", "handoff:", "lang:xx"])
def test_stale_or_tampered_buttons_expire_politely(assistant, user, action):
    assert "expired" in assistant.handle_action(user, action).plain_text()


def test_someone_elses_question_cannot_be_rated(assistant, user):
    reply = assistant.handle_text(user, "Who can apply to NAKOPA?")
    assert "expired" in assistant.handle_action(UserRef("intruder"), f"fb:up:{reply.question_id}").plain_text()


def test_forget_me_erases_everything(assistant, user, store):
    reply = assistant.handle_text(user, "Who can apply to NAKOPA?")
    assistant.handle_action(user, f"fb:up:{reply.question_id}")
    assistant.handle_action(user, "lang:de")
    confirm = assistant.handle_command(user, "forget_me")
    assert _actions(confirm) == ["forget:yes", "forget:no"]
    assert store.db["questions"].count == 1  # nothing deleted before confirmation
    assistant.handle_action(user, "forget:yes")
    for table in ("questions", "feedback", "users", "conversations", "handoffs"):
        column = "id" if table == "users" else "user_id"
        assert store.db[table].count_where(f"{column} = ?", [user.id]) == 0, table


def test_stateless_ask_stores_nothing(assistant, store):
    reply = assistant.ask("Хто може подаватися на NAKOPA?")
    assert reply.language == "uk" and reply.citations and not reply.buttons
    assert store.db["questions"].count == 0


UNKNOWN_PROGRAMME = ("I have no information about {names} in my knowledge base about EU–Ukraine municipal "
                     "partnerships and funding, and I do not want to guess.")


@pytest.mark.parametrize(
    ("question", "lang", "name"),
    [("Як громаді подати заявку на грант USAID?", "uk", "USAID"),
     ("Comment candidater au programme URBACT pour un réseau de villes ?", "fr", "URBACT")],
)
def test_a_programme_we_do_not_cover_is_named_in_the_reply(assistant, question, lang, name):
    reply = assistant.ask(question)
    assert reply.abstained and not reply.citations and reply.language == lang
    english = UNKNOWN_PROGRAMME.format(names=name)
    with use_language(lang):
        translated = _(UNKNOWN_PROGRAMME).format(names=name)
    assert translated != english and translated in reply.plain_text()
