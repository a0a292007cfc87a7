"""Calibrate `retrieval.search.OUT_OF_SCOPE_LEAD` on the knowledge base's own questions, not on the evaluation set.

Leave one out: each sample question an entry answers is compared with the other sample questions (its own
translations left out, as a user's question has none in the index) and with the out-of-scope questions; each
out-of-scope question with the sample questions and the other out-of-scope questions (and again with those of
other topics only: how a topic nobody listed fares). The sweep prints, per threshold on the lead (closest
out-of-scope cosine minus closest sample question cosine), how many sample questions would be refused and how many
out-of-scope ones caught.

    python benchmarks/out_of_scope.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from retrieval import search as search_module  # noqa: E402
from retrieval.chunking import PLAIN_SUFFIX  # noqa: E402


def main() -> None:
    searcher = Runtime(Settings.from_env()).searcher
    meta, vectors = searcher._meta, searcher._vectors  # noqa: SLF001 - a calibration looks inside
    questions = np.flatnonzero(searcher._is_question & ~np.char.endswith(  # noqa: SLF001
        np.array([m["chunk_id"] for m in meta]), PLAIN_SUFFIX))
    out_rows = searcher._out_of_scope_rows  # noqa: SLF001
    if not len(out_rows):
        sys.exit("no out-of-scope questions in the index (knowledge/out_of_scope.yaml)")
    # the same sample question in every language: entry id and number ("nakopa/questions/de/3" -> nakopa, 3)
    written = set(questions.tolist())
    same_question = np.array([f"{m['entry_id']}#{m['chunk_id'].split('/')[3]}" if i in written else ""
                              for i, m in enumerate(meta)])
    topic = np.array([m.get("topic", "") for m in meta])
    question_rows = np.flatnonzero(searcher._is_question)  # noqa: SLF001

    def leads(rows: np.ndarray, on_topic: bool, whole_topic: bool = False) -> np.ndarray:
        result = []
        for start in range(0, len(rows), 512):
            chunk = rows[start : start + 512]
            cosine = vectors[chunk] @ vectors.T
            for row, cos in zip(chunk, cosine):
                sample = cos[question_rows]
                out = cos[out_rows]
                if on_topic:
                    sample = sample[same_question[question_rows] != same_question[row]]
                elif whole_topic:
                    out = out[topic[out_rows] != topic[row]]
                else:
                    out = out[out_rows != row]
                result.append(out.max() - sample.max())
        return np.array(result)

    on = leads(questions, True)
    off = leads(out_rows, False)
    unseen = leads(out_rows, False, whole_topic=True)
    print(f"{len(questions)} sample questions of {len(searcher._entry_ids)} entries, "  # noqa: SLF001
          f"{len(out_rows)} out-of-scope questions in {len(set(topic[out_rows]))} topics")
    for threshold in np.arange(-0.06, 0.061, 0.01):
        marker = " <- current" if abs(threshold - search_module.OUT_OF_SCOPE_LEAD) < 1e-9 else ""
        print(f"  lead >= {threshold:+.2f}: sample questions refused {np.mean(on >= threshold):.4f} "
              f"({int(np.sum(on >= threshold))}), out-of-scope caught {np.mean(off >= threshold):.2f} "
              f"(of a topic not listed: {np.mean(unseen >= threshold):.2f}){marker}")


if __name__ == "__main__":
    main()
