"""The Telegram adapter end to end: the real python-telegram-bot stack over HTTP against a fake Bot API server.

The core is the session's real knowledge index and model; each test gets its own SQLite file. Every test asserts on
what the fake server received, i.e. on what users would have seen, and that Telegram rejected nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import telegram_app
from bot.i18n import _, supported_languages, use_language
from bot.reply import Block, Button, Reply
from bot.runtime import Runtime
from bot.telegram_app import (
    ALLOWED_UPDATES,
    COMMANDS,
    Admission,
    TypingBudget,
    UserRateLimit,
    api_urls,
    build_application,
)
from bot.telegram_render import MESSAGE_BUDGET, render, split_paragraph, visible_length
from tests.fake_bot_api import BOT_USERNAME, FakeBotApi, parse_html

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token"
NAKOPA_URL = "https://skew.engagement-global.de/unterstuetzung-durch-nakopa.html"


def translated(lang: str, msgid: str) -> str:
    with use_language(lang):
        return _(msgid)


# fixtures ------------------------------------------------------------------------------------------------------
@pytest.fixture
def fake():
    with FakeBotApi(TOKEN) as api:
        yield api


def bot_runtime(runtime: Runtime, fake: FakeBotApi, db_path: Path, **overrides) -> Runtime:
    """A Runtime over the session's search index and model, with its own database file."""
    settings = dataclasses.replace(runtime.settings, db_path=db_path, telegram_token=TOKEN,
                                   telegram_base_url=fake.base_url, **overrides)
    fresh = Runtime(settings, progress=None)
    fresh.entries = runtime.entries
    fresh.searcher = runtime.searcher
    return fresh


@contextlib.asynccontextmanager
async def running(rt: Runtime, **build_options):
    """Start the application as run_polling would (post_init included), and stop it cleanly."""
    app = build_application(rt, rt.settings, **build_options)
    async with app:
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


@pytest.fixture
async def bot(runtime, fake, tmp_path):
    rt = bot_runtime(runtime, fake, tmp_path / "bot.sqlite3")
    async with running(rt):
        yield rt
    rt.store.close()


def no_errors(fake: FakeBotApi) -> None:
    assert fake.errors == [], fake.errors


