"""The assistant's core: one object that turns what a user sends into a `Reply`.

It knows nothing of Telegram or of the terminal. Adapters call `handle_text`, `handle_command` and `handle_action`
(button presses) with a `UserRef`, and render the `Reply`. Every method picks the reply language first and runs
inside it, so that every string goes through gettext in that language.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, replace

import numpy as np

from bot.answering import compose_answer
from bot.eligibility import (
    eligibility_reply, eligible_entries, is_eligibility_question, list_follow_up_reply, no_match_note, oblast_fit,
)
from bot.gazetteer import Filters, find_filters
from bot.i18n import _, language_name, normalize_language, supported_languages, use_language
from bot.language import WordEvidence, detect_language
from bot.reply import Block, Button, Reply, check_actions, text_reply
from bot.storage import Store
from bot.text_input import CleanText, clean
from retrieval.knowledge import texts_by_language
from retrieval.search import Searcher, SearchResult

log = logging.getLogger(__name__)

FEEDBACK_REASONS = ("wrong", "outdated", "language", "incomplete")
FOLLOW_UP_SECONDS = 30 * 60
FOLLOW_UP_MAX_WORDS = 12
# Follow-ups compare passage cosines only: sample questions match bare phrasings such as "what is co-financing?"
# to the generic how-to entry, while a follow-up asks about an aspect of the previous topic.
FOLLOW_UP_MARGIN = 0.03
FOLLOW_UP_CUE_MARGIN = 0.08  # "and ...?", "а ...?", "und ...?" almost always continue the previous topic
FOLLOW_UP_FLOOR = 0.83  # the previous topic's best passage must still be about the question
FOLLOW_UP_CUE_FLOOR = 0.80
FOLLOW_UP_CUE = re.compile(
    r"^\s*(and|what about|how about|also|а|і|й|та|а як|und|sowie|i|a|oraz|et|y|e|en|ja|och|og|és|ir|un|и)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class UserRef:
    """Who is talking: a stable id ("tg:123", "cli:local"), the client's language, and whether staff may act."""

    id: str
    client_language: str | None = None
    is_admin: bool = False


def supported_message_language(text: str, words: WordEvidence | None = None) -> str | None:
    """The message's language if we have a catalog for it; Russian and Belarusian get Ukrainian, our users' own."""
    detected = detect_language(text, words)
    return normalize_language(detected) or ({"ru": "uk", "be": "uk"}.get(detected or ""))


def input_problem(cleaned: CleanText, lang: str) -> Reply | None:
    """A polite reply for messages that hold no question (empty, emoji only, a bare link), else None."""
    if not cleaned.text:
        return text_reply(lang, _("Please type your question in a message, for example: "
                                  "“Which programmes fund water supply projects in Lviv oblast?”"))
    if cleaned.only_link:
        return text_reply(lang, _("I cannot open links. Please tell me in a few words what you would like to "
                                  "know about the page."))
    if not cleaned.has_words:
        return text_reply(lang, _("I could not find a question in this message. Please write it in words, "
                                  "in any EU language or in Ukrainian."))
    return None


