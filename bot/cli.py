"""Command line: `python -m bot ...`. The JSON output of `ask` is a stable contract (see DESIGN.md)."""

from __future__ import annotations

import json
import logging
import os
import sys

import click

from bot.config import Settings
from bot.runtime import Runtime
from retrieval.knowledge import KnowledgeError


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "sentence_transformers", "transformers", "faiss", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _runtime(db: str | None = None) -> Runtime:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return Runtime(Settings.from_env(db_path=db))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def cli(verbose: bool) -> None:
    """The partnership and funding assistant of the European Partnership Hub."""
    _setup_logging(verbose)


@cli.command()
@click.argument("question")
@click.option("--lang", help="Reply language (ISO code); detected from the question when omitted.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the stable contract).")
def ask(question: str, lang: str | None, as_json: bool) -> None:
    """Answer one question from the knowledge base, with its sources.

    Example: python -m bot ask "Who can apply to NAKOPA?" --json
    """
    try:
        reply = _runtime().assistant.ask(question, lang)
    except KnowledgeError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        payload = {
            "language": reply.language,
            "abstained": reply.abstained,
            "answer": reply.plain_text(),
            "citations": [{"id": c.id, "title": c.title, "url": c.url} for c in reply.citations],
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        from bot.terminal import render_plain

        click.echo(render_plain(reply)[0])


@cli.command()
def chat() -> None:
    """Talk to the assistant in the terminal (no Telegram needed).

    Example: python -m bot chat
    """
    from bot.assistant import UserRef
    from bot.terminal import run_chat

    runtime = _runtime()
    click.echo("Loading the knowledge index…", err=True)
    assistant = runtime.assistant
    user = UserRef(id="cli:local", client_language=(os.environ.get("LANG") or "en").split(".")[0], is_admin=True)
    run_chat(assistant, user)


@cli.group()
def index() -> None:
    """Manage the search index of the knowledge base."""


@index.command("build")
def index_build() -> None:
    """Validate the knowledge base and rebuild the search index.

    Example: python -m bot index build
    """
    runtime = _runtime()
    try:
        count = runtime.rebuild_index()
    except KnowledgeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Indexed {count} passages from {len(runtime.entries)} entries into {runtime.settings.index_dir}")


@index.command("check")
def index_check() -> None:
    """Validate every knowledge entry without building anything.

    Example: python -m bot index check
    """
    from retrieval.knowledge import load_knowledge

    settings = Settings.from_env()
    try:
        entries = load_knowledge(settings.knowledge_dir)
    except KnowledgeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(entries)} entries are valid.")


@cli.command()
def run() -> None:
    """Start the Telegram bot (token from TELEGRAM_BOT_TOKEN; TELEGRAM_BASE_URL overrides the Bot API URL).

    Example: TELEGRAM_BOT_TOKEN=123:abc python -m bot run
    """
    settings = Settings.from_env()
    if not settings.telegram_token:
        raise click.ClickException(
            "TELEGRAM_BOT_TOKEN is not set. Set it to your bot's token, or use `python -m bot chat` in the terminal."
        )
    from bot.telegram_app import run_bot

    sys.exit(run_bot(Runtime(settings)))
