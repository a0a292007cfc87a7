"""All persistent state in one SQLite file (sqlite-utils, WAL mode).

Only what the service needs is stored: a user's language choice and conversation state, the questions they asked
(so staff can see what the knowledge base lacks), their feedback, and requests passed to the secretariat.
`forget_user` deletes all of it in one transaction. The schema evolves through named, idempotent migrations.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

RETENTION_DAYS = 365  # questions and feedback older than this are purged by `python -m bot admin purge`
migrations = Migrations("partnership-bot")


@migrations()
def m001_core(db: sqlite_utils.Database) -> None:
    db["users"].create(
        {"id": str, "language": str, "last_language": str, "telegram_language": str, "created_at": str,
         "last_seen": str},
        pk="id",
    )
    db["conversations"].create({"user_id": str, "state": str, "data": str, "updated_at": str}, pk="user_id")
    db["questions"].create(
        {"id": int, "user_id": str, "text": str, "language": str, "abstained": int, "entry_ids": str,
         "best_score": float, "created_at": str},
        pk="id",
    )
    db["questions"].create_index(["user_id"])
    db["questions"].create_index(["abstained", "created_at"])
    db["feedback"].create(
        {"id": int, "question_id": int, "user_id": str, "vote": str, "reason": str, "created_at": str}, pk="id"
    )
    db["feedback"].create_index(["user_id"])
    db["handoffs"].create(
        {"id": int, "question_id": int, "user_id": str, "status": str, "created_at": str}, pk="id"
    )
    db["handoffs"].create_index(["user_id"])


USER_TABLES = ("questions", "feedback", "handoffs")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """One sqlite-utils database shared by the core; safe to use from worker threads."""

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None or str(path) == ":memory:":
            conn = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        if path is not None and str(path) != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys=ON")
        migrations.apply(self.db)

    @contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        with self._lock, self.db.atomic():
            yield self.db

    def close(self) -> None:
        self.db.close()

    # users -----------------------------------------------------------------------------------------------------
    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db["users"].rows_where("id = ?", [user_id]))
        return rows[0] if rows else None

    def touch_user(self, user_id: str, **fields: Any) -> None:
        """Create the user row if needed and update the given fields (None values are left as they are)."""
        values = {k: v for k, v in fields.items() if v is not None}
        with self.atomic() as db:
            if self.user(user_id) is None:
                db["users"].insert({"id": user_id, "created_at": now(), "last_seen": now(), **values})
            else:
                db["users"].update(user_id, {"last_seen": now(), **values})

    # conversation state ----------------------------------------------------------------------------------------
    def conversation(self, user_id: str) -> tuple[str | None, dict[str, Any]]:
        with self._lock:
            rows = list(self.db["conversations"].rows_where("user_id = ?", [user_id]))
        if not rows:
            return None, {}
        return rows[0]["state"], json.loads(rows[0]["data"] or "{}")

    def save_conversation(self, user_id: str, state: str | None, data: dict[str, Any]) -> None:
        with self.atomic() as db:
            db["conversations"].upsert(
                {"user_id": user_id, "state": state, "data": json.dumps(data, ensure_ascii=False),
                 "updated_at": now()},
                pk="user_id",
            )

    # questions, feedback, handoffs -----------------------------------------------------------------------------
    def record_question(
        self, user_id: str, text: str, language: str, abstained: bool, entry_ids: list[str], best_score: float
    ) -> int:
        with self.atomic() as db:
            table = db["questions"].insert(
                {"user_id": user_id, "text": text, "language": language, "abstained": int(abstained),
                 "entry_ids": json.dumps(entry_ids), "best_score": round(best_score, 4), "created_at": now()}
            )
            return int(table.last_pk)

    def question(self, question_id: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db["questions"].rows_where("id = ?", [question_id]))
        return rows[0] if rows else None

    def record_feedback(self, question_id: int, user_id: str, vote: str, reason: str | None = None) -> None:
        with self.atomic() as db:
            db["feedback"].insert(
                {"question_id": question_id, "user_id": user_id, "vote": vote, "reason": reason,
                 "created_at": now()}
            )

    def record_handoff(self, question_id: int, user_id: str) -> bool:
        """Pass a question to the secretariat; False if it was already passed."""
        with self.atomic() as db:
            if list(db["handoffs"].rows_where("question_id = ?", [question_id])):
                return False
            db["handoffs"].insert({"question_id": question_id, "user_id": user_id, "status": "open",
                                   "created_at": now()})
            return True

    def unanswered_questions(self, limit: int = 50) -> list[dict[str, Any]]:
        """Questions the knowledge base could not answer, disliked answers, and handoffs, newest first."""
        sql = """
            select q.id, q.created_at, q.language, q.text, q.abstained,
                   (select group_concat(coalesce(f.reason, f.vote), ',') from feedback f
                     where f.question_id = q.id and f.vote = 'down') as complaints,
                   exists(select 1 from handoffs h where h.question_id = q.id) as handed_off
            from questions q
            where q.abstained = 1
               or exists(select 1 from feedback f where f.question_id = q.id and f.vote = 'down')
               or exists(select 1 from handoffs h where h.question_id = q.id)
            order by q.id desc limit ?"""
        with self._lock:
            return [dict(row) for row in self.db.query(sql, [limit])]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "users": self.db["users"].count,
                "questions": self.db["questions"].count,
                "unanswered": self.db["questions"].count_where("abstained = 1"),
                "feedback_up": self.db["feedback"].count_where("vote = 'up'"),
                "feedback_down": self.db["feedback"].count_where("vote = 'down'"),
                "handoffs_open": self.db["handoffs"].count_where("status = 'open'"),
            }

    # privacy ---------------------------------------------------------------------------------------------------
    def forget_user(self, user_id: str) -> int:
        """Delete everything stored about a user; returns the number of rows removed."""
        removed = 0
        with self.atomic() as db:
            for table in (*USER_TABLES, "conversations"):
                column = "user_id"
                removed += db.execute(f"delete from [{table}] where [{column}] = ?", [user_id]).rowcount
            removed += db.execute("delete from users where id = ?", [user_id]).rowcount
        return removed

    def purge_older_than(self, days: int = RETENTION_DAYS) -> int:
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).isoformat(timespec="seconds")
        removed = 0
        with self.atomic() as db:
            for table in USER_TABLES:
                removed += db.execute(f"delete from [{table}] where created_at < ?", [cutoff]).rowcount
        return removed
