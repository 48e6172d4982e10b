"""Per-site automation configuration: read, validate, update, and the next scheduled run time.

Entry points (the Automation page, ``GET config`` / ``PUT update_config``, ``igny8 config``) authorise
the caller (owners and admins edit, everyone in the account reads), then call these functions.
Every value arrives loosely typed (JSON, a form's strings, ``key=value`` on the command line):
``update_config`` coerces and validates all fields first and saves nothing unless every field is
valid, raising ``ConfigInvalid`` with one message per field.

A run never reads this table while it works: ``start_run`` snapshots the configuration onto the
run (``automation.config_snapshot``) and the run loop reads only that snapshot.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from igny8_app.db import read_session, within
from igny8_app.domain.enums import Frequency
from igny8_app.domain.errors import NotFound, ValidationError
from igny8_app.domain.schedule import MAX_MONTH_DAY, Schedule, ScheduleError, local_text, parse_time
from igny8_app.models import Account, AutomationConfig, Site, utcnow
from igny8_app.pipeline import stages as registry

# Ranges (inclusive). A batched stage (clustering) sends a batch of rows in one call; the others work
# one item at a time and their batch size is how many items run back to back between within-stage delays.
STAGE_1_BATCH_RANGE = (1, 100)  # a batched stage's
STAGE_BATCH_RANGE = (1, 50)
DELAY_RANGE_S = (0, 3600)
ITEM_CAP_RANGE = (1, 1_000_000)
IN_ARTICLE_RANGE = (0, 5)
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_MONTH_DAY = 1
ITEM_CAPS = tuple(st.cap_key for st in registry.STAGES if st.cap_key)
BATCH_FIELDS = tuple(st.batch_key for st in registry.STAGES if st.batch_key)
DELAY_FIELDS = ("within_stage_delay", "between_stage_delay")
SCHEDULE_FIELDS = ("enabled", "frequency", "scheduled_time", "weekday", "month_day")
EDITABLE = (*SCHEDULE_FIELDS, *BATCH_FIELDS, *DELAY_FIELDS, *ITEM_CAPS, "max_credits_per_run",
            "in_article_images", "review_after_stages")
LABELS = {
    "enabled": "Scheduled runs", "frequency": "Frequency", "scheduled_time": "Time", "weekday": "Weekday",
    "month_day": "Day of month", "within_stage_delay": "Delay within a stage", "between_stage_delay":
    "Delay between stages", "max_keywords_per_run": "Max keywords", "max_clusters_per_run": "Max clusters",
    "max_ideas_per_run": "Max ideas", "max_tasks_per_run": "Max tasks", "max_content_per_run": "Max content",
    "max_images_per_run": "Max images", "max_credits_per_run": "Max credits", "in_article_images":
    "In-article images", "review_after_stages": "Review after stages",
    **{st.batch_key: f"Stage {st.number} batch size" for st in registry.STAGES if st.batch_key},
}


def review_stages() -> tuple[int, ...]:
    """Stages a run may pause after for review: all but the last (after it the run is over)."""
    return tuple(n for n in registry.numbers() if not registry.is_last(n))


def batch_range(key: str) -> tuple[int, int]:
    batched = any(st.batched for st in registry.STAGES if st.batch_key == key)
    return STAGE_1_BATCH_RANGE if batched else STAGE_BATCH_RANGE


class ConfigInvalid(ValidationError):
    """One or more fields are invalid; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(f"{LABELS.get(k, k)}: {v}" for k, v in errors.items()))


class CapAboveBalance(ConfigInvalid):
    """The only problem is a credit cap above the account's current balance: a conflict with the
    account's state (409, like insufficient credits), not a malformed value."""

    code = "conflict"
    http_status = 409


@dataclass
class _Field:
    errors: dict[str, str]

    def fail(self, name: str, msg: str) -> None:
        self.errors.setdefault(name, msg)


# --- coercion -----------------------------------------------------------------------------------

