"""Redis connection and the RQ queue. Imported by the CLI, the worker, services and the app."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from rq import Queue

from igny8_app.settings import get_settings


@lru_cache(maxsize=4)
def _redis(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30, socket_keepalive=True)


def get_redis() -> Redis:
    return _redis(get_settings().redis_url)


def get_queue() -> Queue:
    return Queue(get_settings().rq_queue, connection=get_redis())


def reset_redis() -> None:
    _redis.cache_clear()
