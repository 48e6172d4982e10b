"""The web process's progress hub: one Redis subscription fanned out to the open Automation
pages, and one shared dashboard read per site for the pages that must reload."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib

from igny8_app import progress_hub
from igny8_app.db import read_session
from igny8_app.services.automation import control as automation
from igny8_app.services.automation.events import PROGRESS_CHANNEL
from igny8_app.services.automation.run_loop import execute_run
from tests.conftest import free_port
from tests.engine_helpers import seed_site


def run_async(scenario) -> None:  # noqa: ANN001 - a coroutine function
    """asyncio.run in a thread of its own: in a full run, Playwright's sync API (e2e tests) keeps an
    event loop running in the main thread, where asyncio.run refuses to start another."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the scenario did not finish in 60 s"
    if errors:
        raise errors[0]


async def _next(queue: asyncio.Queue, timeout: float = 5.0) -> dict:
    return await asyncio.wait_for(queue.get(), timeout)


async def _subscribed(hub: progress_hub.ProgressHub) -> None:
    await asyncio.wait_for(hub.subscribed.wait(), 5.0)


def test_events_reach_only_the_pages_of_their_site_in_order(redis, redis_url):
    async def scenario():
        hub = progress_hub.ProgressHub(redis_url)
        a1, a2, b = hub.open(1), hub.open(1), hub.open(2)
        await _subscribed(hub)
        pub = redis_lib.Redis.from_url(redis_url)
        pub.publish(PROGRESS_CHANNEL, b"not json")  # ignored, does not kill the reader
        pub.publish(PROGRESS_CHANNEL, json.dumps({"run_id": "x"}))  # no site: ignored
        for n in range(3):
            pub.publish(PROGRESS_CHANNEL, json.dumps({"site_id": 1, "n": n}))
        pub.publish(PROGRESS_CHANNEL, json.dumps({"site_id": 3, "n": 99}))  # nobody watches site 3
        pub.publish(PROGRESS_CHANNEL, json.dumps({"site_id": 2, "n": 7}))
        got_a1 = [await _next(a1) for _ in range(3)]
        got_a2 = [await _next(a2) for _ in range(3)]
        got_b = await _next(b)
        assert [e["n"] for e in got_a1] == [e["n"] for e in got_a2] == [0, 1, 2]
        seqs = [e["_seq"] for e in got_a1]
        assert seqs == sorted(seqs) and len(set(seqs)) == 3
        assert got_b["n"] == 7 and got_b["_seq"] > seqs[-1]
        assert a1.empty() and a2.empty() and b.empty()
        hub.close(1, a1)
        pub.publish(PROGRESS_CHANNEL, json.dumps({"site_id": 1, "n": 3}))
        assert (await _next(a2))["n"] == 3
        await asyncio.sleep(0.1)
        assert a1.empty() and hub.watchers(1) == 1
        hub.close(1, a2)
        hub.close(2, b)
        assert hub.watchers(1) == hub.watchers(2) == 0
        hub._reader.cancel()

    run_async(scenario)


def test_pages_of_a_site_share_one_dashboard_read_unless_they_saw_newer_events(redis, redis_url, monkeypatch):
    reads: list[int] = []
    release = threading.Event()

    def fake_read(site_id: int) -> dict:
        reads.append(site_id)
        release.wait(5)
        return {"site": site_id, "read": len(reads)}

    monkeypatch.setattr(progress_hub, "read_site_dashboard", fake_read)

    async def scenario():
        hub = progress_hub.ProgressHub(redis_url)
        q = hub.open(5)
        await _subscribed(hub)
        redis_lib.Redis.from_url(redis_url).publish(PROGRESS_CHANNEL, json.dumps({"site_id": 5, "stage_done": 1}))
        seen = (await _next(q))["_seq"]
        # three pages reload for the same event while the read is running: one read
        pending = [asyncio.ensure_future(hub.dashboard(5, seen)) for _ in range(3)]
        await asyncio.sleep(0.1)
        assert reads == [5]
        release.set()
        results = await asyncio.gather(*pending)
        assert results == [(seen, {"site": 5, "read": 1})] * 3
        # a page that asks again for what it has seen reuses the read; a newer event forces a new one
        assert await hub.dashboard(5, seen) == (seen, {"site": 5, "read": 1})
        redis_lib.Redis.from_url(redis_url).publish(PROGRESS_CHANNEL, json.dumps({"site_id": 5, "stage_done": 2}))
        newer = (await _next(q))["_seq"]
        assert newer > seen
        assert await hub.dashboard(5, newer) == (newer, {"site": 5, "read": 2})
        assert reads == [5, 5]
        # another site has its own read
        assert (await hub.dashboard(6, 0))[1] == {"site": 6, "read": 3}
        hub._reader.cancel()

    run_async(scenario)


def test_a_failed_dashboard_read_is_not_reused(redis, redis_url, monkeypatch):
    calls = []

    def flaky(site_id: int) -> dict:
        calls.append(site_id)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return {"ok": True}

    monkeypatch.setattr(progress_hub, "read_site_dashboard", flaky)

    async def scenario():
        hub = progress_hub.ProgressHub(redis_url)
        hub.open(1)
        with pytest.raises(RuntimeError):
            await hub.dashboard(1, 0)
        assert (await hub.dashboard(1, 0))[1] == {"ok": True}
        hub._reader.cancel()

    run_async(scenario)


def test_dashboard_reads_the_committed_run(db, redis):
    """The shared read is the same data the page's own reload shows, on SQLite and PostgreSQL."""
    ref = seed_site(n_keywords=12)
    run = automation.start_run(site_id=ref.site_id, trigger="manual")
    assert execute_run(run.id) == "completed"
    data = progress_hub.read_site_dashboard(ref.site_id)
    with read_session() as s:
        direct = automation.site_dashboard(session=s, site_id=ref.site_id)
    direct["run"].pop("as_of"), data["run"].pop("as_of")  # a clock reading
    assert data == direct
    assert data["run"]["run_id"] == run.run_id and data["run"]["status"] == "completed"
    assert data["history"][0]["run_id"] == run.run_id
    assert [st["stage"] for st in data["stages"]] == [1, 2, 3, 4, 5, 6]
    assert data["run"]["credits_used"] > 0
    assert data["balance"] == 50_000 - data["run"]["credits_used"]
    assert data["activity"] and data["activity"][-1]["message"]


def test_a_redis_restart_reconnects_and_tells_every_page_to_reload(tmp_path: Path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(tmp_path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_lib.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                return proc
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    proc = start()

    async def scenario():
        nonlocal proc
        hub = progress_hub.ProgressHub(url)
        q7, q8 = hub.open(7), hub.open(8)
        await _subscribed(hub)
        proc.kill()
        proc.wait(5)
        proc = start()
        got = {(await _next(q7, 15))["site_id"], (await _next(q8, 15))["site_id"]}
        assert got == {7, 8}
        await _subscribed(hub)
        redis_lib.Redis.from_url(url).publish(PROGRESS_CHANNEL, json.dumps({"site_id": 7, "n": 1}))
        event = await _next(q7)
        while event.get("reload"):  # more reloads may queue while Redis was coming back
            event = await _next(q7)
        assert event["n"] == 1
        hub._reader.cancel()

    try:
        run_async(scenario)
    finally:
        proc.kill()
        proc.wait(5)
