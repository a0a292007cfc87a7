"""Wire the core together from settings: knowledge, model, index, search, storage, assistant."""

from __future__ import annotations

import logging
import os
from functools import cached_property

from bot.assistant import Assistant
from bot.config import Settings
from bot.storage import Store
from retrieval.embedder import SentenceEmbeddings, load_embedder
from retrieval.index import Progress, build_index, load_or_build, stderr_progress
from retrieval.knowledge import Entry, load_knowledge, load_not_covered
from retrieval.search import Searcher

log = logging.getLogger(__name__)


def limit_threads() -> None:
    """Use the machine's cores for one query at a time, not more threads than cores."""
    import torch

    torch.set_num_threads(max(1, min(os.cpu_count() or 1, int(os.environ.get("BOT_THREADS", "0") or 0) or 64)))


class Runtime:
    """Lazily built services for one process; adapters and the CLI ask it for what they need."""

    def __init__(self, settings: Settings, progress: Progress | None = stderr_progress) -> None:
        self.settings = settings
        self.progress = progress

    @cached_property
    def entries(self) -> list[Entry]:
        return load_knowledge(self.settings.knowledge_dir)

    @cached_property
    def embedder(self) -> SentenceEmbeddings:
        return load_embedder(self.settings.embed_model)

    @cached_property
    def searcher(self) -> Searcher:
        store = load_or_build(
            self.entries, self.embedder, self.settings.index_dir, self.settings.knowledge_dir, self.progress
        )
        return Searcher(store, self.embedder, self.entries, load_not_covered(self.settings.knowledge_dir))

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.db_path)

    @cached_property
    def assistant(self) -> Assistant:
        return Assistant(self.searcher, self.store, self.settings.default_language)

    def rebuild_index(self) -> int:
        store = build_index(
            self.entries, self.embedder, self.settings.index_dir, self.settings.knowledge_dir, self.progress
        )
        self.__dict__.pop("searcher", None)
        return store.index.ntotal
