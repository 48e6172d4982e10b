"""Retries with exponential backoff and jitter, Retry-After, and the 'provider unavailable' error.

``ProviderUnavailable`` means the provider could not be reached or kept refusing (timeouts,
connection errors, 429 and 5xx after every retry). It says nothing about the item: the run loop
leaves the item pending, and after ``circuit_threshold`` consecutive ones it pauses the run with
``pause_reason=provider_unavailable`` (resumable) instead of failing item after item.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Mapping

from igny8_app.ai.base import ProviderError

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class ProviderUnavailable(ProviderError):
    """The provider is down or rate-limiting us (after retries). Not the item's fault."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, retryable=False)  # the provider already retried with backoff
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4  # including the first
    base_s: float = 0.5
    max_backoff_s: float = 20.0
    jitter: float = 0.5  # the backoff is scaled by a random factor in [1 - jitter, 1]
    max_retry_after_s: float = 60.0

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """Wait before retry number ``retry`` (0 = the first retry): base x 2^retry, capped, jittered."""
        raw = min(self.base_s * (2 ** retry), self.max_backoff_s)
        return raw * (1 - self.jitter * (rng or random).random())

    def wait_for(self, retry: int, retry_after: float | None, rng: random.Random | None = None) -> float | None:
        """Seconds to wait before the next attempt, or None when the server asks for more than
        ``max_retry_after_s`` (waiting that long inside one item is pointless: give up now)."""
        if retry_after is not None:
            if retry_after > self.max_retry_after_s:
                return None
            return max(retry_after, 0.0)  # the server said when; honour it exactly
        return self.backoff(retry, rng)


def parse_retry_after(headers: Mapping[str, str] | None, *, now: datetime | None = None) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP date) or ``retry-after-ms``; None if absent."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = lower.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)
