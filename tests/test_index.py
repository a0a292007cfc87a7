"""The saved index is rebuilt when it is stale, missing, corrupt or half-written, and loaded when it is current."""

from __future__ import annotations

import json
import shutil

import pytest

from retrieval.index import MANIFEST, index_problem, load_or_build
from retrieval.knowledge import load_knowledge

from .conftest import ROOT


@pytest.fixture
def small_kb(tmp_path):
    for entry_id in ("nakopa", "interreg-next-huskroua"):
        shutil.copytree(ROOT / "knowledge" / "entries" / entry_id, tmp_path / "kb" / "entries" / entry_id)
    return tmp_path / "kb"


@pytest.fixture
def built(small_kb, runtime, tmp_path):
    target = tmp_path / "index"
    load_or_build(load_knowledge(small_kb), runtime.embedder, target, small_kb, progress=None)
    assert index_problem(target, small_kb, runtime.embedder) is None
    return target


def test_current_index_is_loaded_not_rebuilt(built, small_kb, runtime):
    before = json.loads((built / MANIFEST).read_text())["built_at"]
    store = load_or_build(load_knowledge(small_kb), runtime.embedder, built, small_kb, progress=None)
    assert json.loads((built / MANIFEST).read_text())["built_at"] == before
    assert store.index.ntotal == json.loads((built / MANIFEST).read_text())["passages"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda index, kb: (index / "index.faiss").write_bytes(b"\x00garbage"),
        lambda index, kb: (index / "index.pkl").write_bytes((index / "index.pkl").read_bytes()[:100]),
        lambda index, kb: (index / "index.faiss").unlink(),
        lambda index, kb: (index / MANIFEST).write_text("{half"),
        lambda index, kb: (kb / "entries" / "nakopa" / "en.md").write_text(
            (kb / "entries" / "nakopa" / "en.md").read_text() + "\n## New section\nNAKOPA has a new rule.\n"
        ),
    ],
    ids=["corrupt-faiss", "truncated-pickle", "missing-file", "broken-manifest", "knowledge-edited"],
)
def test_damaged_or_stale_index_is_rebuilt(built, small_kb, runtime, damage):
    damage(built, small_kb)
    assert index_problem(built, small_kb, runtime.embedder) is not None
    entries = load_knowledge(small_kb)
    store = load_or_build(entries, runtime.embedder, built, small_kb, progress=None)
    assert index_problem(built, small_kb, runtime.embedder) is None
    assert store.index.ntotal > 0
