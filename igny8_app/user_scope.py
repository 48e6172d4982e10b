"""The unit of work of one browser-session command (a page handler, a cookie-authenticated route, a
live feed's re-check): authenticate the session's token, then give the command its session.

A read (``write=False``) runs in a ``read_session``: no write lock (on SQLite a deferred ``BEGIN``,
never ``BEGIN IMMEDIATE``), so page loads never queue behind a writer. The session's
``last_seen_at`` is stamped at most once a minute (``SESSION_TOUCH_INTERVAL``), in its own short
write beside the read. A write (``write=True``) is one ``write_session``, the touch included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from igny8_app.api.common import session_token_from_cookie_header
from igny8_app.db import is_transient_db_error, read_session, write_session
from igny8_app.domain.roles import Permission
from igny8_app.models import User
from igny8_app.services.accounts import access as accounts

log = logging.getLogger(__name__)


def touch_last_seen(token: str) -> None:
    """The session's own short write. A missed touch is harmless (the next request makes it)."""
    _short_write(lambda w: accounts.touch_session(session=w, token=token))


def _short_write(fn) -> None:  # noqa: ANN001
    try:
        with write_session() as w:
            fn(w)
    except Exception as exc:
        if not is_transient_db_error(exc):
            raise
        log.warning("session touch skipped: %s", exc)


@contextmanager
def _scope(token: str | None, write: bool, resolve, authenticate, touch) -> Iterator[tuple[Session, User]]:  # noqa: ANN001
    """A write resolves (and stamps) the token in the command's own transaction; a read
    authenticates it in a read session and stamps it, when due, in its own short write."""
    if write:
        with write_session() as s:
            yield s, resolve(session=s, token=token)
        return
    with read_session() as s:
        user, due = authenticate(session=s, token=token)
        if due and token:
            _short_write(lambda w: touch(session=w, token=token))
        yield s, user


def user_scope(token: str | None, *, write: bool):  # noqa: ANN201 - a context manager
    """Yield ``(session, user)`` for a browser session's token; raises Unauthenticated. See the
    module docstring."""
    return _scope(token, write, accounts.resolve_session, accounts.authenticate, accounts.touch_session)


def api_token_scope(token: str | None, *, write: bool):  # noqa: ANN201 - a context manager
    """As ``user_scope``, for a bearer API token (its ``last_used_at`` is stamped the same way)."""
    return _scope(token, write, accounts.resolve_api_token, accounts.authenticate_api_token,
                  accounts.touch_api_token)


def cookie_user_id(cookie_header: str | None) -> int:
    """The signed-in user's id behind a request's Cookie header (a read); raises Unauthenticated.
    For the cookie-authenticated file and media routes."""
    with user_scope(session_token_from_cookie_header(cookie_header), write=False) as (_s, user):
        return user.id


def check_site_access(*, token: str | None, site_id: int, permission: Permission, touch: bool = True) -> None:
    """Raise (Unauthenticated / NotFound / Forbidden) unless the browser session behind ``token``
    may ``permission`` on ``site_id``. For callers that hold no unit of work (live page feeds): a
    read; ``touch=False`` never stamps the session (for checks repeated every second)."""
    with read_session() as s:
        user, due = accounts.authenticate(session=s, token=token)
        accounts.authorize_site(session=s, user=user, site_id=site_id, permission=permission)
    if touch and due and token:
        touch_last_seen(token)
