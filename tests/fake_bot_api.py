"""A fake Telegram Bot API server for tests: real HTTP on 127.0.0.1, Telegram's limits enforced, every call recorded.

It runs an aiohttp server in its own thread and event loop, so the code under test talks to it over HTTP exactly
as it would to api.telegram.org (point `base_url` at `fake.base_url`), and synchronous code (a subprocess, a
blocking `run_polling`) can use it too. Methods live at /bot<token>/<method> and accept JSON or form bodies.

Like the real API it answers 400 Bad Request, with Telegram's descriptions, for an empty text or one longer than
4096 characters after entity parsing, invalid HTML (unknown or unclosed tags, unknown entities, a bare "<"),
callback_data that is empty or over 64 bytes, and more than 100 inline buttons. Accepted calls are recorded in
order (`calls`, `replies`); rejected ones in `errors`, so a test can assert that users saw no failure.

Helpers inject updates (`send_text`, `send_command`, `send_sticker`, `send_photo`, `press`) and wait for replies
(`wait_replies`, `await areplies`). Switches: `reject_token` answers 401 to everything; `fail_next(method, 429)`
answers one "Too Many Requests: retry after N" to the next call of a method.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100
SUPPORTED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote", "span",
    "tg-spoiler", "tg-emoji",
}
ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "span": "spoiler", "tg-spoiler": "spoiler", "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
BOT_ID = 7000001
BOT_USERNAME = "hub_assistant_test_bot"


class BadRequest(Exception):
    """A 400 answer; the message is Telegram's description after "Bad Request: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]*);")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTRIBUTE = re.compile(r"\s*([A-Za-z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")


def _decode_entity(text: str, at: int) -> tuple[str, int]:
    match = _ENTITY.match(text, at)
    if not match:
        raise BadRequest(f"can't parse entities: Unsupported HTML entity at byte offset {len(text[:at].encode())}")
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] in "xX" else int(name[1:])
        if not 0 < code <= 0x10FFFF:
            raise BadRequest(f"can't parse entities: Invalid character code at byte offset {len(text[:at].encode())}")
        return chr(code), match.end()
    if name not in NAMED_ENTITIES:
        raise BadRequest(f'can\'t parse entities: Unsupported HTML entity "&{name};" at byte offset '
                         f"{len(text[:at].encode())}")
    return NAMED_ENTITIES[name], match.end()


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram-style HTML parsing: the visible text and its entities, or BadRequest with Telegram's wording."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, dict[str, str]]] = []  # tag, utf-16 offset where it opened, attributes
    position = 0  # utf-16 offset in the visible text
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            decoded, i = _decode_entity(source, i)
            out.append(decoded)
            position += utf16_len(decoded)
            continue
        if char != "<":
            out.append(char)
            position += utf16_len(char)
            i += 1
            continue
        offset = len(source[:i].encode())
        close = source.find(">", i)
        if source.startswith("</", i):
            if close < 0:
                raise BadRequest(f"can't parse entities: Unclosed end tag at byte offset {offset}")
            name = source[i + 2 : close].strip().lower()
            if not stack:
                raise BadRequest(f'can\'t parse entities: Unexpected end tag at byte offset {offset}')
            if stack[-1][0] != name:
                raise BadRequest(f'can\'t parse entities: Can\'t find end tag corresponding to start tag '
                                 f'"{stack[-1][0]}"')
            tag, opened, attrs = stack.pop()
            if position > opened:
                entity: dict[str, Any] = {"offset": opened, "length": position - opened}
                if tag == "a":
                    href = attrs.get("href", "")
                    entity.update({"type": "text_link", "url": href} if href else {"type": "text_link"})
                else:
                    entity["type"] = ENTITY_TYPES[tag]
                entities.append(entity)
            i = close + 1
            continue
        name_match = _NAME.match(source, i + 1)
        name = name_match.group(0).lower() if name_match else ""
        if not name or name not in SUPPORTED_TAGS:
            raise BadRequest(f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}')
        if close < 0:
            raise BadRequest(f"can't parse entities: Unclosed start tag at byte offset {offset}")
        attrs: dict[str, str] = {}
        rest = source[name_match.end() : close]
        for attr in _ATTRIBUTE.finditer(rest):
            value = (attr.group(2) or "").strip("\"'")
            decoded = []
            j = 0
            while j < len(value):
                if value[j] == "&":
                    piece, j = _decode_entity(value, j)
                    decoded.append(piece)
                else:
                    decoded.append(value[j])
                    j += 1
            attrs[attr.group(1).lower()] = "".join(decoded)
        if name == "a" and not attrs.get("href"):
            pass  # Telegram accepts <a> without href as plain text
        if name == "a" and attrs.get("href") and not re.match(r"(https?|tg)://\S+$", attrs["href"]):
            raise BadRequest("Wrong HTTP URL")
        stack.append((name, position, attrs))
        i = close + 1
    if stack:
        raise BadRequest(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    text = "".join(out)
    stripped = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped)
    for entity in entities:
        entity["offset"] = max(0, entity["offset"] - shift)
    return stripped.rstrip(), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def check_text(text: Any, parse_mode: Any) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("message text is empty")
    visible, entities = parse_html(text) if str(parse_mode or "").upper() == "HTML" else (text.strip(), [])
    if not visible:
        raise BadRequest("message text is empty")
    if utf16_len(visible) > MAX_TEXT:
        raise BadRequest("message is too long")
    return visible, entities


