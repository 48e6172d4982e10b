"""Whether a live page may still see what it is fed: a throttled re-check of its access.

A live feed (the Automation page's processing card) applies pushed events without a database read
each: with hundreds of open pages, one read per event would be one per event per page. But access
is per account and can end at any moment (the member is removed, the session is revoked by a
logout, a password change or a forced reset, the site is deleted), so the feed re-checks the
page's session, membership and site **at most once per ``ACCESS_CHECK_INTERVAL_S``**, whether
events arrive or not, and stops as soon as a check refuses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from igny8_app.domain.errors import DomainError

log = logging.getLogger(__name__)
ACCESS_CHECK_INTERVAL_S = 1.0  # a lost access stops the feed within about this long


class AccessGate:
    """Runs ``check`` (raising a DomainError on refusal) at most once per ``interval``.

    The page was authorised when its feed started, so the first check is one interval later.
    ``due_in()`` tells the feed how long it may wait for events before it must check.
    """

    def __init__(self, check: Callable[[], None], *, interval: float = ACCESS_CHECK_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._check, self.interval, self._clock = check, interval, clock
        self._last = clock()
        self.checks = 0
        self.verified = True  # False after a check that could not be made (the database did not answer)

    def due_in(self) -> float:
        return max(0.0, self._last + self.interval - self._clock())

    async def ensure(self) -> bool:
        """Check when due. Raises the refusal (a DomainError); returns whether access is known to
        hold: False while the database cannot be asked (the feed then holds its events back)."""
        if self.due_in() > 0:
            return self.verified
        self._last = self._clock()
        self.checks += 1
        try:
            await asyncio.to_thread(self._check)
        except DomainError:
            raise
        except Exception:  # noqa: BLE001 - an outage is not a refusal: fail closed, retry next interval
            log.warning("live feed: the access check failed; holding events back", exc_info=True)
            self.verified = False
        else:
            self.verified = True
        return self.verified
