"""Errors a user can cause. Each carries a stable code (used by the API as the JSON ``error``)
and a message fit to show in the UI."""

from __future__ import annotations


class DomainError(Exception):
    code = "invalid"
    http_status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    code = "invalid"
    http_status = 422


class FieldErrors(ValidationError):
    """Several fields of a form are wrong; ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Please correct: " + "; ".join(errors.values()))
        self.errors = errors


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Unauthenticated(DomainError):
    code = "unauthenticated"
    http_status = 401


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class InsufficientCredits(Conflict):
    code = "insufficient_credits"

    def __init__(self, *, needed: int, balance: int, message: str | None = None) -> None:
        super().__init__(
            message or f"Insufficient credits: this needs {needed} credits but the balance is {balance}."
        )
        self.needed = needed
        self.balance = balance


class ImportRejected(ValidationError):
    """The whole file is refused (encoding, missing column, too large): nothing was imported."""


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429
