"""Passage vectors kept next to the knowledge base, keyed by the passage text, one file per embedding model.

The copy in the repository makes a fresh checkout answer within seconds instead of embedding thousands of passages
first, and an edit to one entry re-embeds only the passages it changed. The file is plain numpy (no pickle): the
SHA-256 of each passage text and its vector. `python -m bot index build` rewrites it; a test checks it is current.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import numpy as np

from retrieval.atomic import replacing_file

log = logging.getLogger(__name__)


def passage_key(text: str, prompt: str = "passage") -> str:
    """The cache key of a text embedded with a prompt; passages keep the plain hash of their text."""
    keyed = text if prompt == "passage" else f"{prompt}: {text}"
    return hashlib.sha256(keyed.encode("utf-8")).hexdigest()


def cache_path(knowledge_dir: Path, model_id: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", model_id).strip("-")
    return knowledge_dir / "vectors" / f"{slug}.npz"


def load_vectors(path: Path) -> dict[str, np.ndarray]:
    """Known vectors by passage key; an unreadable or missing file is simply an empty cache."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return dict(zip(data["keys"].tolist(), data["vectors"]))
    except (OSError, KeyError, ValueError) as exc:
        if path.exists():
            log.warning("Ignoring the passage vector cache %s: %s", path, exc)
        return {}


def save_vectors(path: Path, keys: list[str], vectors: np.ndarray) -> None:
    """Write the cache atomically; a read-only checkout just goes without it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing_file(path) as tmp, tmp.open("wb") as handle:
            np.savez(handle, keys=np.array(keys, dtype="U64"), vectors=np.asarray(vectors, dtype=np.float32))
    except OSError as exc:
        log.warning("Could not save the passage vector cache %s: %s", path, exc)
