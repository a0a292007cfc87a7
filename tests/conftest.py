"""Shared fixtures: the real knowledge index (built once per session), in-memory stores, a core assistant."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.assistant import Assistant, UserRef
from bot.config import Settings
from bot.runtime import Runtime
from bot.storage import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    """Real knowledge and the project's index folder (rebuilt only when stale); a throwaway database."""
    data = tmp_path_factory.mktemp("data")
    base = Settings.from_env()
    return dataclasses.replace(
        base,
        knowledge_dir=ROOT / "knowledge",
        data_dir=data,
        db_path=data / "bot.sqlite3",
        index_dir=ROOT / "var" / "index",
        admin_ids=frozenset({999}),
        telegram_token=None,
    )


@pytest.fixture(scope="session")
def runtime(settings) -> Runtime:
    return Runtime(settings, progress=None)


@pytest.fixture(scope="session")
def searcher(runtime):
    return runtime.searcher


@pytest.fixture
def store() -> Store:
    store = Store(":memory:")
    yield store
    store.close()


@pytest.fixture
def assistant(searcher, store) -> Assistant:
    return Assistant(searcher, store)


@pytest.fixture
def user() -> UserRef:
    return UserRef(id="test:1", client_language="en")
