"""The Telegram adapter: python-telegram-bot handlers over the core `Assistant`.

Handlers are short: read who is talking, await the core in a worker thread (embedding is CPU work and must not block
the event loop), render the `Reply` with `bot.telegram_render`, send it. All wording comes from the core or from the
few `_()` strings below; all state lives in the core's SQLite store, so a restart loses nothing.

Private chats get answers to everything; in groups the bot answers commands and messages that mention it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlparse

from telegram import (
    Bot,
    BotCommand,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.assistant import Assistant, UserRef
from bot.config import Settings
from bot.i18n import N_, SOURCE_LANGUAGE, _, supported_languages, use_language
from bot.reply import Reply, text_reply
from bot.runtime import Runtime
from bot.telegram_render import OutgoingMessage, render

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMANDS = ("start", "help", "language", "ask", "forget_me")
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]  # edited messages are ignored quietly
TYPING_DELAY = 0.5  # seconds; a fast answer needs no "typing…" (and saves a request under flood limits)
TYPING_REFRESH = 4.5  # Telegram shows a chat action for about 5 seconds
TYPING_PER_SECOND = 5.0  # chat actions in all, a sixth of Telegram's 30 requests/s (see TypingBudget)
RATE_WINDOW = 60.0  # seconds, for the per-user limit (settings.rate_limit_per_minute)
FLOOD_RETRIES = 3  # RetryAfter answers respected before a send gives up
CORE_THREADS = 32  # questions in the core at once; their query embeddings are batched together (retrieval.embedder)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # answers cite sources; a page preview would bury the answer

COMMAND_DESCRIPTIONS = {
    # I18N: descriptions in Telegram's command menu, next to /start, /help, /language, /ask and /forget_me.
    "start": N_("Welcome and what I can do"),
    "help": N_("How to ask, with examples"),
    "language": N_("Choose the language of my replies"),
    "ask": N_("Ask about funding or partnerships"),
    "forget_me": N_("Delete everything stored about you"),
}
# I18N: reply to a photo, voice message, sticker, file or location.
ONLY_TEXT = N_("I can only read text messages. Please type your question in words.")
# I18N: sent at most once a minute to a user whose messages now wait their turn.
SLOWING_DOWN = N_("You are sending many messages at once. I will answer each of them, a little more slowly.")
# I18N: sent at most once a minute to a user who sends so many messages that some are not answered.
TOO_FAST = N_("You are sending messages faster than I can answer. Please wait a minute, then ask again.")
# I18N: sent when an unexpected error stopped the bot from answering.
FAILED = N_("Sorry, something went wrong on my side. Please try again in a moment.")


@dataclass(frozen=True)
class Admission:
    """What to do with one message: answer after `delay` seconds (0: now), say once that answers slow down, or
    refuse it (`refused`) when the user's queue is already a whole window long."""

    delay: float = 0.0
    notify: bool = False
    refused: bool = False


class UserRateLimit:
    """Per-user pacing (the generic cell rate algorithm): `limit` messages per `window` answer at once, later ones
    wait their turn instead of being dropped, and only a backlog longer than a window is refused. People who paste
    several questions in a row all get answers; a flood cannot make the bot work for one user only."""

    def __init__(self, limit: int, window: float = RATE_WINDOW, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._due: dict[str, float] = {}  # the time the user's next message could be answered without a burst
        self._notified: dict[tuple[str, str], float] = {}

    def admit(self, key: str) -> Admission:
        if self.limit <= 0:
            return Admission()
        now = self.clock()
        interval = self.window / self.limit
        due = max(self._due.get(key, now), now)
        delay = max(0.0, due - (self.limit - 1) * interval - now)
        if delay >= self.window:
            return Admission(refused=True, notify=self._first_notice((key, "refused"), now))
        self._due[key] = due + interval
        if len(self._due) > 10_000:
            self._forget_idle(now)
        return Admission(delay, notify=delay > 0 and self._first_notice((key, "delayed"), now))

    def _first_notice(self, about: tuple[str, str], now: float) -> bool:
        """Each kind of notice at most once a window per user."""
        if now - self._notified.get(about, -self.window) < self.window:
            return False
        self._notified[about] = now
        return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, due in self._due.items() if due <= now]:
            self._due.pop(key, None)
        for about in [a for a, at in self._notified.items() if at <= now - self.window]:
            self._notified.pop(about, None)


def api_urls(base: str) -> tuple[str, str]:
    """Bot API and file base URLs for PTB, which appends the token: accepts "http://host:8081", ".../bot",
    ".../bot/" or a URL with a {token} placeholder."""
    if "{token}" in base:
        return base, base.replace("/bot{token}", "/file/bot{token}")
    root = base.rstrip("/")
    root = re.sub(r"/bot$", "", root)
    return f"{root}/bot", f"{root}/file/bot"


def user_ref(user: User, settings: Settings) -> UserRef:
    return UserRef(id=f"tg:{user.id}", client_language=user.language_code, is_admin=user.id in settings.admin_ids)


