"""Latency and resources of `ask` in a warm process, cold start, index build throughput, peak memory.

    python benchmarks/latency.py [--build]

Prints p50/p95 per question over the evaluation set (warm), the time to the first answer in a fresh process
(index already built), and with --build the passages/second of a full index rebuild.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cold_start() -> float:
    code = (
        "import time; t=time.perf_counter();"
        "from bot.config import Settings; from bot.runtime import Runtime;"
        "r=Runtime(Settings.from_env()); r.assistant.ask('Who can apply to NAKOPA?');"
        "print(time.perf_counter()-t)"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    from bot.config import Settings
    from bot.runtime import Runtime, limit_threads
    from retrieval.evaluation import load_questions

    limit_threads()
    runtime = Runtime(Settings.from_env(), progress=None)
    assistant = runtime.assistant
    questions = [q.text for q in load_questions(sorted((ROOT / "tests" / "eval" / "questions").glob("*.yaml")))]
    assistant.ask(questions[0])  # warm up
    timings = []
    for question in questions:
        start = time.perf_counter()
        assistant.ask(question)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"warm ask over {len(timings)} questions: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
          f"max {timings[-1]:.1f} ms")
    search_only = []
    searcher = runtime.searcher
    for question in questions[:100]:
        start = time.perf_counter()
        searcher.search(question)
        search_only.append((time.perf_counter() - start) * 1000)
    print(f"search only (embed + rank): p50 {statistics.median(search_only):.1f} ms")
    batch = questions[:64]
    start = time.perf_counter()
    searcher.embed_queries(batch)
    print(f"batched query embedding: {len(batch) / (time.perf_counter() - start):.0f} questions/s")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"cold start to first answer (fresh process, index built): {cold_start():.1f} s")
    if "--build" in sys.argv:
        from retrieval.index import build_index

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            store = build_index(runtime.entries, runtime.embedder, Path(tmp) / "index", runtime.settings.knowledge_dir,
                                progress=None)
            seconds = time.perf_counter() - start
        print(f"index build: {store.index.ntotal} passages in {seconds:.1f} s "
              f"({store.index.ntotal / seconds:.1f} passages/s)")
    manifest = json.loads((runtime.settings.index_dir / "manifest.json").read_text())
    print(f"index: {manifest['passages']} passages, {manifest['entries']} entries, model {manifest['model']}")


if __name__ == "__main__":
    main()
