"""Settings from the environment: paths, model, admins, Telegram. Secrets are kept out of `repr` and logs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _ids(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.replace(",", " ").split() if part.strip().lstrip("-").isdigit())


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path
    data_dir: Path
    db_path: Path
    index_dir: Path
    embed_model: str | None
    admin_ids: frozenset[int]
    default_language: str
    telegram_token: str | None = field(default=None, repr=False)
    telegram_base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    rate_limit_per_minute: int = 30
    max_messages_per_second: float = 30.0  # Telegram's broadcast limit; more only with paid broadcasts

    @classmethod
    def from_env(cls, db_path: str | os.PathLike | None = None) -> "Settings":
        env = os.environ
        data_dir = Path(env.get("BOT_DATA_DIR") or PROJECT_ROOT / "var")
        return cls(
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR") or PROJECT_ROOT / "knowledge"),
            data_dir=data_dir,
            db_path=Path(db_path or env.get("BOT_DB") or data_dir / "bot.sqlite3"),
            index_dir=Path(env.get("BOT_INDEX_DIR") or data_dir / "index"),
            embed_model=env.get("EMBED_MODEL") or None,
            admin_ids=_ids(env.get("ADMIN_IDS", "")),
            default_language=env.get("BOT_DEFAULT_LANGUAGE", "en"),
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_base_url=env.get("TELEGRAM_BASE_URL") or None,
            webhook_url=env.get("WEBHOOK_URL") or None,
            webhook_secret=env.get("WEBHOOK_SECRET") or None,
            webhook_listen=env.get("WEBHOOK_LISTEN", "0.0.0.0"),
            webhook_port=int(env.get("WEBHOOK_PORT", "8443")),
            rate_limit_per_minute=int(env.get("RATE_LIMIT_PER_MINUTE", "30")),
            max_messages_per_second=float(env.get("TELEGRAM_MAX_MESSAGES_PER_SECOND", "30")),
        )
