"""The saved index is rebuilt when it is stale, missing, corrupt or half-written, and loaded when it is current."""

from __future__ import annotations

import json
import shutil

import pytest

from retrieval.chunking import embedding_prompt, knowledge_documents
from retrieval.index import MANIFEST, build_index, index_problem, load_or_build
from retrieval.knowledge import load_knowledge
from retrieval.vector_cache import cache_path, load_vectors, passage_key

from .conftest import ROOT


@pytest.fixture
def small_kb(tmp_path):
    """Two entries, with the shipped vectors: each build then embeds only what a test changes."""
    for entry_id in ("nakopa", "interreg-next-huskroua"):
        shutil.copytree(ROOT / "knowledge" / "entries" / entry_id, tmp_path / "kb" / "entries" / entry_id)
    shutil.copytree(ROOT / "knowledge" / "vectors", tmp_path / "kb" / "vectors")
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
            (kb / "entries" / "nakopa" / "en.md").read_text() + "\nNAKOPA has a new rule.\n"
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


def test_an_edit_embeds_only_the_passages_it_changed(built, small_kb, runtime, monkeypatch, tmp_path):
    embedded: list[str] = []
    real_encode = runtime.embedder.encode
    monkeypatch.setattr(runtime.embedder, "encode", lambda texts, kind: embedded.extend(texts) or real_encode(texts, kind))
    path = small_kb / "entries" / "nakopa" / "en.md"
    path.write_text(path.read_text() + "\nNAKOPA has a new rule.\n")
    store = build_index(load_knowledge(small_kb), runtime.embedder, tmp_path / "again", small_kb, progress=None)
    assert len(embedded) == 1 and embedded[0].endswith("NAKOPA has a new rule.")
    assert store.index.ntotal == json.loads((built / MANIFEST).read_text())["passages"]


def test_the_shipped_passage_vectors_cover_the_knowledge_base(runtime):
    """A fresh checkout must not embed thousands of passages before its first answer: after editing the knowledge
    base, run `python -m bot index build` and commit knowledge/vectors/."""
    if runtime.settings.embed_model:
        pytest.skip("the shipped vectors are for the default model")
    known = load_vectors(cache_path(ROOT / "knowledge", runtime.embedder.model_id))
    stale = [
        d.metadata["chunk_id"]
        for d in knowledge_documents(runtime.entries)
        if passage_key(d.page_content, embedding_prompt(d)) not in known
    ]
    assert not stale, f"{len(stale)} passages have no shipped vector, e.g. {stale[:3]}"


def test_sample_questions_are_embedded_as_queries(built, small_kb, runtime, monkeypatch, tmp_path):
    """e5 matches a question to a question best with the `query:` prompt on both sides; the cache keeps the two
    kinds of vector apart, so a question that is also a passage text gets both."""
    calls: list[tuple[str, list[str]]] = []
    real_encode = runtime.embedder.encode
    monkeypatch.setattr(runtime.embedder, "encode", lambda texts, kind: calls.append((kind, list(texts))) or real_encode(texts, kind))
    (small_kb / "entries" / "nakopa" / "questions.yaml").write_text("en:\n  - Can a German town get NAKOPA money?\n")
    build_index(load_knowledge(small_kb), runtime.embedder, tmp_path / "again", small_kb, progress=None)
    assert calls == [("query", ["Can a German town get NAKOPA money?"])]
    assert passage_key("x") != passage_key("x", "query")
