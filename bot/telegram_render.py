"""Render a core `Reply` as Telegram messages: the one place that escapes, formats and splits for Telegram.

Every text goes through `html.escape`; a title is bold, a quote a <blockquote>, a note italic, an item a "• " line,
a source a link. Long replies are split on block boundaries, and an over-long paragraph on line, sentence or word
boundaries, all BEFORE escaping, so a tag or an entity is never cut. Lengths are counted the way Telegram counts
them: the visible text after entity parsing, in UTF-16 code units, with a margin under the 4096 limit. The inline
keyboard goes on the last message. Pure functions: no network, no bot.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.reply import Block, Reply

# Telegram counts the text after entity parsing; keep a margin for its own counting quirks.
MESSAGE_BUDGET = MessageLimit.MAX_TEXT_LENGTH - 96
PARAGRAPH_SEPARATOR = "\n\n"
ITEM_PREFIX = "• "
LINK_SCHEMES = ("http://", "https://", "tg://")
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}
_SENTENCE_END = re.compile(r"[.!?…。;](?:[\"'»”’)\]]*)\s+")


@dataclass(frozen=True)
class OutgoingMessage:
    """One Telegram message: HTML text (parse_mode=HTML) and, on the last part only, the inline keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def visible_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """The number of characters of `text` whose UTF-16 length fits in `limit`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut_point(text: str, end: int) -> int:
    """Where to cut `text` at or before `end`: the last line break, else sentence end, else space in the second
    half of the window; else a hard cut that keeps combining marks and joiners with their character."""
    window = text[:end]
    floor = len(window) // 2
    line = window.rfind("\n", floor)
    if line > 0:
        return line + 1
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() > floor]
    if sentence_ends:
        return sentence_ends[-1]
    space = max(window.rfind(" ", floor), window.rfind("\t", floor), window.rfind("\u00a0", floor))
    if space > 0:
        return space + 1
    cut = end
    while cut > 1 and cut < len(text) and (unicodedata.combining(text[cut]) or text[cut] in _JOINERS):
        cut -= 1
    return cut


def split_paragraph(text: str, limit: int) -> list[str]:
    """Split plain text into pieces of at most `limit` UTF-16 units, on line, sentence or space boundaries."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text.strip()
    while visible_length(rest) > limit:
        cut = _cut_point(rest, _prefix_within(rest, limit))
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _has_link(block: Block) -> bool:
    return bool(block.url) and block.url.startswith(LINK_SCHEMES)


def _visible(block: Block) -> str:
    """The block's text as the user will see it (what Telegram counts)."""
    if block.kind == "item":
        return ITEM_PREFIX + block.text
    if block.url and not _has_link(block):
        return f"{block.text} {block.url}"
    return block.text


def block_html(block: Block) -> str:
    """One block as Telegram HTML; the only place where text is escaped."""
    text = html.escape(block.text)
    if block.kind == "title":
        return f"<b>{text}</b>"
    if block.kind == "quote":
        return f"<blockquote>{text}</blockquote>"
    if block.kind == "note":
        return f"<i>{text}</i>"
    if block.kind == "item":
        return ITEM_PREFIX + text
    if _has_link(block):
        return f'<a href="{html.escape(block.url, quote=True)}">{text}</a>'
    if block.url:
        return f"{text} {html.escape(block.url)}"
    return text


def _fitting_blocks(blocks: tuple[Block, ...], budget: int) -> list[Block]:
    """Drop empty blocks and split any block longer than the budget into several blocks of the same kind."""
    fitted: list[Block] = []
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        block = Block(block.kind, text, block.url)
        overhead = visible_length(_visible(block)) - visible_length(text)
        if visible_length(_visible(block)) <= budget:
            fitted.append(block)
            continue
        pieces = split_paragraph(text, budget - overhead)
        # A link's URL travels with every piece, so each piece stays clickable.
        fitted.extend(Block(block.kind, piece, block.url) for piece in pieces)
    return fitted


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (callback_data = the core's short action id)."""
    rows = [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in reply.buttons if row]
    return InlineKeyboardMarkup(rows) if rows else None


def render(reply: Reply, budget: int = MESSAGE_BUDGET) -> list[OutgoingMessage]:
    """The reply as one or more HTML messages, each within `budget` visible characters; buttons on the last."""
    parts: list[list[str]] = []
    current: list[str] = []
    used = 0
    for block in _fitting_blocks(reply.blocks, budget):
        size = visible_length(_visible(block))
        extra = size + (len(PARAGRAPH_SEPARATOR) if current else 0)
        if current and used + extra > budget:
            parts.append(current)
            current, used, extra = [], 0, size
        current.append(block_html(block))
        used += extra
    if current:
        parts.append(current)
    messages = [OutgoingMessage(PARAGRAPH_SEPARATOR.join(part)) for part in parts]
    markup = keyboard(reply)
    if messages and markup is not None:
        messages[-1] = OutgoingMessage(messages[-1].text, markup)
    return messages