def _to_int(value: Any, *, nullable: bool) -> int | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if nullable:
            return None
        raise ValueError("is required.")
    if isinstance(value, bool):
        raise ValueError("must be a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,12}", value.strip()):  # ASCII digits ('²' is isdigit)
        return int(value.strip())
    raise ValueError("must be a whole number.")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off", ""):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("must be true or false.")


def _to_stages(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    if not isinstance(value, (list, tuple)):
        raise ValueError("must be a list of stage numbers, e.g. 1,2.")
    out = set()
    for v in value:
        n = _to_int(v, nullable=False)
        allowed = review_stages()
        if n not in allowed:
            raise ValueError(f"stages must be between {allowed[0]} and {allowed[-1]} "
                             f"(the run ends after stage {registry.last().number}).")
        out.add(n)
    return sorted(out)


def _in_range(f: _Field, name: str, value: int | None, lo: int, hi: int, unit: str = "") -> None:
    if value is not None and not lo <= value <= hi:
        f.fail(name, f"must be between {lo} and {hi}{unit}.")


# --- validation ---------------------------------------------------------------------------------

def validate(merged: dict[str, Any], *, balance: int | None) -> dict[str, Any]:
    """Coerce and check a full configuration; returns the clean values or raises ConfigInvalid.

    ``balance``: the account's credits, which a credit cap must not exceed (None: not checked, for
    a cap that is not being changed; a balance that fell since does not lock the form)."""
    f = _Field({})
    clean: dict[str, Any] = {}
    for name in EDITABLE:
        raw = merged.get(name)
        try:
            if name == "enabled":
                clean[name] = _to_bool(raw)
            elif name == "frequency":
                clean[name] = Frequency(str(raw).strip().lower()).value
            elif name == "scheduled_time":
                clean[name] = parse_time(str(raw).strip()).strftime("%H:%M")
            elif name == "review_after_stages":
                clean[name] = _to_stages(raw)
            elif name in ("weekday", "month_day", *ITEM_CAPS, "max_credits_per_run"):
                clean[name] = _to_int(raw, nullable=True)
            else:
                clean[name] = _to_int(raw, nullable=False)
        except ScheduleError as exc:
            f.fail(name, str(exc))
        except ValueError as exc:
            f.fail(name, "must be one of daily, weekly, monthly." if name == "frequency" else str(exc))
    freq = clean.get("frequency")
    _in_range(f, "weekday", clean.get("weekday"), 0, 6, " (0 = Monday … 6 = Sunday)")
    _in_range(f, "month_day", clean.get("month_day"), 1, MAX_MONTH_DAY, " (so every month has it)")
    # weekly without a weekday runs on Mondays, monthly without a day on the 1st (the saved
    # configuration and its next run time show which); other frequencies drop the field
    if freq == Frequency.WEEKLY.value:
        clean["weekday"] = DEFAULT_WEEKDAY if clean.get("weekday") is None else clean["weekday"]
    else:
        clean["weekday"] = None
    if freq == Frequency.MONTHLY.value:
        clean["month_day"] = DEFAULT_MONTH_DAY if clean.get("month_day") is None else clean["month_day"]
    else:
        clean["month_day"] = None
    for name in BATCH_FIELDS:
        _in_range(f, name, clean.get(name), *batch_range(name))
    for name in DELAY_FIELDS:
        _in_range(f, name, clean.get(name), *DELAY_RANGE_S, " seconds")
    for name in ITEM_CAPS:
        _in_range(f, name, clean.get(name), *ITEM_CAP_RANGE)
    _in_range(f, "in_article_images", clean.get("in_article_images"), *IN_ARTICLE_RANGE)
    cap = clean.get("max_credits_per_run")
    if cap is not None and "max_credits_per_run" not in f.errors:
        if cap < 1:
            f.fail("max_credits_per_run", "must be at least 1 (leave it empty for no cap).")
        elif balance is not None and cap > balance:
            f.fail("max_credits_per_run", f"{cap:,} is more than the account's balance of {balance:,} credits; "
                                          "lower it or add credits first.")
    if f.errors:
        only_balance = set(f.errors) == {"max_credits_per_run"} and cap is not None and balance is not None \
            and cap > balance
        raise (CapAboveBalance if only_balance else ConfigInvalid)(f.errors)
    return clean


# --- read / write -------------------------------------------------------------------------------

def _config_row(s: Session, site_id: int) -> AutomationConfig:
    cfg = s.exec(select(AutomationConfig).where(AutomationConfig.site_id == site_id)).one_or_none()
    if cfg is None:
        cfg = AutomationConfig(site_id=site_id)
        s.add(cfg)
        s.flush()
    return cfg


def schedule_of(cfg: AutomationConfig, timezone_name: str) -> Schedule:
    return Schedule.build(frequency=cfg.frequency, scheduled_time=cfg.scheduled_time,
                          timezone_name=timezone_name, weekday=cfg.weekday, month_day=cfg.month_day)


def compute_next_run(cfg: AutomationConfig, timezone_name: str, now=None) -> Any:  # noqa: ANN001
    """The next due time after ``now`` for an enabled, valid schedule; None otherwise."""
    if not cfg.enabled:
        return None
    try:
        return schedule_of(cfg, timezone_name).next_due(now or utcnow())
    except ScheduleError:
        return None


def view(s: Session, site: Site, cfg: AutomationConfig) -> dict[str, Any]:
    account = s.get(Account, site.account_id)
    tz = account.timezone or "UTC"
    data = {name: getattr(cfg, name) for name in EDITABLE}
    data["review_after_stages"] = list(cfg.review_after_stages or [])
    try:
        schedule_text = schedule_of(cfg, tz).describe()
    except ScheduleError:
        schedule_text = "invalid schedule"
    return {"site_id": site.id, **data, "timezone": tz, "schedule": schedule_text,
            "next_run_at": cfg.next_run_at.isoformat() if cfg.next_run_at else None,
            "next_run_local": local_text(cfg.next_run_at, tz) if cfg.next_run_at else None,
            "last_run_at": cfg.last_run_at.isoformat() if cfg.last_run_at else None,
            "updated_at": cfg.updated_at.isoformat()}


def get_config(*, site_id: int, session: Session | None = None) -> dict[str, Any]:
    def _read(s: Session) -> dict[str, Any]:
        site = s.get(Site, site_id)
        if site is None:
            raise NotFound("Site not found.")
        cfg = s.exec(select(AutomationConfig).where(AutomationConfig.site_id == site_id)).one_or_none()
        return view(s, site, cfg or AutomationConfig(site_id=site_id))

    if session is not None:
        return _read(session)
    with read_session() as s:
        return _read(s)


def update_config(*, site_id: int, changes: dict[str, Any], now=None,  # noqa: ANN001
                  session: Session | None = None) -> dict[str, Any]:
    """Apply ``changes`` (a partial configuration) to the site's config; all or nothing (in the
    caller's unit of work)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ConfigInvalid({k: f"is not a configuration setting (known: {', '.join(EDITABLE)})." for k in unknown})
    with within(session) as s:
        site = s.get(Site, site_id)
        if site is None:
            raise NotFound("Site not found.")
        account = s.get(Account, site.account_id)
        cfg = _config_row(s, site_id)
        merged = {name: getattr(cfg, name) for name in EDITABLE}
        merged.update(changes)
        cap_changed = "max_credits_per_run" in changes and changes["max_credits_per_run"] != cfg.max_credits_per_run
        clean = validate(merged, balance=account.credits if cap_changed else None)
        for name, value in clean.items():
            setattr(cfg, name, value)
        now = now or utcnow()
        cfg.next_run_at = compute_next_run(cfg, account.timezone or "UTC", now)
        cfg.updated_at = now
        s.add(cfg)
        s.flush()
        return view(s, site, cfg)
