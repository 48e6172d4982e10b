"""Per-account AI settings: which provider an account's runs use, and its overrides of the
environment's OpenAI-compatible settings (base URL, API key, models) and of the prompts.

The API key is stored encrypted (crypto.py: Fernet, key derived from SECRET_KEY by
HKDF) and is never shown back: views carry only its last 4 characters. Empty fields mean "the server default" (the
environment: AI_PROVIDER, OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL_*)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlparse

from sqlmodel import Session

from igny8_app.ai.base import PROVIDERS, AIProvider, get_provider
from igny8_app.db import read_session
from igny8_app.domain.errors import FieldErrors
from igny8_app.models import AccountAISettings, utcnow
from igny8_app import crypto
from igny8_app.services.content import prompts as prompt_service
from igny8_app.settings import get_ai_settings, get_settings

USER_PROVIDERS = ("offline", "openai")  # what an account may choose ('' = the server default)
MODEL_FIELDS = ("clustering", "ideas", "content", "image_prompts", "images")
MODEL_LABELS = {"clustering": "Clustering model", "ideas": "Ideas model", "content": "Content model",
                "image_prompts": "Image prompts model", "images": "Image model"}
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,119}$")
MAX_KEY = 500
CHECK_ATTEMPTS = 1
log = logging.getLogger(__name__)


def encrypt_key(key: str) -> str:
    return crypto.encrypt(crypto.AI_API_KEY, key)


def decrypt_key(token: str) -> str:
    """The stored key, or '' if it cannot be decrypted (SECRET_KEY changed: enter it again)."""
    if not token:
        return ""
    try:
        return crypto.decrypt(crypto.AI_API_KEY, token)
    except crypto.DecryptionError as exc:
        log.warning("%s", exc)
        return ""


def _row(session: Session, account_id: int) -> AccountAISettings | None:
    return session.get(AccountAISettings, account_id)


def get_view(*, session: Session, account_id: int) -> dict[str, Any]:
    """What the settings page shows: the account's values ('' = default), the defaults, and the
    key's last 4 characters only."""
    row = _row(session, account_id)
    env = get_ai_settings()
    models = dict(row.models or {}) if row else {}
    return {
        "provider": row.provider if row else "",
        "base_url": row.base_url if row else "",
        "api_key_hint": (f"…{row.api_key_last4}" if row and row.api_key_encrypted else ""),
        "models": {f: str(models.get(f, "")) for f in MODEL_FIELDS},
        "default_provider": get_settings().ai_provider,
        "default_base_url": env.base_url or "https://api.openai.com/v1",
        "default_models": dict(env.models),
        "default_key_set": bool(env.api_key),
        "updated_at": row.updated_at.isoformat() if row else None,
    }


def update(*, session: Session, account_id: int, provider: str = "", base_url: str = "",
           models: dict[str, str] | None = None, api_key: str | None = None, clear_key: bool = False,
           user_id: int | None = None) -> dict[str, Any]:
    """Validate and store. ``api_key`` None or '' keeps the stored key; ``clear_key`` removes it.
    Raises FieldErrors (field -> message)."""
    errors: dict[str, str] = {}
    provider = (provider or "").strip().lower()
    if provider and provider not in USER_PROVIDERS:
        errors["provider"] = f"Choose a provider: {', '.join(USER_PROVIDERS)} (or empty for the server default)."
    base_url = (base_url or "").strip().rstrip("/")
    if base_url:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(base_url) > 500:
            errors["base_url"] = "The base URL must be an http(s) URL such as http://localhost:11434/v1."
    clean_models: dict[str, str] = {}
    for field, value in (models or {}).items():
        if field not in MODEL_FIELDS:
            errors[field] = f"Unknown model field {field!r}."
            continue
        value = (value or "").strip()
        if value and not _MODEL.fullmatch(value):
            errors[field] = f"{MODEL_LABELS[field]}: use letters, digits and . _ : / @ + - (at most 120)."
        elif value:
            clean_models[field] = value
    key = (api_key or "").strip()
    if key and (len(key) > MAX_KEY or any(c.isspace() for c in key)):
        errors["api_key"] = "The API key cannot contain spaces and has at most 500 characters."
    if errors:
        raise FieldErrors(errors)
    row = _row(session, account_id) or AccountAISettings(account_id=account_id)
    row.provider, row.base_url, row.models = provider, base_url, clean_models
    if clear_key:
        row.api_key_encrypted, row.api_key_last4 = "", ""
    elif key:
        row.api_key_encrypted, row.api_key_last4 = encrypt_key(key), key[-4:]
    row.updated_by, row.updated_at = user_id, utcnow()
    session.add(row)
    session.flush()
    return get_view(session=session, account_id=account_id)


def provider_kwargs(session: Session, account_id: int | None) -> tuple[str, dict[str, Any]]:
    """(provider name, keyword arguments) for the account: its settings over the environment's."""
    name = get_settings().ai_provider
    kwargs: dict[str, Any] = {}
    if account_id is None:
        return name, kwargs
    row = _row(session, account_id)
    if row is not None:
        name = row.provider or name
        if row.base_url:
            kwargs["base_url"] = row.base_url
        key = decrypt_key(row.api_key_encrypted)
        if key:
            kwargs["api_key"] = key
        if row.models:
            kwargs["models"] = {k: v for k, v in row.models.items() if k in MODEL_FIELDS and v}
    own_prompts = prompt_service.overrides_for(session, account_id)
    if own_prompts:
        kwargs["prompts"] = own_prompts
    return name, kwargs


def provider_for_account(account_id: int | None, **kwargs: Any) -> AIProvider:
    """The provider for a run of ``account_id`` (``kwargs``: sleeper, should_stop, ... win)."""
    with read_session() as s:
        name, account_kwargs = provider_kwargs(s, account_id)
    return get_provider(name, **{**account_kwargs, **kwargs})


def check_connection(*, account_id: int | None) -> dict[str, Any]:
    """One tiny request with the account's effective settings: {"ok", "provider", "message"}."""
    with read_session() as s:
        name, kwargs = provider_kwargs(s, account_id)
    if name.strip().lower() not in PROVIDERS:
        return {"ok": False, "provider": name, "message": f"Unknown AI provider {name!r}."}
    try:
        provider = get_provider(name, **kwargs, max_attempts=CHECK_ATTEMPTS)
    except Exception as exc:  # noqa: BLE001 - a configuration problem is the answer here
        return {"ok": False, "provider": name, "message": f"The provider could not be set up: {exc}"}
    check = getattr(provider, "check", None)
    if check is None:
        return {"ok": True, "provider": name,
                "message": f"The {name} provider runs inside the app: there is no connection to test."}
    return {"provider": name, **check()}
