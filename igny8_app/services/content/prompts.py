"""Prompt overrides per account over the registry's built-in defaults (igny8_app/ai/prompt_registry.py).

An override that drops a required placeholder (or names an unknown one) is refused with a message
naming it; saving the default text again (or an empty one) removes the override."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.ai import prompt_registry
from igny8_app.ai.prompt_registry import PromptError
from igny8_app.domain.errors import ValidationError
from igny8_app.models import PromptOverride, utcnow


def overrides_for(session: Session, account_id: int) -> dict[str, str]:
    rows = session.exec(select(PromptOverride).where(PromptOverride.account_id == account_id)).all()
    return {r.name: r.template for r in rows if r.name in prompt_registry.SPECS}


def list_prompts(*, session: Session, account_id: int) -> list[dict[str, Any]]:
    """Every prompt of the registry with the account's template (its override, else the default)."""
    own = overrides_for(session, account_id)
    out = []
    for name, spec in prompt_registry.SPECS.items():
        default = prompt_registry.default_template(name)
        out.append({"name": name, "label": spec.label, "required": list(spec.required),
                    "optional": list(spec.optional), "default": default, "template": own.get(name, default),
                    "overridden": name in own})
    return out


def save_override(*, session: Session, account_id: int, name: str, template: str,
                  user_id: int | None = None) -> dict[str, Any]:
    """Store the account's template for ``name`` (validated). Returns {"name", "overridden"}."""
    try:
        prompt_registry.spec(name)
        if not (template or "").strip():
            return reset_override(session=session, account_id=account_id, name=name)
        text = prompt_registry.validate(name, template)
    except PromptError as exc:
        raise ValidationError(str(exc)) from None
    if text == prompt_registry.default_template(name):
        return reset_override(session=session, account_id=account_id, name=name)
    row = session.exec(select(PromptOverride).where(PromptOverride.account_id == account_id,
                                                    PromptOverride.name == name)).one_or_none()
    if row is None:
        row = PromptOverride(account_id=account_id, name=name, template=text, updated_by=user_id)
    else:
        row.template, row.updated_by, row.updated_at = text, user_id, utcnow()
    session.add(row)
    session.flush()
    return {"name": name, "overridden": True}


def reset_override(*, session: Session, account_id: int, name: str) -> dict[str, Any]:
    try:
        prompt_registry.spec(name)
    except PromptError as exc:
        raise ValidationError(str(exc)) from None
    session.execute(sa.delete(PromptOverride).where(PromptOverride.account_id == account_id,
                                                    PromptOverride.name == name))
    return {"name": name, "overridden": False}
