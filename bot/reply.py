"""What the core returns: plain, already-localized data that each adapter renders in its own way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["title", "text", "quote", "note", "item", "source"]


@dataclass(frozen=True)
class Block:
    """One paragraph of unescaped text; `url` makes it a link (used for sources)."""

    kind: BlockKind
    text: str
    url: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # short action id, at most 64 bytes (Telegram's callback_data limit)


@dataclass(frozen=True)
class Citation:
    id: str
    title: str
    url: str
    verified: str  # ISO date


@dataclass(frozen=True)
class Reply:
    language: str
    blocks: tuple[Block, ...]
    citations: tuple[Citation, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    abstained: bool = False
    question_id: int | None = None

    def plain_text(self) -> str:
        """The reply as plain text (terminal, JSON `answer`)."""
        parts = []
        for block in self.blocks:
            text = f"• {block.text}" if block.kind == "item" else block.text
            parts.append(f"{text} {block.url}" if block.url and block.url not in text else text)
        return "\n\n".join(parts)


def text_reply(language: str, *paragraphs: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Reply:
    return Reply(language, tuple(Block("text", p) for p in paragraphs), buttons=buttons)


MAX_ACTION_BYTES = 64


def check_actions(reply: Reply) -> Reply:
    for row in reply.buttons:
        for button in row:
            if len(button.action.encode()) > MAX_ACTION_BYTES:
                raise ValueError(f"action id over {MAX_ACTION_BYTES} bytes: {button.action!r}")
    return reply