def keyboard_data(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


def button(message: dict, prefix: str) -> str:
    matches = [data for data in keyboard_data(message) if data.startswith(prefix)]
    assert matches, f"no {prefix!r} button in {keyboard_data(message)}"
    return matches[0]


# rendering (pure) ----------------------------------------------------------------------------------------------
def test_render_escapes_formats_and_links():
    reply = Reply("en", (
        Block("title", "NAKOPA <b> & co"),
        Block("note", "Only in English"),
        Block("quote", "Applicants: a < b & \"c\""),
        Block("item", "One"),
        Block("source", "Source: NAKOPA", url=NAKOPA_URL + "?a=1&b=2"),
    ), buttons=((Button("👍", "fb:up:1"), Button("👎", "fb:down:1")),))
    [message] = render(reply)
    assert message.text.startswith("<b>NAKOPA &lt;b&gt; &amp; co</b>\n\n<i>Only in English</i>")
    assert "<blockquote>Applicants: a &lt; b &amp; &quot;c&quot;</blockquote>" in message.text
    assert "• One" in message.text
    assert f'<a href="{NAKOPA_URL}?a=1&amp;b=2">Source: NAKOPA</a>' in message.text
    visible, entities = parse_html(message.text)
    assert "NAKOPA <b> & co" in visible
    assert {"type": "text_link", "url": NAKOPA_URL + "?a=1&b=2"}.items() <= entities[-1].items()
    assert [[b.callback_data for b in row] for row in message.keyboard.inline_keyboard] == [["fb:up:1", "fb:down:1"]]


def test_render_splits_long_replies_without_cutting_tags():
    paragraph = ("Municipalities & hromadas <apply> together. " * 80).strip()  # ~3,500 characters
    emoji_line = "🇺🇦 " * 2500  # 2 UTF-16 units per flag letter: Telegram counts 12,500 here
    reply = Reply("en", (
        Block("title", "Title"),
        Block("quote", paragraph),
        Block("text", paragraph),
        Block("text", emoji_line),
        Block("text", "x" * 9000),  # no boundary at all: hard cuts
        Block("source", "Source", url=NAKOPA_URL),
    ), buttons=((Button("OK", "ok"),),))
    parts = render(reply)
    assert len(parts) >= 6
    for part in parts:
        visible, _entities = parse_html(part.text)  # raises on a cut tag or entity
        assert 0 < visible_length(visible) <= MESSAGE_BUDGET
    assert all(part.keyboard is None for part in parts[:-1]) and parts[-1].keyboard is not None
    joined = "".join(parse_html(part.text)[0] for part in parts)
    assert joined.count("Municipalities & hromadas <apply> together.") == 160
    assert joined.count("x") == 9000 and "🇺🇦" in joined


def test_split_paragraph_prefers_sentences_then_spaces():
    text = "First sentence here. Second one follows! " * 10
    pieces = split_paragraph(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert all(p.endswith((".", "!")) for p in pieces[:-1])
    assert " ".join(pieces) == text.strip()


@pytest.mark.parametrize("base, api, files", [
    ("http://127.0.0.1:8081", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
    ("http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
    ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
    ("https://proxy.example/tg/bot/", "https://proxy.example/tg/bot", "https://proxy.example/tg/file/bot"),
])
def test_api_urls_accept_base_with_or_without_bot(base, api, files):
    assert api_urls(base) == (api, files)


def test_user_rate_limit_paces_instead_of_dropping():
    now = [0.0]
    limit = UserRateLimit(3, window=60, clock=lambda: now[0])
    assert [limit.admit("a") for _ in range(3)] == [Admission()] * 3  # a burst of `limit` is answered at once
    assert limit.admit("a") == Admission(delay=20, notify=True)  # then one every window/limit seconds, told once
    assert limit.admit("a") == Admission(delay=40)
    assert limit.admit("a") == Admission(refused=True, notify=True)  # a backlog of a whole window is refused
    assert limit.admit("a") == Admission(refused=True)  # each notice once a window
    assert limit.admit("b") == Admission()
    now[0] = 120
    assert limit.admit("a") == Admission()


def test_typing_budget_refills_over_time():
    now = [0.0]
    budget = TypingBudget(2, clock=lambda: now[0])
    assert [budget.take() for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert [budget.take() for _ in range(2)] == [True, False]


# the bot over HTTP ---------------------------------------------------------------------------------------------
async def test_start_in_the_users_language_and_commands_published(bot, fake):
    fake.send_command(1, "start", language_code="uk")
    fake.send_command(2, "start", "from-website", language_code="de")
    uk = (await fake.areplies(1, 1))[0]
    de = (await fake.areplies(2, 1))[0]
    welcome = "Welcome to the European Partnership Hub assistant"
    assert uk["text"].startswith(translated("uk", welcome)) and "Вітаємо" in uk["text"]
    assert de["text"].startswith(translated("de", welcome))  # English until a German catalog exists
    assert uk["html"].startswith("<b>")
    assert fake.calls_of("sendMessage")[0].params["parse_mode"] == "HTML"
    assert set(fake.commands) == {("default", "")} | {("default", lang) for lang in supported_languages()}
    assert all([c["command"] for c in cmds] == list(COMMANDS) for cmds in fake.commands.values())
    no_errors(fake)


async def test_cited_answer_links_the_source(bot, fake):
    fake.send_text(3, "Who can apply to NAKOPA?")
    [answer] = await fake.areplies(3, 1)
    assert f'<a href="{NAKOPA_URL}">' in answer["html"]
    assert any(e["type"] == "text_link" and e["url"] == NAKOPA_URL for e in answer["entities"])
    assert any(e["type"] == "blockquote" for e in answer["entities"])
    assert [d.split(":")[:2] for d in keyboard_data(answer)] == [["fb", "up"], ["fb", "down"]]
    no_errors(fake)


async def test_off_topic_question_offers_the_secretariat(bot, fake):
    fake.send_text(4, "What will the weather be like in Paris tomorrow?")
    [reply] = await fake.areplies(4, 1)
    assert "knowledge base" in reply["text"]
    assert [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row] == ["Ask the secretariat"]
    fake.press(4, reply, button(reply, "handoff:"))
    replies = await fake.areplies(4, 2)
    assert replies[1]["method"] == "editMessageText"  # the offer is replaced by its outcome
    assert replies[1]["text"].startswith("Thank you. I passed your question to the secretariat")
    assert bot.store.db["handoffs"].count_where("user_id = ?", ["tg:4"]) == 1
    assert len(fake.calls_of("answerCallbackQuery")) == 1
    no_errors(fake)


async def test_a_follow_up_to_a_list_answers_each_programme_with_valid_links(bot, fake):
    fake.send_text(15, "Які програми фінансують водопостачання для громади на Львівщині?")
    [listed] = await fake.areplies(15, 1)
    fake.send_text(15, "і яке співфінансування?")
    replies = await fake.areplies(15, 2)
    follow = replies[1]
    assert follow["text"].startswith(translated("uk", "For each programme in my last list"))
    links = [e["url"] for e in follow["entities"] if e["type"] == "text_link"]
    assert len(links) > 1 and links == [e["url"] for e in listed["entities"] if e["type"] == "text_link"]
    no_errors(fake)


async def test_a_programme_we_do_not_cover_is_named_and_escaped(bot, fake):
    fake.send_text(14, "Can a hromada join <b>URBACT</b> & the <i>EBRD</i> programmes?")
    [reply] = await fake.areplies(14, 1)
    assert "URBACT and EBRD" in reply["text"] and "<b>URBACT" not in reply["html"]
    assert [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row] == ["Ask the secretariat"]
    no_errors(fake)


async def test_very_long_message_is_answered(bot, fake):
    question = "Which programmes fund water supply projects for a hromada in Lviv oblast? "
    fake.send_text(5, (question * 200)[:10_000])
    replies = await fake.areplies(5, 1)
    await asyncio.sleep(0.2)
    assert len(fake.replies(5)) == len(replies) >= 1
    assert all(r["text"] != translated("en", telegram_app.FAILED) for r in replies)
    no_errors(fake)


async def test_html_in_the_question_gives_valid_html(bot, fake):
    fake.send_text(6, "<b>NAKOPA</b> & <script>alert(1)</script> who can apply? &foo; <")
    [reply] = await fake.areplies(6, 1)
    assert reply["text"]
    assert "<script>" not in reply["html"]
    no_errors(fake)


async def test_language_button_changes_reply_language(bot, fake):
    fake.send_command(7, "language")
    [menu] = await fake.areplies(7, 1)
    fake.press(7, menu, "lang:uk")
    replies = await fake.areplies(7, 2)
    assert replies[1]["method"] == "editMessageText" and replies[1]["message_id"] == menu["message_id"]
    assert replies[1]["text"].startswith("Відтепер я відповідатиму")
    fake.send_text(7, "Who can apply to NAKOPA?")
    answer = (await fake.areplies(7, 3))[2]
    assert [q["language"] for q in bot.store.db["questions"].rows_where("user_id = ?", ["tg:7"])] == ["uk"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in answer["text"])  # an English question, a Ukrainian answer
    assert bot.store.user("tg:7")["language"] == "uk"
    no_errors(fake)


async def test_a_message_that_cannot_be_edited_gets_a_new_reply(bot, fake):
    fake.send_command(26, "language")
    [menu] = await fake.areplies(26, 1)
    fake.fail_next("editMessageText", 400, description="message can't be edited")
    fake.press(26, menu, "lang:de")
    replies = await fake.areplies(26, 2)
    assert replies[1]["method"] == "sendMessage"
    assert replies[1]["text"] == translated("de", "I will reply in {language} from now on.").format(language="Deutsch")
    assert fake.errors == [("editMessageText", 400, "Bad Request: message can't be edited")]


async def test_feedback_buttons_and_a_reason(bot, fake):
    fake.send_text(8, "Who can apply to NAKOPA?")
    [answer] = await fake.areplies(8, 1)
    fake.press(8, answer, button(answer, "fb:up:"))
    replies = await fake.areplies(8, 2)
    assert replies[1]["text"] == "Thank you for your feedback!"
    # The answer is kept; only its buttons are taken away.
    assert fake.messages[(8, answer["message_id"])]["text"] == answer["text"]
    assert "reply_markup" not in fake.messages[(8, answer["message_id"])]

    fake.send_text(8, "How much money does NAKOPA give?")
    second = (await fake.areplies(8, 3))[2]
    fake.press(8, second, button(second, "fb:down:"))
    prompt = (await fake.areplies(8, 4))[3]
    assert prompt["text"].startswith("Sorry about that")
    fake.press(8, prompt, button(prompt, "fbr:outdated:"))
    thanks = (await fake.areplies(8, 5))[4]
    assert thanks["method"] == "editMessageText" and thanks["text"].startswith("Thank you, this helps")
    votes = [(row["vote"], row["reason"]) for row in bot.store.db["feedback"].rows_where("user_id = ?", ["tg:8"])]
    assert votes == [("up", None), ("down", "outdated")]
    no_errors(fake)


async def test_tampered_or_foreign_buttons_have_expired(bot, fake):
    fake.send_text(9, "Who can apply to NAKOPA?")
    [answer] = await fake.areplies(9, 1)
    stolen = button(answer, "fb:up:")
    tampered = ("fb:up:999999", "lang:xx", "garbage", stolen)  # the last: another user's question
    for _ in tampered:
        fake.send_command(10, "help")
    menus = await fake.areplies(10, len(tampered))
    for menu, data in zip(menus, tampered):
        fake.press(10, menu, data)
    edits = (await fake.areplies(10, 2 * len(tampered)))[len(tampered):]
    expired = "This button has expired. Please send your question again."
    assert [r["text"] for r in edits] == [expired] * len(tampered)
    assert {r["message_id"] for r in edits} == {m["message_id"] for m in menus}
    assert bot.store.db["feedback"].count == 0
    no_errors(fake)


async def test_forget_me_deletes_the_users_data(bot, fake):
    fake.send_text(11, "Who can apply to NAKOPA?")
    await fake.areplies(11, 1)
    assert bot.store.db["questions"].count_where("user_id = ?", ["tg:11"]) == 1
    fake.send_command(11, "forget_me")
    confirm = (await fake.areplies(11, 2))[1]
    fake.press(11, confirm, "forget:yes")
    done = (await fake.areplies(11, 3))[2]
    assert done["text"].startswith("Done: everything stored about you has been deleted.")
    for table in ("questions", "feedback", "handoffs", "conversations"):
        assert bot.store.db[table].count_where("user_id = ?", ["tg:11"]) == 0
    assert bot.store.user("tg:11") is None
    no_errors(fake)


async def test_restart_keeps_language_and_old_buttons_work(runtime, fake, tmp_path):
    db_path = tmp_path / "bot.sqlite3"
    first = bot_runtime(runtime, fake, db_path)
    async with running(first):
        fake.send_command(12, "language", "uk")
        fake.send_text(13, "Who can apply to NAKOPA?")
        await fake.areplies(12, 1)
        [answer] = await fake.areplies(13, 1)
    first.store.close()

    # Pressed while the bot was down: by the time it is back, the query is too old to answer.
    fake.press(13, answer, button(answer, "fb:up:"))
    fake.fail_next("answerCallbackQuery", 400,
                   description="query is too old and response timeout expired or query ID is invalid")
    second = bot_runtime(runtime, fake, db_path)
    async with running(second):
        fake.send_text(12, "Who can apply to NAKOPA?")
        thanks = (await fake.areplies(13, 2))[1]
        uk_answer = (await fake.areplies(12, 2))[1]
    assert thanks["text"] == "Thank you for your feedback!"
    assert second.store.db["feedback"].count == 1
    assert [q["language"] for q in second.store.db["questions"].rows_where("user_id = ?", ["tg:12"])] == ["uk"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in uk_answer["text"])
    second.store.close()
    assert [(m, code) for m, code, _d in fake.errors] == [("answerCallbackQuery", 400)]


async def test_fifty_users_at_once_all_get_answers(bot, fake):
    questions = ["Who can apply to NAKOPA?", "Які програми фінансують водопостачання?",
                 "How can a German town find a partner hromada?", "What is the capital of Peru?"]
    users = range(1000, 1050)
    for user in users:
        fake.send_text(user, questions[user % 4], language_code="uk" if user % 2 else "en")
    for user in users:
        await fake.areplies(user, 1, timeout=60)
    assert sorted(int(c.params["chat_id"]) for c in fake.calls_of("sendMessage")) == list(users)
    assert bot.store.db["questions"].count == 50
    no_errors(fake)


async def test_unknown_command_non_text_and_edited_messages(bot, fake):
    fake.send_command(14, "frobnicate")
    fake.send_sticker(15)
    fake.send_photo(16, language_code="uk", caption="NAKOPA?")
    fake.send_voice(17)
    fake.send_text(18, "Who can apply to NAKOPA?", edited=True)
    assert (await fake.areplies(14, 1))[0]["text"].startswith("I do not know the command /frobnicate.")
    assert (await fake.areplies(15, 1))[0]["text"] == translated("en", telegram_app.ONLY_TEXT)
    assert (await fake.areplies(16, 1))[0]["text"] == translated("uk", telegram_app.ONLY_TEXT)
    assert (await fake.areplies(17, 1))[0]["text"] == translated("en", telegram_app.ONLY_TEXT)
    fake.send_command(18, "help")
    await fake.areplies(18, 1)
    await asyncio.sleep(0.3)
    assert len(fake.replies(18)) == 1  # the edited message got no answer
    no_errors(fake)


async def test_groups_answer_only_commands_and_mentions(bot, fake):
    group = -100500
    fake.send_text(19, "Who can apply to NAKOPA?", chat_type="supergroup", chat_id=group)
    fake.send_text(19, "/help@some_other_bot", chat_type="supergroup", chat_id=group)
    fake.send_text(20, f"@{BOT_USERNAME} Who can apply to NAKOPA?", chat_type="supergroup", chat_id=group)
    [answer] = await fake.areplies(group, 1)
    assert NAKOPA_URL in answer["html"]
    call = fake.calls_of("sendMessage")[0]
    assert call.params["reply_parameters"]["message_id"] > 0
    fake.send_text(19, f"/help@{BOT_USERNAME}", chat_type="supergroup", chat_id=group)
    await fake.areplies(group, 2)
    await asyncio.sleep(0.3)
    assert len(fake.replies(group)) == 2
    no_errors(fake)


async def test_flood_control_retry_after_is_respected(bot, fake):
    fake.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    fake.send_command(21, "help")
    [reply] = await fake.areplies(21, 1)
    assert reply["text"].startswith("What I can do")
    assert time.monotonic() - started >= 1
    assert fake.errors == [("sendMessage", 429, "Too Many Requests: retry after 1")]


async def test_per_user_rate_limit_answers_later_instead_of_dropping(runtime, fake, tmp_path, monkeypatch):
    monkeypatch.setattr(telegram_app, "RATE_WINDOW", 2.0)  # 3 messages per 2 s: one every 0.67 s after a burst of 3
    rt = bot_runtime(runtime, fake, tmp_path / "bot.sqlite3", rate_limit_per_minute=3)
    async with running(rt):
        for _ in range(8):
            fake.send_command(22, "help", language_code="uk")
        fake.send_command(23, "help")
        await fake.areplies(23, 1)
        await fake.areplies(22, 7, timeout=10)
        await asyncio.sleep(1.0)
    rt.store.close()
    texts = [r["text"] for r in fake.replies(22)]
    notices = [translated("uk", telegram_app.SLOWING_DOWN), translated("uk", telegram_app.TOO_FAST)]
    assert [texts.count(notice) for notice in notices] == [1, 1]
    # 3 answers at once, then one every 0.67 s while the wait stays under the window: 5 or 6 of the 8 (timing)
    assert len(texts) - 2 in (5, 6)
    no_errors(fake)


async def test_typing_indicator_while_the_core_works(bot, fake, monkeypatch):
    monkeypatch.setattr(telegram_app, "TYPING_DELAY", 0)
    fake.send_text(24, "Who can apply to NAKOPA?")
    await fake.areplies(24, 1)
    actions = [c.params for c in fake.calls_of("sendChatAction")]
    assert actions and actions[0]["action"] == "typing" and int(actions[0]["chat_id"]) == 24
    assert fake.calls.index(fake.calls_of("sendChatAction")[0]) < fake.calls.index(fake.calls_of("sendMessage")[0])
    no_errors(fake)


async def test_errors_are_logged_and_the_user_gets_an_apology(bot, fake, monkeypatch, caplog):
    def broken(user, text):
        raise RuntimeError("core failure")

    monkeypatch.setattr(bot.assistant, "handle_text", broken)
    with caplog.at_level(logging.ERROR, logger="bot.telegram_app"):
        fake.send_text(25, "Хто може подати заявку на NAKOPA? secret words", language_code="uk")
        [reply] = await fake.areplies(25, 1)
    assert reply["text"] == translated("uk", telegram_app.FAILED)
    [record] = [r for r in caplog.records if r.name == "bot.telegram_app"]
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    assert "secret words" not in caplog.text and TOKEN not in caplog.text
    no_errors(fake)


def test_rejected_token_exits_with_code_2(fake, tmp_path):
    fake.reject_token = True
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": fake.base_url,
           "BOT_DATA_DIR": str(tmp_path), "BOT_INDEX_DIR": str(ROOT / "var" / "index"), "WEBHOOK_URL": ""}
    result = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "rejected TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr
    assert [method for method, status, _d in fake.errors] == ["getMe"]


def test_webhook_mode_checks_the_secret_and_answers(fake, tmp_path):
    """`python -m bot run` with WEBHOOK_URL: registers the webhook with its secret, rejects posts without it."""
    import json
    import signal
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": fake.base_url + "/bot",
           "BOT_DATA_DIR": str(tmp_path), "BOT_INDEX_DIR": str(ROOT / "var" / "index"),
           "WEBHOOK_URL": "https://bot.example.org/telegram/hook", "WEBHOOK_SECRET": "s3cret-Token_1",
           "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not fake.calls_of("setWebhook"):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1]
            time.sleep(0.1)
        [registered] = fake.calls_of("setWebhook")
        assert registered.params["url"] == "https://bot.example.org/telegram/hook"
        assert registered.params["secret_token"] == "s3cret-Token_1"
        fake._chat_for(27, None, "private")
        update = {"update_id": 1, "message": {"message_id": 1, "date": int(time.time()),
                                              "chat": {"id": 27, "type": "private"},
                                              "from": fake.user(27), "text": "/help",
                                              "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}

        def post(secret: str | None) -> int:
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secret
            request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram/hook",
                                             data=json.dumps(update).encode(), headers=headers)
            for _attempt in range(50):
                try:
                    return urllib.request.urlopen(request, timeout=10).status
                except urllib.error.HTTPError as exc:
                    return exc.code
                except urllib.error.URLError:
                    time.sleep(0.1)  # the webhook server is still starting
            raise AssertionError("webhook server did not start")

        assert post(None) == 403
        assert post("wrong") == 403
        assert post("s3cret-Token_1") == 200
        [reply] = fake.wait_replies(27, 1, timeout=30)
        assert reply["text"].startswith("What I can do")
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert TOKEN not in err and "s3cret-Token_1" not in err
