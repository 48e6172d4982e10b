"""All configuration, read from the environment in one place.

Every variable is documented in README.md ("Configuration"). Values are read when
``get_settings()`` is first called; tests call ``reset_settings()`` after changing the environment.
"""

from __future__ import annotations

import ipaddress
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


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(raw: str | None) -> tuple[IPNetwork, ...]:
    """IGNY8_TRUSTED_PROXIES: comma-separated IPs or CIDRs of the reverse proxies whose
    X-Forwarded-For is believed (the login throttle counts the client they saw). Empty: none."""
    nets = []
    for part in (raw or "").split(","):
        if part.strip():
            try:
                nets.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise RuntimeError(f"IGNY8_TRUSTED_PROXIES must list IP addresses or CIDR networks, "
                                   f"got {part.strip()!r}") from exc
    return tuple(nets)


DEFAULT_HOST = "127.0.0.1"


def bind_host() -> str:
    """IGNY8_HOST: the address the web server (page, websocket, API) listens on. Default
    127.0.0.1: only this machine can reach it; 0.0.0.0 (or a specific address) opens it."""
    return (os.environ.get("IGNY8_HOST") or "").strip() or DEFAULT_HOST


def demo_mode() -> str:
    """IGNY8_DEMO: unset = `igny8 demo` creates demo data only on an empty database (no users);
    "1" = also on a database that has users; "0" = never."""
    raw = (os.environ.get("IGNY8_DEMO") or "").strip().lower()
    if raw in ("", "auto"):
        return "auto"
    if raw in ("1", "true", "yes", "on"):
        return "always"
    if raw in ("0", "false", "no", "off"):
        return "never"
    raise RuntimeError(f"IGNY8_DEMO must be 1 or 0 (or unset), got {raw!r}")


DEFAULT_EMAIL_RETRY_INTERVALS_S = (10, 60, 300)
MAX_EMAIL_RETRIES = 20


def _seconds_list(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of whole seconds (``"10,60,300"``); unset or blank: ``default``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    parts = [p.strip() for p in raw.split(",")]
    if any(not p.isdigit() for p in parts) or len(parts) > MAX_EMAIL_RETRIES:
        raise RuntimeError(f"{name} must be 1 to {MAX_EMAIL_RETRIES} comma-separated whole numbers of seconds "
                           f"(e.g. 10,60,300), got {raw!r}")
    return tuple(int(p) for p in parts)


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
    stripe_secret_key: str = ""  # card payments (Stripe Checkout) are offered only when both are set
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # empty: Stripe's own API; tests point it at a local fake
    scheduler_tick_s: int = 15  # how often each worker's scheduler looks for due runs
    retention_days: int = 90  # run logs/traces and orphaned media older than this are pruned
    retention_interval_s: int = 3600  # how often the retention job runs
    sqlite_busy_timeout_s: int = 60  # how long a SQLite writer waits for the write lock
    #: reverse proxies whose X-Forwarded-For names the client (IGNY8_TRUSTED_PROXIES); empty: none
    trusted_proxies: tuple[IPNetwork, ...] = ()
    #: IGNY8_EMAIL_RETRY_INTERVALS_S: the waits before the 1st, 2nd, ... retry of a failed email job
    #: (so as many retries as values); fixed into each job when it is queued. RQ's scheduler, which
    #: runs inside the workers, puts a waiting retry back on the queue.
    email_retry_intervals_s: tuple[int, ...] = DEFAULT_EMAIL_RETRY_INTERVALS_S
    #: IGNY8_SMTP_CA_FILE: a PEM bundle of CAs the SMTP client trusts instead of the system store
    #: (a private relay's CA). Certificates are always verified; empty: the system store.
    smtp_ca_file: str = ""
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
        stripe_secret_key=(os.environ.get("STRIPE_SECRET_KEY") or "").strip(),
        stripe_webhook_secret=(os.environ.get("STRIPE_WEBHOOK_SECRET") or "").strip(),
        stripe_api_base=(os.environ.get("STRIPE_API_BASE") or "").strip().rstrip("/"),
        scheduler_tick_s=max(1, _int("IGNY8_SCHEDULER_TICK_S", 15)),
        retention_days=max(1, _int("IGNY8_RETENTION_DAYS", 90)),
        retention_interval_s=max(60, _int("IGNY8_RETENTION_INTERVAL_S", 3600)),
        sqlite_busy_timeout_s=max(1, _int("IGNY8_SQLITE_BUSY_TIMEOUT_S", 60)),
        trusted_proxies=parse_trusted_proxies(os.environ.get("IGNY8_TRUSTED_PROXIES")),
        email_retry_intervals_s=_seconds_list("IGNY8_EMAIL_RETRY_INTERVALS_S", DEFAULT_EMAIL_RETRY_INTERVALS_S),
        smtp_ca_file=(os.environ.get("IGNY8_SMTP_CA_FILE") or "").strip(),
    )