def check_markup(markup: Any) -> dict[str, Any] | None:
    if markup in (None, "", {}):
        return None
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    buttons = [button for row in rows for button in row]
    if len(buttons) > MAX_BUTTONS:
        raise BadRequest("BUTTONS_TOO_MUCH")
    for button in buttons:
        if not str(button.get("text", "")).strip():
            raise BadRequest("BUTTON_TEXT_INVALID")
        if "callback_data" in button:
            size = len(str(button["callback_data"]).encode())
            if size == 0 or size > MAX_CALLBACK_DATA:
                raise BadRequest("BUTTON_DATA_INVALID")
    return markup


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None
    at: float = field(default_factory=time.monotonic)


NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same as a "
                "current content and reply markup of the message")


def _set_content(message: dict[str, Any], **fields: Any) -> None:
    """Set optional message fields; an empty value removes the field, as Telegram omits empty ones."""
    for name, value in fields.items():
        message.pop(name, None)
        if value:
            message[name] = value


class FakeBotApi:
    """The fake server. Use as a context manager, or call `start()` / `stop()`."""

    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        self.reject_token = False
        self.calls: list[Call] = []
        self.errors: list[tuple[str, int, str]] = []  # method, status, description
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat_id, message_id) -> Message
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope type, language) -> commands
        self.webhook: dict[str, Any] = {}
        self.queued_at: dict[int, float] = {}  # update_id -> monotonic time it was queued
        self.polls = 0  # getUpdates requests so far (they are not recorded in `calls`): the bot is polling
        self._lock = threading.RLock()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._query_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # server lifecycle ----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The API root to give to the bot (it accepts it with or without a trailing /bot)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeBotApi":
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="fake-bot-api", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Bot API did not start")
        return self

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._new_update = asyncio.Event()
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> "FakeBotApi":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # switches ------------------------------------------------------------------------------------------------
    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, description: str = "") -> None:
        """Answer the next call of `method` with an error: 429 carries retry_after, like flood control; other
        statuses carry `description` (e.g. 400 "message can't be edited")."""
        with self._lock:
            self._failures.setdefault(method.lower(), []).append((status, retry_after, description))

    # HTTP ----------------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.reject_token or request.match_info["token"] != self.token:
            return self._error(method, 401, "Unauthorized")
        params = await self._params(request)
        with self._lock:
            failures = self._failures.get(method.lower())
            failure = failures.pop(0) if failures else None
        if failure:
            status, retry_after, description = failure
            if status == 429:
                return self._error(method, 429, f"Too Many Requests: retry after {retry_after}",
                                   {"retry_after": retry_after})
            prefix = {400: "Bad Request: ", 403: "Forbidden: "}.get(status, "")
            return self._error(method, status, prefix + (description or "injected failure"))
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return self._error(method, 404, "Not Found")
        try:
            result = await handler(params) if asyncio.iscoroutinefunction(handler) else handler(params)
        except BadRequest as exc:
            return self._error(method, 400, f"Bad Request: {exc}")
        except _Conflict as exc:
            return self._error(method, 409, f"Conflict: {exc}")
        if method.lower() != "getupdates":
            with self._lock:
                self.calls.append(Call(method, params, result))
        return web.json_response({"ok": True, "result": result})

    def _error(self, method: str, status: int, description: str, parameters: dict | None = None) -> web.Response:
        with self._lock:
            self.errors.append((method, status, description))
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json() if request.can_read_body else {}
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        return params

    # Bot API methods -----------------------------------------------------------------------------------------
    def _api_getme(self, params: dict) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Hub Assistant", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_getupdates(self, params: dict) -> list[dict]:
        self.polls += 1
        if self.webhook.get("url"):
            raise _Conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                            "the webhook first")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = self._updates[:limit]
                self._new_update.clear()
            remaining = deadline - time.monotonic()
            if pending or remaining <= 0:
                return pending
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def _chat(self, params: dict) -> dict:
        try:
            chat_id = int(params.get("chat_id"))
        except (TypeError, ValueError):
            raise BadRequest("chat not found") from None
        with self._lock:
            chat = self._chats.get(chat_id)
        if chat is None:
            raise BadRequest("chat not found")
        return chat

    def _api_sendmessage(self, params: dict) -> dict:
        chat = self._chat(params)
        visible, entities = check_text(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        with self._lock:
            message_id = next(self._message_ids.setdefault(chat["id"], itertools.count(1000)))
            message = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                       "from": {"id": BOT_ID, "is_bot": True, "first_name": "Hub Assistant",
                                "username": BOT_USERNAME},
                       "text": visible}
            _set_content(message, entities=entities, reply_markup=markup)
            self.messages[(chat["id"], message_id)] = message
        return message

    def _stored_message(self, params: dict) -> dict:
        if params.get("inline_message_id"):
            raise BadRequest("message to edit not found")
        chat = self._chat(params)
        with self._lock:
            message = self.messages.get((chat["id"], int(params.get("message_id") or 0)))
        if message is None:
            raise BadRequest("message to edit not found")
        if message["from"]["id"] != BOT_ID:
            raise BadRequest("message can't be edited")
        return message

    def _api_editmessagetext(self, params: dict) -> dict:
        message = self._stored_message(params)
        visible, entities = check_text(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        with self._lock:
            if visible == message["text"] and entities == message.get("entities", []) and \
                    markup == message.get("reply_markup"):
                raise BadRequest(NOT_MODIFIED)
            message.update(text=visible, edit_date=int(time.time()))
            _set_content(message, entities=entities, reply_markup=markup)
            return dict(message)

    def _api_editmessagereplymarkup(self, params: dict) -> dict:
        message = self._stored_message(params)
        markup = check_markup(params.get("reply_markup"))
        with self._lock:
            if markup == message.get("reply_markup"):
                raise BadRequest(NOT_MODIFIED)
            _set_content(message, reply_markup=markup)
            return dict(message)

    def _api_answercallbackquery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        with self._lock:
            if query_id not in self._open_queries:
                raise BadRequest("query is too old and response timeout expired or query ID is invalid")
            self._open_queries.discard(query_id)
        if len(str(params.get("text") or "")) > 200:
            raise BadRequest("MESSAGE_TOO_LONG")
        return True

    def _api_setmycommands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise BadRequest("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise BadRequest("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "").strip()) <= 256:
                raise BadRequest("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = (params.get("scope") or {}).get("type", "default")
        with self._lock:
            self.commands[(scope, params.get("language_code") or "")] = commands
        return True

    def _api_deletemycommands(self, params: dict) -> bool:
        scope = (params.get("scope") or {}).get("type", "default")
        with self._lock:
            self.commands.pop((scope, params.get("language_code") or ""), None)
        return True

    def _api_sendchataction(self, params: dict) -> bool:
        self._chat(params)
        if params.get("action") not in {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                                        "upload_voice", "upload_document", "choose_sticker", "find_location",
                                        "record_video_note", "upload_video_note"}:
            raise BadRequest("wrong type of chat action")
        return True

    def _api_deletewebhook(self, params: dict) -> bool:
        self.webhook = {}
        if str(params.get("drop_pending_updates", "")).lower() in {"true", "1"}:
            with self._lock:
                self._updates.clear()
        return True

    def _api_setwebhook(self, params: dict) -> bool:
        if not str(params.get("url", "")).startswith("https://"):
            raise BadRequest("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    def _api_getwebhookinfo(self, params: dict) -> dict:
        with self._lock:
            pending = len(self._updates)
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": pending}

    def _api_close(self, params: dict) -> bool:
        return True

    def _api_logout(self, params: dict) -> bool:
        return True

    # injecting updates ---------------------------------------------------------------------------------------
    @staticmethod
    def user(user_id: int, language_code: str | None = "en") -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    def _chat_for(self, user_id: int, chat_id: int | None, chat_type: str) -> dict[str, Any]:
        if chat_type == "private":
            chat = {"id": user_id, "type": "private", "first_name": f"User{user_id}"}
        else:
            chat = {"id": chat_id or -100000 - user_id, "type": chat_type, "title": "Partnership group"}
        with self._lock:
            self._chats[chat["id"]] = chat
        return chat

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (its update_id is assigned here); returns the update_id."""
        with self._lock:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
            self.queued_at[update_id] = time.monotonic()
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        return update_id

    def _message(self, user_id: int, language_code: str | None, chat_type: str, chat_id: int | None,
                 **content: Any) -> dict[str, Any]:
        chat = self._chat_for(user_id, chat_id, chat_type)
        with self._lock:
            message_id = next(self._message_ids.setdefault(chat["id"], itertools.count(1000)))
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                   "from": self.user(user_id, language_code), **content}
        with self._lock:
            self.messages[(chat["id"], message_id)] = message
        return message

    def send_text(self, user_id: int, text: str, language_code: str | None = "en", chat_type: str = "private",
                  chat_id: int | None = None, edited: bool = False) -> int:
        """A text message from a user; a leading /command gets its bot_command entity, @mentions a mention."""
        entities = []
        command = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))})
        for mention in re.finditer(r"@[A-Za-z0-9_]{5,32}", text):
            if not (command and mention.start() < command.end()):
                entities.append({"type": "mention", "offset": utf16_len(text[: mention.start()]),
                                 "length": utf16_len(mention.group(0))})
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        message = self._message(user_id, language_code, chat_type, chat_id, **content)
        if edited:
            message["edit_date"] = message["date"] + 1
            return self.push_update({"edited_message": message})
        return self.push_update({"message": message})

    def send_command(self, user_id: int, command: str, args: str = "", language_code: str | None = "en",
                     **kwargs: Any) -> int:
        return self.send_text(user_id, f"/{command} {args}".rstrip(), language_code, **kwargs)

    def send_sticker(self, user_id: int, language_code: str | None = "en") -> int:
        sticker = {"file_id": "CAACAgIAAxkBAAE", "file_unique_id": "AgADsticker", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
        return self.push_update({"message": self._message(user_id, language_code, "private", None,
                                                          sticker=sticker)})

    def send_photo(self, user_id: int, language_code: str | None = "en", caption: str | None = None) -> int:
        photo = [{"file_id": "AgACAgIAAxkBAAE", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        return self.push_update({"message": self._message(user_id, language_code, "private", None, **content)})

    def send_voice(self, user_id: int, language_code: str | None = "en") -> int:
        voice = {"file_id": "AwACAgIAAxkBAAE", "file_unique_id": "AgADvoice", "duration": 3}
        return self.push_update({"message": self._message(user_id, language_code, "private", None, voice=voice)})

    def press(self, user_id: int, message: dict[str, Any], data: str, language_code: str | None = "en") -> int:
        """A button press on a message the bot sent (as returned in `replies`)."""
        with self._lock:
            query_id = str(next(self._query_ids))
            self._open_queries.add(query_id)
            current = dict(self.messages.get((message["chat"]["id"], message["message_id"]), message))
        return self.push_update({"callback_query": {
            "id": query_id, "from": self.user(user_id, language_code), "chat_instance": f"ci{user_id}",
            "message": current, "data": data,
        }})

    # what users saw ------------------------------------------------------------------------------------------
    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method.lower() == method.lower()]

    def replies(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent or edited in a chat, in order, as Message dicts (visible text, entities,
        reply_markup), each with the "method" that produced it and the raw "html" it was sent with."""
        with self._lock:
            out = []
            for call in self.calls:
                if call.method.lower() in {"sendmessage", "editmessagetext"} and \
                        str(call.params.get("chat_id")) == str(chat_id):
                    out.append({**call.result, "method": call.method, "html": call.params.get("text")})
            return out

    def wait_replies(self, chat_id: int, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            replies = self.replies(chat_id)
            if len(replies) >= count:
                return replies
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} replies in chat {chat_id}, got {len(replies)}: "
                                     f"{[r['text'][:80] for r in replies]}; errors: {self.errors}")
            time.sleep(0.01)

    async def areplies(self, chat_id: int, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Wait (without blocking the event loop) until a chat has at least `count` replies; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            replies = self.replies(chat_id)
            if len(replies) >= count:
                return replies
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} replies in chat {chat_id}, got {len(replies)}: "
                                     f"{[r['text'][:80] for r in replies]}; errors: {self.errors}")
            await asyncio.sleep(0.01)


class _Conflict(Exception):
    pass
