"""Load on the Telegram adapter: many users asking at once, through the real PTB stack and a fake Bot API.

Each user sends one question (the evaluation set, in its languages) at the same moment. Reported per run:
sustained replies per second (median of --repeat runs; "lost" sums every run), p50/p95 time from the update being
queued to its reply reaching the API, and lost
updates (no reply within the timeout). Two flood-control settings: Telegram's broadcast limit (30 messages/s, what
production runs with) and none (what the adapter and the core can do on this machine).

    python benchmarks/telegram_load.py [--users 50,500] [--timeout 300] [--repeat 3] [--stub-core | --in-process]

By default the bot runs as in production, `python -m bot run` in its own process, pointed at the fake Bot API in
this one (both share the machine's cores). `--in-process` runs the application inside the benchmark instead;
`--stub-core` (in process) answers every question with a fixed reply: the adapter's own ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
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
            sent = send_questions(fake, users, questions)
            answered = await collect_replies(fake, users, timeout)
            await app.updater.stop()
            await app.stop()
        runtime.store.close()
        report_api_errors(fake)
    return summarize(users, overall_max_rate, sent, answered)


async def run_in_subprocess(users: int, overall_max_rate: float, timeout: float, questions) -> Result:
    """`python -m bot run` as a separate process against the fake Bot API: the production setup."""
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as fake:
        env = os.environ | {
            "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_BASE_URL": fake.base_url,
            "BOT_DB": str(Path(tmp) / "bot.sqlite3"), "RATE_LIMIT_PER_MINUTE": "0",
            "TELEGRAM_MAX_MESSAGES_PER_SECOND": str(overall_max_rate),
        }
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            started = time.monotonic()
            while not fake.polls:  # polling begins after the warm-up: the bot is ready
                if bot.poll() is not None or time.monotonic() - started > 120:
                    raise RuntimeError(f"the bot did not start: {bot.stderr.read().decode()[-2000:]}")
                await asyncio.sleep(0.1)
            sent = send_questions(fake, users, questions)
            answered = await collect_replies(fake, users, timeout)
        finally:
            bot.send_signal(signal.SIGINT)
            try:
                bot.wait(30)
            except subprocess.TimeoutExpired:
                bot.kill()
        report_api_errors(fake)
    return summarize(users, overall_max_rate, sent, answered)


FIRST_USER = 10_000


def send_questions(fake: FakeBotApi, users: int, questions) -> dict[int, float]:
    """One question per user, all at once; returns when each update was queued, by chat."""
    queued = {}
    for n in range(users):
        question = questions[n % len(questions)]
        update_id = fake.send_text(FIRST_USER + n, question.text, language_code=question.lang)
        queued[FIRST_USER + n] = fake.queued_at[update_id]
    return queued


async def collect_replies(fake: FakeBotApi, users: int, timeout: float) -> dict[int, float]:
    """When the first reply reached each chat, until every chat has one or the timeout passes."""
    deadline = time.monotonic() + timeout
    answered: dict[int, float] = {}
    while len(answered) < users and time.monotonic() < deadline:
        for call in fake.calls_of("sendMessage"):
            answered.setdefault(int(call.params["chat_id"]), call.at)
        await asyncio.sleep(0.05)
    return answered


def report_api_errors(fake: FakeBotApi) -> None:
    if fake.errors:
        print(f"  Bot API errors: {fake.errors[:5]}", file=sys.stderr)


def summarize(users: int, overall_max_rate: float, queued: dict[int, float], answered: dict[int, float]) -> Result:
    latencies = [answered[chat] - queued[chat] for chat in answered]
    start = min(queued.values())
    span = (max(answered.values()) - start) if answered else float("nan")
    return Result(users, "30/s (Telegram)" if overall_max_rate else "none", span,
                  len(answered) / span if answered else 0.0,
                  percentile(latencies, 0.50), percentile(latencies, 0.95), users - len(answered))


async def main_async(user_counts: list[int], timeout: float, stub: bool, in_process: bool, repeat: int) -> None:
    runtime = Runtime(Settings.from_env(), progress=None)
    searcher = runtime.searcher
    searcher.search("warm-up", lang="en")
    questions = load_questions(QUESTIONS)
    print(f"{len(questions)} distinct questions; {len(searcher.entries)} entries"
          + ("; STUB core (fixed replies)" if stub else "")
          + ("; bot in this process" if in_process or stub else "; bot in its own process (python -m bot run)"))
    print(f"{'users':>6} {'flood limit':>16} {'seconds':>8} {'replies/s':>10} {'p50 s':>7} {'p95 s':>7} {'lost':>5}")
    for overall in (0, 30):
        for users in user_counts:
            runs = []
            for _ in range(repeat):
                if in_process or stub:
                    runs.append(await run_once(searcher, users, overall, timeout, questions, stub))
                else:
                    runs.append(await run_in_subprocess(users, overall, timeout, questions))
            r = sorted(runs, key=lambda run: run.per_second)[len(runs) // 2]  # the median run
            spread = f"  (runs: {', '.join(f'{run.per_second:.0f}' for run in runs)}/s)" if repeat > 1 else ""
            print(f"{r.users:>6} {r.flood_limit:>16} {r.seconds:>8.2f} {r.per_second:>10.1f} {r.p50:>7.2f} "
                  f"{r.p95:>7.2f} {sum(run.lost for run in runs):>5}{spread}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="50,500", help="comma-separated numbers of concurrent users")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for all replies")
    parser.add_argument("--stub-core", action="store_true", help="fixed replies: measure the adapter alone")
    parser.add_argument("--in-process", action="store_true", help="run the application inside the benchmark")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting; the median run is shown (the "
                        "machine is shared, so single runs vary by a third)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async([int(n) for n in args.users.split(",")], args.timeout, args.stub_core, args.in_process,
                                args.repeat))


if __name__ == "__main__":
    main()
