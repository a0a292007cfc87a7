"""Load on the Telegram adapter: many users asking at once, through the real PTB stack and a fake Bot API.

Each user sends one question (the evaluation set, in its languages) at the same moment. Reported per run:
sustained replies per second, p50/p95 time from the update being queued to its reply reaching the API, and lost
updates (no reply within the timeout). Two flood-control settings: Telegram's broadcast limit (30 messages/s, what
production runs with) and none (what the adapter and the core can do on this machine).

    python benchmarks/telegram_load.py [--users 50,500] [--timeout 300] [--stub-core]

`--stub-core` answers every question with a fixed reply instead of searching: the adapter's own ceiling (PTB,
HTTP, rendering; the fake server shares this process's CPU, so real numbers are somewhat better).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.reply import Block, Button, Reply  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.telegram_app import ALLOWED_UPDATES, build_application  # noqa: E402
from retrieval.evaluation import load_questions  # noqa: E402
from tests.fake_bot_api import FakeBotApi  # noqa: E402

QUESTIONS = sorted((ROOT / "tests" / "eval" / "questions").glob("*.yaml"))


@dataclasses.dataclass
class Result:
    users: int
    flood_limit: str
    seconds: float
    per_second: float
    p50: float
    p95: float
    lost: int


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def stub_answer(user, text: str) -> Reply:
    return Reply("en", (Block("title", "Stub"), Block("quote", text[:200]),
                        Block("source", "Source", url="https://example.org/")),
                 buttons=((Button("👍", "fb:up:1"), Button("👎", "fb:down:1")),))


async def run_once(searcher, users: int, overall_max_rate: float, timeout: float, questions,
                   stub: bool = False) -> Result:
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as fake:
        settings = dataclasses.replace(Settings.from_env(), db_path=Path(tmp) / "bot.sqlite3",
                                       telegram_token=fake.token, telegram_base_url=fake.base_url,
                                       rate_limit_per_minute=0)
        runtime = Runtime(settings, progress=None)
        runtime.entries, runtime.searcher = searcher.entries, searcher
        if stub:
            runtime.assistant.handle_text = stub_answer
        app = build_application(runtime, settings, overall_max_rate=overall_max_rate)
        async with app:
            await app.post_init(app)
            await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
            await app.start()
            first_user = 10_000
            queued = {}
            for n in range(users):
                question = questions[n % len(questions)]
                update_id = fake.send_text(first_user + n, question.text, language_code=question.lang)
                queued[first_user + n] = fake.queued_at[update_id]
            deadline = time.monotonic() + timeout
            answered: dict[int, float] = {}
            while len(answered) < users and time.monotonic() < deadline:
                for call in fake.calls_of("sendMessage"):
                    answered.setdefault(int(call.params["chat_id"]), call.at)
                await asyncio.sleep(0.05)
            await app.updater.stop()
            await app.stop()
        runtime.store.close()
        if fake.errors:
            print(f"  Bot API errors: {fake.errors[:5]}", file=sys.stderr)
    latencies = [answered[chat] - queued[chat] for chat in answered]
    start = min(queued.values())
    span = (max(answered.values()) - start) if answered else float("nan")
    return Result(users, "30/s (Telegram)" if overall_max_rate else "none", span,
                  len(answered) / span if answered else 0.0,
                  percentile(latencies, 0.50), percentile(latencies, 0.95), users - len(answered))


async def main_async(user_counts: list[int], timeout: float, stub: bool) -> None:
    runtime = Runtime(Settings.from_env(), progress=None)
    searcher = runtime.searcher
    searcher.search("warm-up", lang="en")
    questions = load_questions(QUESTIONS)
    print(f"{len(questions)} distinct questions; {len(searcher.entries)} entries"
          + ("; STUB core (fixed replies)" if stub else ""))
    print(f"{'users':>6} {'flood limit':>16} {'seconds':>8} {'replies/s':>10} {'p50 s':>7} {'p95 s':>7} {'lost':>5}")
    for overall in (0, 30):
        for users in user_counts:
            r = await run_once(searcher, users, overall, timeout, questions, stub)
            print(f"{r.users:>6} {r.flood_limit:>16} {r.seconds:>8.2f} {r.per_second:>10.1f} {r.p50:>7.2f} "
                  f"{r.p95:>7.2f} {r.lost:>5}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="50,500", help="comma-separated numbers of concurrent users")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for all replies")
    parser.add_argument("--stub-core", action="store_true", help="fixed replies: measure the adapter alone")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async([int(n) for n in args.users.split(",")], args.timeout, args.stub_core))


if __name__ == "__main__":
    main()
