"""Due times in the account's timezone: daily/weekly/monthly, and daylight-saving transitions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from igny8_app.domain.schedule import Schedule, ScheduleError, local_text

UTC = timezone.utc


def u(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def daily(at: str, tz: str) -> Schedule:
    return Schedule.build(frequency="daily", scheduled_time=at, timezone_name=tz)


def sequence(s: Schedule, start: datetime, n: int) -> list[datetime]:
    out, t = [], start
    for _ in range(n):
        t = s.next_due(t)
        out.append(t)
    return out


def test_berlin_spring_forward_nonexistent_time_runs_once_an_hour_later():
    # 2026-03-29: clocks go 02:00 CET -> 03:00 CEST; 02:30 does not exist that day
    s = daily("02:30", "Europe/Berlin")
    got = sequence(s, u(2026, 3, 27, 12), 3)
    assert got == [u(2026, 3, 28, 1, 30), u(2026, 3, 29, 1, 30), u(2026, 3, 30, 0, 30)]
    assert [local_text(t, "Europe/Berlin") for t in got] == [
        "2026-03-28 02:30 CET", "2026-03-29 03:30 CEST", "2026-03-30 02:30 CEST"]


def test_berlin_fall_back_ambiguous_time_runs_once_at_the_first_occurrence():
    # 2026-10-25: clocks go 03:00 CEST -> 02:00 CET; 02:30 happens twice
    s = daily("02:30", "Europe/Berlin")
    got = sequence(s, u(2026, 10, 23, 12), 3)
    assert got == [u(2026, 10, 24, 0, 30), u(2026, 10, 25, 0, 30), u(2026, 10, 26, 1, 30)]
    # nothing due at the second 02:30 (01:30 UTC) of the transition day
    assert s.next_due(u(2026, 10, 25, 0, 30)) == u(2026, 10, 26, 1, 30)


def test_new_york_daily_interval_is_23_and_25_hours_across_transitions():
    s = daily("09:00", "America/New_York")
    spring = sequence(s, u(2026, 3, 6, 20), 3)  # DST starts 2026-03-08
    assert [b - a for a, b in zip(spring, spring[1:])] == [timedelta(hours=23), timedelta(hours=24)]
    assert spring[1] == u(2026, 3, 8, 13)  # 09:00 EDT
    fall = sequence(s, u(2026, 10, 30, 20), 3)  # DST ends 2026-11-01
    assert [b - a for a, b in zip(fall, fall[1:])] == [timedelta(hours=25), timedelta(hours=24)]
    assert fall[1] == u(2026, 11, 1, 14)  # 09:00 EST


def test_weekly_and_monthly():
    weekly = Schedule.build(frequency="weekly", scheduled_time="06:15", timezone_name="Asia/Kolkata", weekday=2)
    got = sequence(weekly, u(2026, 1, 1), 2)  # Wednesdays 06:15 IST = 00:45 UTC
    assert got == [u(2026, 1, 7, 0, 45), u(2026, 1, 14, 0, 45)]
    monthly = Schedule.build(frequency="monthly", scheduled_time="23:30", timezone_name="America/Los_Angeles",
                             month_day=28)
    got = sequence(monthly, u(2026, 1, 1), 3)  # 23:30 PST/PDT on the 28th = next day in UTC
    assert got == [u(2026, 1, 29, 7, 30), u(2026, 3, 1, 7, 30),
                   u(2026, 3, 29, 6, 30)]


def test_latest_due_is_the_last_one_at_or_before_now():
    s = daily("02:00", "UTC")
    assert s.latest_due(u(2026, 5, 5, 2, 0)) == u(2026, 5, 5, 2, 0)
    assert s.latest_due(u(2026, 5, 5, 1, 59)) == u(2026, 5, 4, 2, 0)
    berlin = daily("02:30", "Europe/Berlin")
    assert berlin.latest_due(u(2026, 3, 29, 1, 45)) == u(2026, 3, 29, 1, 30)


@pytest.mark.parametrize("kwargs, msg", [
    ({"frequency": "hourly"}, "Frequency"), ({"scheduled_time": "7pm"}, "HH:MM"),
    ({"timezone_name": "Mars/Olympus"}, "Unknown timezone"),
])
def test_bad_schedules(kwargs, msg):
    base = {"frequency": "daily", "scheduled_time": "02:00", "timezone_name": "UTC"}
    with pytest.raises(ScheduleError, match=msg):
        Schedule.build(**{**base, **kwargs})
    with pytest.raises(ScheduleError):
        daily("02:00", "UTC").next_due(datetime(2026, 1, 1))  # naive instants are refused