def command_args(text: str) -> str:
    """Everything after the /command word, keeping the question's own line breaks."""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def cites_sources(message: Message) -> bool:
    """An answer carries source links; a button under it must not erase it."""
    return any(entity.type == MessageEntity.TEXT_LINK for entity in message.entities or ())


class TypingBudget:
    """At most `per_second` chat actions in all. PTB's flood limiter counts them like messages, so under load
    "typing…" for everyone would halve how many answers go out; past the budget a refresh is simply skipped."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.clock = clock
        self._tokens = per_second
        self._at = clock()

    def take(self) -> bool:
        now = self.clock()
        self._tokens = min(self.per_second, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


@contextlib.asynccontextmanager
async def typing(bot, chat_id: int, budget: TypingBudget) -> AsyncIterator[None]:
    """Show "typing…" in the chat while the block runs, if it takes longer than TYPING_DELAY."""

    async def keep_typing() -> None:
        await asyncio.sleep(TYPING_DELAY)
        while True:
            if budget.take():
                with contextlib.suppress(TelegramError):
                    await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_REFRESH)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class TelegramBot:
    """The handlers, with the core and the settings they need; `register` wires them into an Application."""

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.rate_limit = UserRateLimit(settings.rate_limit_per_minute, RATE_WINDOW)
        self.typing_budget = TypingBudget(TYPING_PER_SECOND)
        # asyncio's default pool has cpu+4 threads; more questions in flight means fuller embedding batches
        self._core = ThreadPoolExecutor(CORE_THREADS, thread_name_prefix="core")

    async def in_core(self, work: Callable[..., T], *args: object) -> T:
        """Run core work in a worker thread (as asyncio.to_thread, context variables included)."""
        call = functools.partial(contextvars.copy_context().run, work, *args)
        return await asyncio.get_running_loop().run_in_executor(self._core, call)

    @property
    def assistant(self) -> Assistant:
        return self.runtime.assistant

    def register(self, app: Application) -> None:
        private = filters.ChatType.PRIVATE
        new_message = filters.UpdateType.MESSAGE
        for name in COMMANDS:
            app.add_handler(CommandHandler(name, self.on_command, filters=new_message))
        app.add_handler(MessageHandler(filters.COMMAND & new_message, self.on_command))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private & new_message, self.on_text))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS & new_message,
                                       self.on_group_text))
        app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private & new_message,
                                       self.on_not_text))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_error_handler(self.on_error)

    # handlers ------------------------------------------------------------------------------------------------
    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any /command (with a /start deep-link payload or /ask question after it) goes to the core."""
        message = update.effective_message
        word = message.text.split(maxsplit=1)[0][1:]
        name, _at, addressee = word.partition("@")
        if addressee and addressee.lower() != (context.bot.username or "").lower():
            return  # a command for another bot in the same group
        args = command_args(message.text)
        await self._answer(update, context, lambda user: self.assistant.handle_command(user, name, args))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A question in a private chat goes to the core."""
        text = update.effective_message.text
        await self._answer(update, context, lambda user: self.assistant.handle_text(user, text))

    async def on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group, only a message that mentions the bot is a question; the mention itself is removed."""
        message = update.effective_message
        mention = f"@{context.bot.username}".lower()
        mentions = message.parse_entities([MessageEntity.MENTION])
        if not any(text.lower() == mention for text in mentions.values()):
            return
        text = re.sub(re.escape(mention), " ", message.text, flags=re.IGNORECASE).strip()
        await self._answer(update, context, lambda user: self.assistant.handle_text(user, text))

    async def on_not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, voice message, sticker, file or location: explain politely that only text is understood."""
        await self._answer(update, context, lambda user: self._own_reply(user, ONLY_TEXT))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: acknowledge it, let the core act, then show the result in place or as a new message."""
        query = update.callback_query
        with contextlib.suppress(BadRequest):  # a press queued while the bot was down is too old to answer
            await query.answer()
        user = user_ref(query.from_user, self.settings)
        reply = await self.in_core(self.assistant.handle_action, user, query.data or "")
        parts = render(reply)
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        if isinstance(message, Message) and parts:  # not an InaccessibleMessage (too old) or missing
            if cites_sources(message):
                # Keep the answer, take its buttons away (they were used), and reply below it.
                with contextlib.suppress(BadRequest):
                    await query.edit_message_reply_markup(reply_markup=None)
            elif await self._edit(query, parts[0]):
                parts = parts[1:]
        await self._send_parts(context.bot, chat_id, parts)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error first (never message texts or tokens), then apologise to the user in their language."""
        log.error("Error while handling an update", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_user is None or update.effective_chat is None:
            return
        try:
            reply = await self.in_core(self._own_reply, user_ref(update.effective_user, self.settings), FAILED)
            await self._send_parts(context.bot, update.effective_chat.id, render(reply))
        except Exception:  # noqa: BLE001 - the apology is best effort; the error is already logged
            log.warning("Could not tell the user about the error", exc_info=True)

    # helpers -------------------------------------------------------------------------------------------------
    async def _answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                      work: Callable[[UserRef], Reply]) -> None:
        message = update.effective_message
        user = user_ref(update.effective_user, self.settings)
        admission = self.rate_limit.admit(user.id)
        if admission.notify:
            notice = await self.in_core(self._own_reply, user, TOO_FAST if admission.refused else SLOWING_DOWN)
            await self._send_parts(context.bot, message.chat.id, render(notice))
        if admission.refused:
            return
        await asyncio.sleep(admission.delay)
        async with typing(context.bot, message.chat.id, self.typing_budget):
            reply = await self.in_core(work, user)
        quote = message.message_id if message.chat.type != ChatType.PRIVATE else None
        await self._send_parts(context.bot, message.chat.id, render(reply), quote)

    def _own_reply(self, user: UserRef, msgid: str) -> Reply:
        """One of this module's own messages, in the user's reply language (runs in a worker thread)."""
        lang = self.assistant.reply_language(user)
        with use_language(lang):
            return text_reply(lang, _(msgid))

    @staticmethod
    async def _send_parts(bot, chat_id: int, parts: list[OutgoingMessage], quote: int | None = None) -> None:
        for part in parts:
            await bot.send_message(
                chat_id, part.text, parse_mode=ParseMode.HTML, reply_markup=part.keyboard,
                link_preview_options=NO_PREVIEW,
                reply_parameters=ReplyParameters(quote, allow_sending_without_reply=True) if quote else None,
            )
            quote = None

    @staticmethod
    async def _edit(query, part: OutgoingMessage) -> bool:
        """Edit the pressed message; False if it cannot be edited (then the caller sends a new one)."""
        try:
            await query.edit_message_text(part.text, parse_mode=ParseMode.HTML, reply_markup=part.keyboard,
                                          link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if "message is not modified" in str(exc).lower():
                return True
            log.info("Could not edit a message, sending a new one: %s", exc)
            return False
        return True


async def publish_commands(bot) -> None:
    """setMyCommands for the default and for every supported language, descriptions translated."""
    for lang in (None, *supported_languages()):
        with use_language(lang or SOURCE_LANGUAGE):
            commands = [BotCommand(name, _(COMMAND_DESCRIPTIONS[name])) for name in COMMANDS]
        await bot.set_my_commands(commands, language_code=lang)


def build_application(runtime: Runtime, settings: Settings, *, overall_max_rate: float | None = None) -> Application:
    """The PTB Application: handlers, flood control, concurrent updates; setMyCommands and warm-up at start.

    `overall_max_rate` (default: settings.max_messages_per_second) is Telegram's broadcast limit, 30 messages/s
    (up to 1000 with paid broadcasts); 0 turns the overall limit off.
    """
    for noisy in ("httpx", "httpcore"):  # httpx logs every request URL, and the URL contains the token
        logging.getLogger(noisy).setLevel(logging.WARNING)
    handlers = TelegramBot(runtime, settings)

    async def post_init(app: Application) -> None:
        await asyncio.to_thread(warm_up, runtime)
        try:
            await publish_commands(app.bot)
        except TelegramError as exc:
            log.warning("Could not publish the command list: %s", exc)

    builder = (
        Application.builder()
        .token(settings.telegram_token or "")
        .rate_limiter(AIORateLimiter(
            overall_max_rate=settings.max_messages_per_second if overall_max_rate is None else overall_max_rate,
            max_retries=FLOOD_RETRIES,
        ))
        .concurrent_updates(True)
        .post_init(post_init)
    )
    if settings.telegram_base_url:
        api, files = api_urls(settings.telegram_base_url)
        builder = builder.base_url(api).base_file_url(files)
    app = builder.build()
    handlers.register(app)
    return app


def warm_up(runtime: Runtime) -> None:
    """Load the knowledge index and the model before the first user waits for them."""
    runtime.assistant.searcher.search("warm-up", lang="en")


async def check_token(settings: Settings) -> None:
    """One getMe before starting, so that a rejected token is a clear message rather than a logged traceback
    (PTB's start-up retry loop logs the exception, and its message contains the token)."""
    urls = {}
    if settings.telegram_base_url:
        urls = dict(zip(("base_url", "base_file_url"), api_urls(settings.telegram_base_url)))
    async with Bot(settings.telegram_token or "", **urls):
        pass  # initialize() calls getMe


def run_bot(runtime: Runtime) -> int:
    """Run until stopped: long polling, or a webhook when WEBHOOK_URL is set. Returns the process exit code."""
    settings = runtime.settings
    app = build_application(runtime, settings)
    try:
        asyncio.run(check_token(settings))
        if settings.webhook_url:
            if not settings.webhook_secret:
                log.warning("WEBHOOK_SECRET is not set: anyone who finds the webhook URL can send fake updates")
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlparse(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        print("error: the Telegram Bot API rejected TELEGRAM_BOT_TOKEN (401 Unauthorized). "
              "Check the token you got from @BotFather.", file=sys.stderr)
        return 2
    except NetworkError as exc:
        where = urlparse(settings.telegram_base_url or "https://api.telegram.org").netloc
        detail = str(exc).replace(settings.telegram_token or "\0", "<token>")
        print(f"error: cannot reach the Telegram Bot API at {where}: {detail}", file=sys.stderr)
        return 1
    return 0