def reset_settings() -> None:
    get_settings.cache_clear()


# --- AI providers (the OpenAI-compatible provider; see igny8_app/ai/openai_provider.py) -----------

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_OPENAI_IMAGE_MODEL = "gpt-image-1"
#: USD per 1M tokens (input, output) and per image; AI_MODEL_PRICES (JSON) adds or replaces entries,
#: e.g. {"llama3.1": {"in": 0, "out": 0}, "gpt-image-1": {"image": 0.04}}. Unknown models cost 0.
DEFAULT_MODEL_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o-mini": {"in": 0.15, "out": 0.60},
    "gpt-4o": {"in": 2.50, "out": 10.00},
    "gpt-4.1-mini": {"in": 0.40, "out": 1.60},
    "gpt-4.1": {"in": 2.00, "out": 8.00},
    "gpt-image-1": {"image": 0.04},
    "dall-e-3": {"image": 0.04},
}


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class AISettings:
    """Environment defaults of the OpenAI-compatible provider (an account may override them)."""

    base_url: str | None
    api_key: str
    models: dict[str, str]  # operation type -> model: clustering, ideas, content, image_prompts, images
    timeout_s: float
    max_attempts: int  # per HTTP call, including the first (429/5xx/timeouts are retried)
    max_retry_after_s: float  # a Retry-After above this is not waited for: the call fails at once
    schema_attempts: int  # per item: a reply that is not valid JSON for the schema is asked again
    circuit_threshold: int  # consecutive unavailable calls that pause a run (provider_unavailable)
    image_size: str
    image_response_format: str | None  # 'url' / 'b64_json' / None (the server's default)
    prices: dict[str, dict[str, float]]
    json_mode: bool = True  # send response_format={"type": "json_object"} (OPENAI_JSON_MODE=0: servers without it)


def get_ai_settings() -> AISettings:
    """Read at each call (cheap): a provider is built once per run."""
    import json

    default_model = os.environ.get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL
    models = {op: os.environ.get(f"OPENAI_MODEL_{op.upper()}") or default_model
              for op in ("clustering", "ideas", "content", "image_prompts")}
    models["images"] = os.environ.get("OPENAI_IMAGE_MODEL") or DEFAULT_OPENAI_IMAGE_MODEL
    prices = {k: dict(v) for k, v in DEFAULT_MODEL_PRICES.items()}
    raw = os.environ.get("AI_MODEL_PRICES")
    if raw:
        try:
            extra = json.loads(raw)
            prices.update({str(k): {str(f): float(x) for f, x in v.items()} for k, v in extra.items()})
        except (ValueError, AttributeError, TypeError) as exc:
            raise RuntimeError(f"AI_MODEL_PRICES must be a JSON object of model -> {{in, out, image}}: {exc}") from exc
    return AISettings(
        base_url=os.environ.get("OPENAI_BASE_URL") or None,
        api_key=os.environ.get("OPENAI_API_KEY") or "",
        models=models,
        timeout_s=_float("OPENAI_TIMEOUT_S", 60.0),
        max_attempts=max(1, _int("OPENAI_MAX_ATTEMPTS", 4)),
        max_retry_after_s=_float("OPENAI_MAX_RETRY_AFTER_S", 60.0),
        schema_attempts=max(1, _int("OPENAI_SCHEMA_ATTEMPTS", 2)),
        circuit_threshold=max(1, _int("AI_CIRCUIT_THRESHOLD", 3)),
        image_size=os.environ.get("OPENAI_IMAGE_SIZE") or "1024x1024",
        image_response_format=os.environ.get("OPENAI_IMAGE_RESPONSE_FORMAT") or None,
        prices=prices,
        json_mode=(os.environ.get("OPENAI_JSON_MODE") or "1").strip().lower() not in ("0", "false", "no", "off"),
    )
