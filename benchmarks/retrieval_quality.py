"""Retrieval quality on the evaluation set, per language: what the assistant answers (its first citation, the
language detected from the question as for a real user), against the searcher alone, dense only and BM25 only.

Also sweeps the abstention threshold, to calibrate `retrieval.search.ABSTAIN_BELOW`.

    python benchmarks/retrieval_quality.py [--misses]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from retrieval import search as search_module  # noqa: E402
from retrieval.evaluation import evaluate, format_report, load_questions  # noqa: E402

QUESTIONS = sorted((Path(__file__).resolve().parent.parent / "tests" / "eval" / "questions").glob("*.yaml"))


def main() -> None:
    runtime = Runtime(Settings.from_env())
    searcher = runtime.searcher
    questions = load_questions(QUESTIONS)
    vectors = searcher.embed_queries([q.text for q in questions])
    vector_of = {id(q): v for q, v in zip(questions, vectors)}

    answers = {}

    def assistant(q):
        if q.text not in answers:
            reply = runtime.assistant.ask(q.text)
            answers[q.text] = [c.id for c in reply.citations], reply.abstained
        return answers[q.text]

    def hybrid(q):
        result = searcher.search_with_vector(q.text, vector_of[id(q)], q.lang, k=10)
        return [h.entry_id for h in result.hits], result.abstained

    def dense_only(q):
        result = searcher.search_with_vector(q.text, vector_of[id(q)], q.lang, k=50)
        ranked = sorted(result.hits, key=lambda h: -h.dense)
        return [h.entry_id for h in ranked], result.abstained

    def bm25_only(q):
        result = searcher.search_with_vector(q.text, vector_of[id(q)], q.lang, k=50)
        ranked = sorted(result.hits, key=lambda h: -h.lexical)
        return [h.entry_id for h in ranked if h.lexical > 0], False

    report = evaluate(questions, assistant)
    print(f"{len(questions)} questions from {len(QUESTIONS)} files, {len(searcher.entries)} entries")
    print(format_report("the assistant's answers (python -m bot ask): first citation", report))
    print("== per file (the held-out sets were written blind; see each file's header)")
    for path in QUESTIONS:
        part = evaluate([q for q in questions if q.source == path.name], assistant)
        a = part.abstention
        print(f"  {path.name:<26} on topic {part.overall['n']:>4}: top-1 {part.overall['top1']:.2f}   "
              f"off topic {a['off_topic']:>3}: refused {a['recall']:.2f}, false refusals {a['false_abstentions']}")
    print(format_report("searcher alone (dense + BM25 + names)", evaluate(questions, hybrid)))
    print(format_report("dense only", evaluate(questions, dense_only)))
    print(format_report("BM25 only (baseline)", evaluate(questions, bm25_only)))

    print("== abstention threshold sweep (evidence: best passage + closest sample question of one entry; exact names"
          " always answer, names of programmes we do not cover never)")
    best = {}
    for q in questions:
        result = searcher.search_with_vector(q.text, vector_of[id(q)], q.lang, k=1)
        named = any(h.name_hit for h in result.hits)
        best[id(q)] = (-1.0 if result.unknown_names and not named else result.evidence, named)
    for threshold in np.arange(1.70, 1.801, 0.005):
        on = [best[id(q)] for q in questions if q.expect]
        off = [best[id(q)] for q in questions if not q.expect]
        recall = sum(1 for c, named in off if c < threshold and not named) / len(off)
        kept = sum(1 for c, named in on if c >= threshold or named) / len(on)
        marker = " <- current" if abs(threshold - search_module.ABSTAIN_BELOW) < 1e-9 else ""
        print(f"  {threshold:.3f}: off-topic refused {recall:.2f}, on-topic answered {kept:.2f}{marker}")

    if "--misses" in sys.argv:
        print("== misses of the assistant")
        for miss in report.misses:
            print(f"  [{miss.question.lang}] {miss.question.text!r} expected {miss.question.expect} "
                  f"got {miss.ranked[:3]} abstained={miss.abstained}")


if __name__ == "__main__":
    main()
