"""Due times of scheduled runs: pure date arithmetic in the account's timezone (no DB, no IO).

A schedule is a wall-clock time (``HH:MM``) in an IANA timezone, on every day (daily), on one
weekday (weekly, 0 = Monday) or on one day of the month (monthly, 1-28 so every month has it).
Due times are returned as timezone-aware UTC datetimes.

Daylight-saving changes:
* spring forward (the wall time does not exist that day, e.g. 02:30 in Berlin on the last Sunday
  of March): the run is due at the same instant as the skipped wall time's old offset, which the
  clock shows as one hour later (03:30). It still runs that day, once.
* fall back (the wall time happens twice): the run is due at the first occurrence only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from igny8_app.domain.enums import Frequency

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_MONTH_DAY = 28


class ScheduleError(ValueError):
    """A schedule that cannot be evaluated (bad time, timezone or day)."""


@dataclass(frozen=True)
class Schedule:
    frequency: Frequency
    at: time
    tz: ZoneInfo
    weekday: int | None = None
    month_day: int | None = None

    @classmethod
    def build(cls, *, frequency: str, scheduled_time: str, timezone_name: str, weekday: int | None = None,
              month_day: int | None = None) -> Schedule:
        try:
            freq = Frequency(frequency)
        except ValueError:
            raise ScheduleError(f"Frequency must be one of {', '.join(f.value for f in Frequency)}.") from None
        return cls(freq, parse_time(scheduled_time), zone(timezone_name),
                   weekday if freq is Frequency.WEEKLY else None, month_day if freq is Frequency.MONTHLY else None)

    def runs_on(self, d: date) -> bool:
        if self.frequency is Frequency.DAILY:
            return True
        if self.frequency is Frequency.WEEKLY:
            return d.weekday() == self.weekday
        return d.day == self.month_day

    def due_on(self, d: date) -> datetime:
        """The UTC instant of the scheduled wall time on local date ``d`` (see the DST rules above)."""
        local = datetime.combine(d, self.at, tzinfo=self.tz)  # fold=0: first occurrence / pre-gap offset
        return local.astimezone(timezone.utc)

    def next_due(self, after: datetime) -> datetime:
        """The first due time strictly after ``after``."""
        start = _local_date(after, self.tz) - timedelta(days=1)
        for i in range(0, 40):
            d = start + timedelta(days=i)
            if self.runs_on(d):
                due = self.due_on(d)
                if due > after:
                    return due
        raise ScheduleError("No due time within 40 days.")  # unreachable for a valid schedule

    def latest_due(self, at_or_before: datetime) -> datetime | None:
        """The last due time at or before the instant (None only for a schedule with no past)."""
        start = _local_date(at_or_before, self.tz) + timedelta(days=1)
        for i in range(0, 40):
            d = start - timedelta(days=i)
            if self.runs_on(d):
                due = self.due_on(d)
                if due <= at_or_before:
                    return due
        return None

    def describe(self) -> str:
        hhmm = self.at.strftime("%H:%M")
        if self.frequency is Frequency.DAILY:
            return f"daily at {hhmm} ({self.tz.key})"
        if self.frequency is Frequency.WEEKLY:
            return f"every {WEEKDAYS[self.weekday]} at {hhmm} ({self.tz.key})"
        return f"monthly on day {self.month_day} at {hhmm} ({self.tz.key})"


def parse_time(value: str) -> time:
    m = _HHMM.fullmatch(value or "")
    if not m:
        raise ScheduleError("The scheduled time must be HH:MM (24-hour), e.g. 02:00.")
    return time(int(m.group(1)), int(m.group(2)))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"Unknown timezone '{name}'.") from None


def _local_date(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise ScheduleError("Instants must be timezone-aware.")
    return instant.astimezone(tz).date()


def local_text(instant: datetime | None, tz_name: str) -> str:
    """An instant as the account sees it, e.g. '2026-03-29 03:30 CEST'."""
    if instant is None:
        return "—"
    return instant.astimezone(zone(tz_name)).strftime("%Y-%m-%d %H:%M %Z")
