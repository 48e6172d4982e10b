"""All configuration, read from the environment in one place.

Every variable is documented in README.md ("Configuration"). Values are read when
``get_settings()`` is first called; tests call ``reset_settings()`` after changing the environment.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_AI_PROVIDER = "offline"
DEFAULT_HEARTBEAT_TIMEOUT_S = 30
DEFAULT_SESSION_IDLE_MINUTES = 60 * 24
DEFAULT_SESSION_LIFETIME_HOURS = 24 * 14
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a clear message beats a stack trace in a config typo
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = data_dir / ".secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str
    ai_provider: str
    secret_key: str
    offline_ai_delay_ms: int
    heartbeat_timeout_s: int
    session_idle_minutes: int
    session_lifetime_hours: int
    public_url: str
    rq_queue: str = "igny8"
    media_dir: Path = field(init=False)
    runs_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "media_dir", self.data_dir / "media")
        object.__setattr__(self, "runs_dir", self.data_dir / "runs")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    data_dir = Path(os.environ.get("IGNY8_DATA_DIR", str(REPO_ROOT / "data"))).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _int("IGNY8_PORT", 3000)
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'igny8.db'}",
        redis_url=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        ai_provider=os.environ.get("AI_PROVIDER") or DEFAULT_AI_PROVIDER,
        secret_key=_secret_key(data_dir),
        offline_ai_delay_ms=_int("OFFLINE_AI_DELAY_MS", 0),
        heartbeat_timeout_s=_int("RUN_HEARTBEAT_TIMEOUT_S", DEFAULT_HEARTBEAT_TIMEOUT_S),
        session_idle_minutes=_int("SESSION_IDLE_MINUTES", DEFAULT_SESSION_IDLE_MINUTES),
        session_lifetime_hours=_int("SESSION_LIFETIME_HOURS", DEFAULT_SESSION_LIFETIME_HOURS),
        public_url=os.environ.get("IGNY8_PUBLIC_URL") or f"http://localhost:{port}",
    )


def reset_settings() -> None:
    get_settings.cache_clear()
