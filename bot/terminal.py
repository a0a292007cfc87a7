"""The assistant in a terminal: the same core as the Telegram bot, rendered as plain text.

Buttons are shown as numbered choices; typing the number presses the button. Commands work as in Telegram.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.assistant import Assistant, UserRef
from bot.i18n import _, use_language
from bot.reply import Reply


def render_plain(reply: Reply) -> tuple[str, list[str]]:
    """Text for the terminal, and the action ids of the numbered choices under it."""
    lines = []
    for block in reply.blocks:
        if block.kind == "title":
            lines.append(block.text.upper())
        elif block.kind == "quote":
            lines.append("\n".join(f"  │ {line}" for line in block.text.splitlines()))
        elif block.kind == "item":
            lines.append(f"  • {block.text}")
        elif block.kind == "source":
            lines.append(f"  ↳ {block.text}\n    {block.url}")
        else:
            lines.append(block.text)
    actions, choices = [], []
    for row in reply.buttons:
        for button in row:
            actions.append(button.action)
            choices.append(f"[{len(actions)}] {button.label}")
    if choices:
        lines.append("   ".join(choices))
    return "\n\n".join(lines), actions


def run_chat(
    assistant: Assistant,
    user: UserRef,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    prompt: Callable[[], None] | None = None,
) -> None:
    """Read lines until EOF or /quit; each line is a question, a /command, or the number of a choice."""
    with use_language(assistant.reply_language(user)):
        print(_("Type your question, /help for commands, /quit to leave."), file=stdout, flush=True)
    actions: list[str] = []
    while True:
        print("\n> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line or line.strip() in {"/quit", "/exit"}:
            break
        text = line.rstrip("\n")
        stripped = text.strip()
        if stripped.isdigit() and 0 < int(stripped) <= len(actions):
            reply = assistant.handle_action(user, actions[int(stripped) - 1])
        elif stripped.startswith("/"):
            name, _sep, args = stripped[1:].partition(" ")
            reply = assistant.handle_command(user, name, args)
        else:
            reply = assistant.handle_text(user, text)
        rendered, actions = render_plain(reply)
        print(rendered, file=stdout, flush=True)
