"""``live_access.AccessGate``: the live feed's access check runs at most once per interval however
often it is asked, a refusal is raised, and an outage holds events back without ending the feed."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from igny8_app.domain.errors import Forbidden
from igny8_app.live_access import ACCESS_CHECK_INTERVAL_S, AccessGate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run(coro):
    """asyncio.run in a thread (Playwright's sync API may hold the main thread's loop in a full run)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _gate(check):
    clock = Clock()
    return AccessGate(check, clock=clock), clock


def test_many_asks_in_one_second_make_one_check():
    calls = []
    gate, clock = _gate(lambda: calls.append(clock.now))
    for _ in range(500):  # 500 events within the first second: the page was authorised at start
        assert run(gate.ensure()) is True
        clock.now += 0.0019
    assert calls == [] and gate.due_in() == pytest.approx(0.05, abs=1e-6)
    clock.now += 0.05
    for _ in range(300):
        run(gate.ensure())
    assert len(calls) == 1 and gate.checks == 1
    assert gate.due_in() == pytest.approx(ACCESS_CHECK_INTERVAL_S)
    clock.now += 1.0
    run(gate.ensure())
    assert len(calls) == 2


def test_a_refusal_is_raised_and_an_outage_only_holds_back():
    state = {"fail": RuntimeError("database went away")}

    def check():
        if state["fail"]:
            raise state["fail"]

    gate, clock = _gate(check)
    clock.now += 1.0
    assert run(gate.ensure()) is False  # could not ask: hold events back, try again later
    assert run(gate.ensure()) is False  # (not re-asked within the second)
    state["fail"] = None
    clock.now += 1.0
    assert run(gate.ensure()) is True
    state["fail"] = Forbidden("gone")
    clock.now += 1.0
    with pytest.raises(Forbidden):
        run(gate.ensure())
    assert gate.checks == 3
