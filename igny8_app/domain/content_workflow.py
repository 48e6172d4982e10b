"""Content status workflow: draft → review → published, and back to draft. Pure."""

from __future__ import annotations

from igny8_app.domain.enums import ContentStatus
from igny8_app.domain.errors import Conflict

DRAFT, REVIEW, PUBLISHED = ContentStatus.DRAFT.value, ContentStatus.REVIEW.value, ContentStatus.PUBLISHED.value
STATUSES = (DRAFT, REVIEW, PUBLISHED)

#: current status -> statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({REVIEW}),
    REVIEW: frozenset({PUBLISHED, DRAFT}),
    PUBLISHED: frozenset({DRAFT}),
}


def allowed_next(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, frozenset()))


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> str:
    """``target`` if the move is legal, else Conflict with a message a user can read."""
    if target not in STATUSES:
        raise Conflict(f"Unknown content status: {target!r}.")
    if not can_transition(current, target):
        raise Conflict(f"An article in {current} cannot move to {target}.")
    return target
