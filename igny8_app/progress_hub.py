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
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from igny8_app.services.automation.control import read_site_dashboard
from igny8_app.services.automation.events import PROGRESS_CHANNEL
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)
RECONNECT_DELAY_S = 1.0


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


def _failed(future: asyncio.Future) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


_hub: ProgressHub | None = None


def get_hub() -> ProgressHub:
    global _hub
    if _hub is None:
        _hub = ProgressHub(get_settings().redis_url)
    return _hub
