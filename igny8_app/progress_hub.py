"""Live progress for the open Automation pages of one web process.

Workers publish an event on one Redis channel after every committed change of a run
(``services.run_events.publish``). Each web process holds **one** subscription to it and fans
the events out to the pages that watch the event's site, instead of one Redis connection and one
JSON decode of every site's events per open page.

When a page must reload the whole dashboard (a stage ended, the run paused, completed …), every
page of that site needs the same data: ``dashboard()`` computes it once, in a thread so the
event loop keeps serving sockets meanwhile, and shares it with every page that asks for data at
least as new as the events it has seen. Freshness is decided by the order in which this process
received the events (a sequence number), never by comparing clocks of different machines.

``follow`` is one page's feed: it paces the pushes to the page (``push_interval``), coalesces the
events that arrive faster, keeps at most one dashboard reload of the page in flight beside the
item events, re-checks the page's access (``live_access.AccessGate``) and stops when the page goes
idle, is superseded or loses its access. The page state supplies only what it shows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from igny8_app.domain.errors import DomainError
from igny8_app.live_access import AccessGate
from igny8_app.services.automation.control import read_site_dashboard
from igny8_app.services.automation.events import PROGRESS_CHANNEL
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)
RECONNECT_DELAY_S = 1.0
WATCH_IDLE_LIMIT_S = 30 * 60
MIN_PUSH_INTERVAL_S = 0.02  # at most ~50 card updates a second per page; faster events coalesce
PUSHES_PER_SECOND = 500  # per web process, shared by its open pages: 50 pages get 10 updates a second each
PUSH_TRACE = os.environ.get("IGNY8_PUSH_TRACE", "")  # a file: one line per push (bench/push_latency.py)


def push_interval(watchers: int) -> float:
    """The least time between two card updates of one page, with ``watchers`` pages open in this
    process: every page still sees the newest state, just less often when many are open."""
    return max(MIN_PUSH_INTERVAL_S, watchers / PUSHES_PER_SECOND)


def _trace_push(run: dict[str, Any]) -> None:
    with open(PUSH_TRACE, "a", encoding="utf-8") as fh:
        fh.write(f"{time.time():.6f} {run.get('current_stage', 0)} {run.get('processed_items', 0)} "
                 f"{run.get('total_items', 0)}\n")


class ProgressHub:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.seq = 0  # events received so far (every event gets the next number as "_seq")
        self._feeds: dict[int, set[asyncio.Queue]] = defaultdict(set)
        self._reader: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dashboards: dict[int, tuple[int, asyncio.Future]] = {}
        self.subscribed = asyncio.Event()

    # --- pages --------------------------------------------------------------------------------

    def open(self, site_id: int) -> asyncio.Queue:
        """A queue that receives every progress event of ``site_id`` from now on."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._reader is None or self._reader.done():
            self._loop, self._dashboards = loop, {}
            self.subscribed = asyncio.Event()
            self._reader = loop.create_task(self._read(), name="igny8-progress-hub")
        queue: asyncio.Queue = asyncio.Queue()
        self._feeds[site_id].add(queue)
        return queue

    def close(self, site_id: int, queue: asyncio.Queue) -> None:
        feeds = self._feeds.get(site_id)
        if feeds is not None:
            feeds.discard(queue)
            if not feeds:
                del self._feeds[site_id]

    def watchers(self, site_id: int | None = None) -> int:
        """Open pages watching ``site_id`` (or any site) in this process."""
        if site_id is None:
            return sum(len(feeds) for feeds in self._feeds.values())
        return len(self._feeds.get(site_id, ()))

    async def dashboard(self, site_id: int, after_seq: int) -> tuple[int, dict[str, Any]]:
        """The site's dashboard, read after every event up to ``after_seq`` was received (so it
        includes their commits), and the sequence number it was started at (it includes every
        event up to that one). Pages asking for the same or older events share one read."""
        cached = self._dashboards.get(site_id)
        if cached is None or cached[0] < after_seq or _failed(cached[1]):
            cached = (self.seq, asyncio.ensure_future(asyncio.to_thread(read_site_dashboard, site_id)))
            self._dashboards[site_id] = cached
        return cached[0], await asyncio.shield(cached[1])

    # --- Redis --------------------------------------------------------------------------------

    async def _read(self) -> None:
        """Receive forever (one idle subscription per process is cheap); reconnect on errors and
        then tell every page to reload, since events published meanwhile are lost."""
        while True:
            client = Redis.from_url(self.redis_url)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(PROGRESS_CHANNEL)
                self.subscribed.set()
                while True:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if msg is not None:
                        self._dispatch(msg["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                log.warning("progress subscription lost; reconnecting", exc_info=True)
                self.subscribed.clear()
                await asyncio.sleep(RECONNECT_DELAY_S)
                for site_id in list(self._feeds):
                    self._put(site_id, {"site_id": site_id, "reload": True})
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except (RedisError, OSError):
                    pass

    def _dispatch(self, data: bytes | str) -> None:
        try:
            event = json.loads(data)
            site_id = int(event["site_id"])
        except (ValueError, TypeError, KeyError):
            log.warning("ignoring a malformed progress event: %.200r", data)
            return
        self._put(site_id, event)

    def _put(self, site_id: int, event: dict[str, Any]) -> None:
        self.seq += 1
        if site_id in self._feeds:
            event["_seq"] = self.seq
            for queue in list(self._feeds[site_id]):
                queue.put_nowait(event)


async def follow(hub: ProgressHub, site_id: int, *, page: AbstractAsyncContextManager, current: Callable[[], bool],
                 gate: AccessGate, recheck: Callable[[], None],
                 apply_events: Callable[[list[dict[str, Any]]], tuple[bool, dict[str, Any]]],
                 apply_dashboard: Callable[[int, dict[str, Any]], None]) -> DomainError | None:
    """Feed one open page the events of ``site_id`` until it is idle for ``WATCH_IDLE_LIMIT_S``,
    is superseded or loses its access. Returns the refusal that stopped it, else None.

    ``page`` is entered (``async with page``, the Reflex state's lock) around every call of the
    page's callbacks, and ``current()`` (is this feed still the page's?) is asked first each time:

    * ``apply_events(events)`` shows the newest committed state the events carry (the cheap path,
      no database read) and returns (whether they need a dashboard reload, the run now shown);
    * ``apply_dashboard(read_at, data)`` shows a dashboard read at hub sequence ``read_at``.

    Pushes are paced to at most one per ``push_interval()``: faster events are coalesced and the
    newest committed state wins (a browser on 2 busy cores cannot paint 150 updates a second, and
    queueing them only makes every later update late). A reload is read once per process for every
    page of the site (``ProgressHub.dashboard``), in a thread, concurrently with the item events
    that keep arriving, so the card never waits for it; at most one runs per page, for the newest
    events. The access is re-checked by ``gate`` (at most once a second, events or not) and by
    ``recheck()`` before every reload; a refusal (a DomainError) stops the feed.
    """
    queue = hub.open(site_id)
    wanted: dict[str, Any] = {"seq": 0, "done": 0, "denied": None}  # the reload this page needs / has
    reloader: asyncio.Task | None = None

    async def reload() -> None:
        while wanted["done"] < wanted["seq"]:
            target = wanted["seq"]
            try:  # re-checked on every reload: a revoked session or role stops the feed
                await asyncio.to_thread(recheck)
                read_at, data = await hub.dashboard(site_id, target)
            except DomainError as exc:
                wanted["denied"] = exc
                return
            async with page:
                if not current() or wanted["denied"]:
                    return
                apply_dashboard(read_at, data)
            wanted["done"] = target

    last_event, last_push = time.monotonic(), 0.0
    events: list[dict[str, Any]] = []
    try:
        while wanted["denied"] is None and time.monotonic() - last_event < WATCH_IDLE_LIMIT_S:
            try:  # wake for the next event, or when the access check is due
                events.append(await asyncio.wait_for(queue.get(), timeout=max(gate.due_in(), 0.01)))
                last_event = time.monotonic()
                if (wait := last_push + push_interval(hub.watchers()) - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                while not queue.empty():
                    events.append(queue.get_nowait())
            except asyncio.TimeoutError:
                pass
            try:
                allowed = await gate.ensure()  # a no-op until a second has passed since the last check
            except DomainError as exc:
                wanted["denied"] = exc
                break
            async with page:
                if not current():
                    return None  # the page was reloaded or the site changed: a newer feed runs
                if not (events and allowed):  # nothing new, or access unverified: hold events back
                    continue
                needs_reload, shown = apply_events(events)
            batch, events = events, []
            last_push = time.monotonic()
            if PUSH_TRACE:  # benchmarks: when each page's update left this process
                _trace_push(shown)
            if needs_reload:
                wanted["seq"] = max(e.get("_seq", 0) for e in batch)
                if reloader is None or reloader.done():
                    reloader = asyncio.create_task(reload())
    finally:
        hub.close(site_id, queue)
        if reloader is not None and not reloader.done():
            reloader.cancel()
    return wanted["denied"]  # None: idle for WATCH_IDLE_LIMIT_S (the page reconnects when used again)


def _failed(future: asyncio.Future) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


_hub: ProgressHub | None = None


def get_hub() -> ProgressHub:
    global _hub
    if _hub is None:
        _hub = ProgressHub(get_settings().redis_url)
    return _hub
