"""Login throttling in Redis: per email and per client IP, over a sliding window.

Each attempt is counted *before* its password is checked, in one Lua script (atomic in Redis):
it drops the entries older than WINDOW_S from both sorted sets, and only when both are under
their limit adds one entry to each and lets the attempt through. So however many attempts race,
no more than the limit reach the password check within any window. A refused attempt adds
nothing (hammering a locked account does not extend the lock). A success gives back what it
counted (``refund``) and clears the email's failures.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from redis.exceptions import RedisError

from igny8_app.queue import get_redis

WINDOW_S = 15 * 60
MAX_FAILURES_PER_EMAIL = 8
MAX_FAILURES_PER_IP = 30
log = logging.getLogger(__name__)

# KEYS: the sorted sets; ARGV: window (ms), member, then one limit per key.
# Returns 0 (counted) or the milliseconds until the first blocking key has room again.
_ADMIT = """
if redis.replicate_commands then redis.replicate_commands() end  -- Redis < 5: TIME before writes
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return 0
"""


@dataclass(frozen=True)
class Attempt:
    """An attempt that was counted (or ``member`` None: not counted, Redis was unavailable)."""

    keys: tuple[str, ...]
    member: str | None
    wait_s: int = 0  # > 0: refused, this many seconds until the next attempt is allowed


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    return [(f"igny8:login-fail:email:{email.strip().lower()}", MAX_FAILURES_PER_EMAIL),
            (f"igny8:login-fail:ip:{ip}", MAX_FAILURES_PER_IP)]


def begin(email: str, ip: str) -> Attempt:
    """Count an attempt before the password is checked. ``wait_s > 0``: refused, not counted."""
    keys = _keys(email, ip)
    names = tuple(k for k, _ in keys)
    member = secrets.token_hex(8)
    try:
        r = get_redis()
        wait_ms = int(r.eval(_ADMIT, len(keys), *names, int(WINDOW_S * 1000), member, *(lim for _, lim in keys)))
    except RedisError:  # never lock everyone out because Redis is down
        log.warning("login throttle unavailable: Redis error")
        return Attempt(names, None)
    if wait_ms > 0:
        return Attempt(names, None, wait_s=max(1, -(-wait_ms // 1000)))
    return Attempt(names, member)


def refund(attempt: Attempt, *, clear_email: bool = True) -> None:
    """The attempt succeeded: take back what it counted, and (by default) the email's failures."""
    try:
        pipe = get_redis().pipeline()
        if attempt.member is not None:
            for key in attempt.keys:
                pipe.zrem(key, attempt.member)
        if clear_email:
            pipe.delete(attempt.keys[0])
        pipe.execute()
    except RedisError:
        log.warning("login throttle unavailable: Redis error")


def clear(email: str) -> None:
    """Forget the failures of an email (e.g. after a password reset)."""
    try:
        get_redis().delete(_keys(email, "")[0][0])
    except RedisError:
        pass


def refused_message(wait_s: int) -> str:
    return f"Too many failed attempts. Try again in about {max(1, round(wait_s / 60))} minute(s)."
