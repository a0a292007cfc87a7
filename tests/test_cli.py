"""The command line: `ask --json` is a contract (exact keys), every command is documented in the README."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli

from .conftest import ROOT


@pytest.fixture
def env(tmp_path):
    return {"BOT_DATA_DIR": str(tmp_path), "BOT_INDEX_DIR": str(ROOT / "var" / "index"), "TELEGRAM_BOT_TOKEN": ""}


def _ask(env, *args):
    result = CliRunner().invoke(cli, ["ask", *args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_ask_json_contract(env):
    payload = _ask(env, "Які гранти є для партнерства громад з містами ЄС?")
    assert set(payload) == {"language", "abstained", "answer", "citations"}
    assert payload["language"] == "uk" and payload["abstained"] is False
    assert payload["citations"] and set(payload["citations"][0]) == {"id", "title", "url"}
    assert payload["citations"][0]["url"] in payload["answer"]


def test_ask_json_abstains_off_topic(env):
    payload = _ask(env, "Who won the football match yesterday?")
    assert payload == {"language": "en", "abstained": True, "answer": payload["answer"], "citations": []}
    assert "knowledge base" in payload["answer"]


def test_ask_lang_option_forces_the_reply_language(env):
    payload = _ask(env, "Who can apply to NAKOPA?", "--lang", "uk")
    assert payload["language"] == "uk" and payload["citations"][0]["id"] == "nakopa"


@pytest.mark.parametrize("question", ["", "🙂🙂🙂", "x" * 20000])
def test_ask_bad_input_still_prints_json(env, question):
    payload = _ask(env, question)
    assert payload["answer"]


def test_chat_reads_questions_and_button_numbers(env):
    result = CliRunner().invoke(cli, ["chat"], env=env, input="Who can apply to NAKOPA?\n1\n/help\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "NAKOPA" in result.output and "Thank you for your feedback" in result.output and "/forget_me" in result.output


def test_run_without_token_explains(env):
    result = CliRunner().invoke(cli, ["run"], env=env)
    assert result.exit_code != 0 and "TELEGRAM_BOT_TOKEN" in result.output


def _all_commands(group, prefix=""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if hasattr(command, "commands"):
            yield from _all_commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize(("name", "command"), list(_all_commands(cli)), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_is_documented(name, command):
    assert command.help and "Example" in command.help or hasattr(command, "commands"), name
    assert f"python -m bot {name}" in (ROOT / "README.md").read_text(), name
