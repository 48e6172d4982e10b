"""Failed-login throttling in Redis: per email and per client IP, over a sliding window."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from igny8_app.queue import get_redis

WINDOW_S = 15 * 60
MAX_FAILURES_PER_EMAIL = 8
MAX_FAILURES_PER_IP = 30
log = logging.getLogger(__name__)


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    return [(f"igny8:login-fail:email:{email.strip().lower()}", MAX_FAILURES_PER_EMAIL),
            (f"igny8:login-fail:ip:{ip}", MAX_FAILURES_PER_IP)]


def is_throttled(email: str, ip: str) -> int:
    """Seconds until the next attempt is allowed, or 0."""
    try:
        r = get_redis()
        for key, limit in _keys(email, ip):
            count = int(r.get(key) or 0)
            if count >= limit:
                return max(int(r.ttl(key)), 1)
    except RedisError:  # never lock everyone out because Redis is down
        log.warning("login throttle unavailable: Redis error")
    return 0


def record_failure(email: str, ip: str) -> None:
    try:
        pipe = get_redis().pipeline()
        for key, _ in _keys(email, ip):
            pipe.incr(key)
            pipe.expire(key, WINDOW_S, nx=True)
        pipe.execute()
    except RedisError:
        log.warning("login throttle unavailable: Redis error")


def clear(email: str) -> None:
    try:
        get_redis().delete(_keys(email, "")[0][0])
    except RedisError:
        pass
