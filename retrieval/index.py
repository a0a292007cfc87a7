"""Build, save and load the FAISS index of the knowledge base, guarded by a manifest.

The manifest records the model, the vector dimension, a hash of the knowledge files and a checksum of each index
file. Loading compares all of them: a stale index (knowledge edited, model changed) or a corrupt or half-written one
is rebuilt, never loaded. Builds are written to a temporary folder and renamed into place; they reuse the passage
vectors kept with the knowledge base (`retrieval.vector_cache`), so only new or edited passages are embedded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_community.vectorstores import FAISS
from langchain_community.vectorstores.utils import DistanceStrategy
from langchain_core.documents import Document

from retrieval.atomic import replacing_folder
from retrieval.chunking import embedding_prompt, knowledge_documents
from retrieval.embedder import SentenceEmbeddings
from retrieval.knowledge import Entry, content_hash, load_out_of_scope
from retrieval.vector_cache import cache_path, load_vectors, passage_key, save_vectors

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
INDEX_FILES = ("index.faiss", "index.pkl")
FORMAT_VERSION = 3
Progress = Callable[[int, int], None]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stderr_progress(done: int, total: int) -> None:
    """Progress for long builds, on stderr so that JSON on stdout stays clean."""
    if total >= 64:
        end = "\n" if done == total else "\r"
        print(f"Building the search index: {done}/{total} passages", end=end, file=sys.stderr, flush=True)


def expected_manifest(knowledge_dir: Path, embedder: SentenceEmbeddings) -> dict:
    return {"format": FORMAT_VERSION, "model": embedder.model_id, "knowledge": content_hash(knowledge_dir)}


def build_index(
    entries: list[Entry],
    embedder: SentenceEmbeddings,
    target: Path,
    knowledge_dir: Path,
    progress: Progress | None = stderr_progress,
) -> FAISS:
    """Embed every passage (reusing the vectors already known for unchanged passages) and save the index
    atomically with its manifest."""
    documents = knowledge_documents(entries, load_out_of_scope(knowledge_dir))
    prompts = [embedding_prompt(d) for d in documents]
    keys = [passage_key(d.page_content, prompt) for d, prompt in zip(documents, prompts)]
    cache = cache_path(knowledge_dir, embedder.model_id)
    known = load_vectors(cache)
    missing = [i for i, key in enumerate(keys) if key not in known]
    batch, done = 32, 0
    for prompt in dict.fromkeys(prompts[i] for i in missing):  # one prompt per batch
        rows = [i for i in missing if prompts[i] == prompt]
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            for row, vector in zip(chunk, embedder.encode([documents[i].page_content for i in chunk], prompt)):
                known[keys[row]] = vector
            done += len(chunk)
            if progress:
                progress(done, len(missing))
    matrix = np.vstack([known[key] for key in keys]).astype(np.float32)
    if missing or len(known) != len(set(keys)):
        save_vectors(cache, keys, matrix)
    store = FAISS.from_embeddings(
        text_embeddings=list(zip((d.page_content for d in documents), matrix.tolist())),
        embedding=embedder,
        metadatas=[d.metadata for d in documents],
        ids=[d.id for d in documents],
        distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT,
    )
    with replacing_folder(target, prefix=".index-") as workdir:
        store.save_local(str(workdir))
        manifest = expected_manifest(knowledge_dir, embedder) | {
            "dimension": int(matrix.shape[1]),
            "passages": len(documents),
            "entries": len(entries),
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "files": {name: _sha256(workdir / name) for name in INDEX_FILES},
        }
        (workdir / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return store


def index_problem(target: Path, knowledge_dir: Path, embedder: SentenceEmbeddings) -> str | None:
    """Why the saved index cannot be used as it is, or None when it is current and intact."""
    manifest_path = target / MANIFEST
    if not manifest_path.is_file():
        return "no index yet"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return "the manifest is unreadable"
    for key, value in expected_manifest(knowledge_dir, embedder).items():
        if manifest.get(key) != value:
            return f"{key} changed"
    for name in INDEX_FILES:
        path = target / name
        if not path.is_file() or _sha256(path) != manifest.get("files", {}).get(name):
            return f"{name} is missing or damaged"
    return None


def load_or_build(
    entries: list[Entry],
    embedder: SentenceEmbeddings,
    target: Path,
    knowledge_dir: Path,
    progress: Progress | None = stderr_progress,
) -> FAISS:
    """Load the saved index if it is current and intact, otherwise rebuild it."""
    problem = index_problem(target, knowledge_dir, embedder)
    if problem is None:
        try:
            # Safe: the checksum above proves these are the files we wrote ourselves.
            return FAISS.load_local(
                str(target), embedder, allow_dangerous_deserialization=True,
                distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT,
            )
        except Exception as exc:  # noqa: BLE001 - any failure to load means: rebuild
            problem = f"loading failed ({type(exc).__name__})"
    log.info("Rebuilding the search index: %s", problem)
    return build_index(entries, embedder, target, knowledge_dir, progress)


def stored_documents(store: FAISS) -> list[Document]:
    """Every passage of the store, in FAISS row order."""
    return [store.docstore.search(store.index_to_docstore_id[i]) for i in range(store.index.ntotal)]