class Assistant:
    def __init__(self, searcher: Searcher, store: Store, default_language: str = "en") -> None:
        self.searcher = searcher
        self.store = store
        self.entries = searcher.entries
        self.default_language = default_language
        self.words = WordEvidence(texts_by_language(self.entries.values()))

    # language ----------------------------------------------------------------------------------------------
    def reply_language(self, user: UserRef, text: str | None = None) -> str:
        """/language choice, else the message's language, else the last one seen, else the client's, else default."""
        profile = self.store.user(user.id) or {}
        if profile.get("language"):
            return profile["language"]
        detected = supported_message_language(text, self.words) if text else None
        if detected:
            self.store.touch_user(user.id, last_language=detected)
            return detected
        return (
            profile.get("last_language")
            or normalize_language(user.client_language)
            or normalize_language(self.default_language)
            or "en"
        )

    # text messages -----------------------------------------------------------------------------------------
    def handle_text(self, user: UserRef, raw: str) -> Reply:
        """A free-text message: a question about funding or partnerships."""
        cleaned = clean(raw)
        lang = self.reply_language(user, cleaned.text)
        self.store.touch_user(user.id, telegram_language=user.client_language)
        with use_language(lang):
            return check_actions(self._answer(user, cleaned, lang))

    def _answer(self, user: UserRef, cleaned: CleanText, lang: str) -> Reply:
        problem = input_problem(cleaned, lang)
        if problem is not None:
            return problem
        reply = self._search_and_answer(user, cleaned.text, lang)
        if cleaned.truncated:
            note = Block("note", _("Your message was very long, so I answered its first part only."))
            reply = replace(reply, blocks=(note, *reply.blocks))
        return reply

    def _search_and_answer(self, user: UserRef | None, text: str, lang: str) -> Reply:
        """Eligibility list or cited answer. Without a user (command line) nothing is stored and no buttons appear."""
        filters = find_filters(text)
        named = bool(self.searcher.named_entries(text))
        unmatched: Block | None = None
        # "Is URBACT open to a Hungarian town?" asks about a programme we do not cover: no list of others.
        if is_eligibility_question(text, filters, named) and not self.searcher.unknown_names(text, lang):
            # "Which BMZ funding fits a climate project?" lists BMZ programmes only
            family = self.searcher.family_entries(text)
            allowed = eligible_entries(self.entries.values(), filters, within=family or None)
            if allowed:
                question_id = self.store.record_question(user.id, text, lang, False, [], 1.0) if user else None
                reply = eligibility_reply(text, filters, allowed, self.searcher, lang, question_id)
                if user:
                    self._remember_topic(user, [c.id for c in reply.citations])
                return reply
            # none fits every condition: say so, then the closest answer rather than nothing
            unmatched = None if family else no_match_note(filters, lang)
        reply = self._ranked_answer(user, text, lang, filters, named)
        return replace(reply, blocks=(unmatched, *reply.blocks)) if unmatched else reply

    def _ranked_answer(self, user: UserRef | None, text: str, lang: str, filters: Filters, named: bool) -> Reply:
        """The answer from the best ranked entry (or a follow-up to the previous topic), cited."""
        vector = self.searcher.embed_queries([text])[0]
        preferred = oblast_fit(self.entries.values(), filters)
        result = self.searcher.search_with_vector(text, vector, lang=lang, preferred=preferred)
        if user is None:
            return compose_answer(result, self.entries, lang)
        topic = [] if named else self._recent_topic(user)
        follow = self._follow_up(topic, text, vector, lang, result)
        if follow is not None:
            result = follow
        question_id = self.store.record_question(
            user.id, text, lang, result.abstained, [h.entry_id for h in result.hits[:3]], result.best_cosine
        )
        if follow is not None and len(topic) > 1:
            # "and what is the co-financing?" after a list: the answer for each programme listed, not for one
            reply = list_follow_up_reply(follow, topic, self.entries, lang, question_id)
            self._remember_topic(user, topic)
            return reply
        reply = compose_answer(result, self.entries, lang, question_id)
        if reply.citations:  # a question we could not answer leaves the conversation's topic as it was
            self._remember_topic(user, [c.id for c in reply.citations[:1]])
        return reply

    def _remember_topic(self, user: UserRef, entry_ids: list[str]) -> None:
        state, data = self.store.conversation(user.id)
        data = {**data, "topic": entry_ids, "topic_at": time.time()}
        self.store.save_conversation(user.id, state, data)

    def _recent_topic(self, user: UserRef) -> list[str]:
        """The entries of the last answer or list, in their order, unless the conversation has gone quiet."""
        _state, data = self.store.conversation(user.id)
        if time.time() - data.get("topic_at", 0) > FOLLOW_UP_SECONDS:
            return []
        return list(data.get("topic") or [])

    def _follow_up(
        self, topic: list[str], question: str, vector: np.ndarray, lang: str, result: SearchResult
    ) -> SearchResult | None:
        """"And what is the co-financing?" after a question about NAKOPA: the search again, within the topic.

        A short question that names no programme is read against the previous topic (one entry, or the entries of
        a list) when that topic answers it about as well as anything else in the knowledge base. None: not a
        follow-up.
        """
        if not topic or len(question.split()) > FOLLOW_UP_MAX_WORDS:
            return None
        if len(topic) == 1 and result.hits and result.hits[0].entry_id in topic:
            return result
        # "and URBACT?" asks about a programme we do not cover, "and how do I extend my protection status?" about
        # something no entry answers: neither is about the topic
        if result.unknown_names or result.about_something_else:
            return None
        on_topic = self.searcher.search_with_vector(question, vector, lang=lang, k=len(topic), allowed=set(topic))
        cue = bool(FOLLOW_UP_CUE.match(question))
        margin = FOLLOW_UP_CUE_MARGIN if cue else FOLLOW_UP_MARGIN
        floor = FOLLOW_UP_CUE_FLOOR if cue else FOLLOW_UP_FLOOR
        if on_topic.hits and on_topic.best_cosine >= max(result.best_cosine - margin, floor):
            return SearchResult(on_topic.hits, on_topic.best_cosine, False, on_topic.evidence)
        return None

    def ask(self, question: str, lang: str | None = None) -> Reply:
        """One stateless question (command line): nothing is stored, no buttons."""
        cleaned = clean(question)
        reply_lang = (
            normalize_language(lang)
            or supported_message_language(cleaned.text, self.words)
            or normalize_language(self.default_language)
            or "en"
        )
        with use_language(reply_lang):
            problem = input_problem(cleaned, reply_lang)
            if problem is not None:
                return Reply(reply_lang, problem.blocks, abstained=True)
            return self._search_and_answer(None, cleaned.text, reply_lang)

    # commands ----------------------------------------------------------------------------------------------
    def handle_command(self, user: UserRef, name: str, args: str = "") -> Reply:
        """A /command; unknown ones get a polite pointer to /help."""
        # Only /ask carries words of the user's own; a /start payload ("from-website") says nothing of the language.
        lang = self.reply_language(user, args if name.lower() == "ask" and args else None)
        self.store.touch_user(user.id, telegram_language=user.client_language)
        with use_language(lang):
            handler = {
                "start": self._start,
                "help": self._help,
                "language": self._language_menu,
                "ask": self._ask_command,
                "forget_me": self._forget_confirm,
            }.get(name.lower())
            if handler is None:
                return text_reply(lang, _("I do not know the command /{name}. Send /help to see what I can do.")
                                  .format(name=name[:32]))
            return check_actions(handler(user, args, lang))

    def _start(self, user: UserRef, args: str, lang: str) -> Reply:
        blocks = [
            Block("title", _("Welcome to the European Partnership Hub assistant")),
            Block("text", _("I answer questions about EU funding and partnership programmes for Ukrainian "
                            "hromadas and European municipalities, always with the source.")),
            Block("text", _("Just write your question in Ukrainian, English or another EU language. "
                            "Send /help to see everything I can do.")),
        ]
        return Reply(lang, tuple(blocks))

    def _help(self, user: UserRef, args: str, lang: str) -> Reply:
        items = [
            _("/ask QUESTION – ask about funding or partnerships (or just write the question)"),
            _("/language – choose the language of my replies"),
            _("/forget_me – delete everything stored about you"),
            _("/help – this message"),
        ]
        blocks = [Block("title", _("What I can do")), *(Block("item", item) for item in items),
                  Block("text", _("Examples: “Who can apply to NAKOPA?”, “Які програми фінансують водопостачання "
                                  "на Львівщині?”, “Förderung für eine Partnerschaft mit einer ukrainischen "
                                  "Gemeinde?”"))]
        return Reply(lang, tuple(blocks))

    def _language_menu(self, user: UserRef, args: str, lang: str) -> Reply:
        wanted = normalize_language(args.strip()) if args.strip() else None
        if wanted:
            return self._set_language(user, wanted)
        buttons = [Button(language_name(code), f"lang:{code}") for code in supported_languages()]
        rows = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
        rows += ((Button(_("Automatic (the language I write in)"), "lang:auto"),),)
        return text_reply(lang, _("Choose the language of my replies:"), buttons=rows)

    def _set_language(self, user: UserRef, code: str) -> Reply:
        self.store.touch_user(user.id)
        self.store.db["users"].update(user.id, {"language": None if code == "auto" else code})
        lang = code if code != "auto" else self.reply_language(user)
        with use_language(lang):
            if code == "auto":
                return text_reply(lang, _("I will reply in the language you write in."))
            return text_reply(lang, _("I will reply in {language} from now on.").format(
                language=language_name(code, code)))

    def _ask_command(self, user: UserRef, args: str, lang: str) -> Reply:
        if not args.strip():
            return text_reply(lang, _("Write your question after /ask, or simply send it as a message."))
        return self._answer(user, clean(args), lang)

    def _forget_confirm(self, user: UserRef, args: str, lang: str) -> Reply:
        buttons = ((Button(_("Yes, delete my data"), "forget:yes"), Button(_("No, keep it"), "forget:no")),)
        return text_reply(lang, _("This deletes your language setting, your questions, your feedback and any "
                                  "request to the secretariat. Continue?"), buttons=buttons)

    # buttons -----------------------------------------------------------------------------------------------
    def handle_action(self, user: UserRef, action: str) -> Reply:
        """A button press. Unknown, tampered or outdated buttons get a polite 'expired' reply."""
        lang = self.reply_language(user)
        with use_language(lang):
            try:
                reply = self._dispatch_action(user, action, lang)
            except (ValueError, LookupError):
                reply = None
            if reply is None:
                return text_reply(lang, _("This button has expired. Please send your question again."))
            return check_actions(reply)

    def _dispatch_action(self, user: UserRef, action: str, lang: str) -> Reply | None:
        kind, _sep, rest = action.partition(":")
        if kind == "lang" and (rest == "auto" or rest in supported_languages()):
            return self._set_language(user, rest)
        if kind == "forget":
            if rest == "yes":
                self.store.forget_user(user.id)
                return text_reply(lang, _("Done: everything stored about you has been deleted."))
            if rest == "no":
                return text_reply(lang, _("Nothing was deleted."))
            return None
        if kind in {"fb", "fbr", "handoff"}:
            return self._feedback_action(user, kind, rest, lang)
        return None

    def _own_question(self, user: UserRef, raw_id: str) -> dict:
        question = self.store.question(int(raw_id))
        if question is None or question["user_id"] != user.id:
            raise LookupError(raw_id)
        return question

    def _feedback_action(self, user: UserRef, kind: str, rest: str, lang: str) -> Reply | None:
        if kind == "handoff":
            question = self._own_question(user, rest)
            if not self.store.record_handoff(question["id"], user.id):
                return text_reply(lang, _("Your question is already with the secretariat."))
            return text_reply(lang, _("Thank you. I passed your question to the secretariat of the European "
                                      "Partnership Hub; they will get back to you."))
        vote, _sep, raw_id = rest.partition(":")
        if kind == "fb" and vote == "up":
            question = self._own_question(user, raw_id)
            self.store.record_feedback(question["id"], user.id, "up")
            return text_reply(lang, _("Thank you for your feedback!"))
        if kind == "fb" and vote == "down":
            question = self._own_question(user, raw_id)
            labels = {
                "wrong": _("Wrong answer"),
                "outdated": _("Outdated"),
                "language": _("Not my language"),
                "incomplete": _("Incomplete"),
            }
            rows = tuple(
                (Button(labels[a], f"fbr:{a}:{question['id']}"), Button(labels[b], f"fbr:{b}:{question['id']}"))
                for a, b in (FEEDBACK_REASONS[:2], FEEDBACK_REASONS[2:])
            ) + ((Button(_("Ask the secretariat"), f"handoff:{question['id']}"),),)
            return text_reply(lang, _("Sorry about that. What was wrong with the answer?"), buttons=rows)
        if kind == "fbr" and vote in FEEDBACK_REASONS:
            question = self._own_question(user, raw_id)
            self.store.record_feedback(question["id"], user.id, "down", vote)
            buttons = ((Button(_("Ask the secretariat"), f"handoff:{question['id']}"),),)
            return text_reply(lang, _("Thank you, this helps us improve the knowledge base."), buttons=buttons)
        return None
