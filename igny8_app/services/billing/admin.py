"""Platform admin use cases: credit costs (with an audit trail; the run-cost preview is in
services.automation.estimate), accounts
overview, credit adjustments, and credit packages. Every function checks the acting superuser."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.domain import invoices as rules
from igny8_app.domain.costs import CostRule
from igny8_app.domain.enums import CostUnit, TransactionType
from igny8_app.domain.errors import Conflict, NotFound, ValidationError
from igny8_app.models import (
    Account,
    CreditCostAudit,
    CreditCostConfig,
    CreditPackage,
    CreditUsageDaily,
    Membership,
    Site,
    User,
    utcnow,
)
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing.payments import require_superuser
from igny8_app.services.billing.usage import month_start

MAX_COST = 10_000
MAX_ADJUST = 10_000_000


_WHOLE = re.compile("-?[0-9]{1,15}")  # ASCII digits: isdigit() also takes '²', which int() refuses
_PRICE = re.compile("([0-9]{1,15})(?:\\.([0-9]{0,2}))?")


def _int(raw: Any, name: str, lo: int, hi: int) -> int:
    s = str(raw).strip().replace(",", "")
    if not _WHOLE.fullmatch(s):
        raise ValidationError(f"{name} must be a whole number.")
    v = int(s)
    if not lo <= v <= hi:
        raise ValidationError(f"{name} must be between {lo:,} and {hi:,}.")
    return v


# --- credit costs -------------------------------------------------------------------------------

def _cost_snapshot(c: CreditCostConfig) -> dict[str, Any]:
    return {"credits_cost": c.credits_cost, "unit": c.unit, "is_active": c.is_active,
            "tokens_per_credit": c.tokens_per_credit, "min_credits": c.min_credits}


MAX_TOKENS_PER_CREDIT = 1_000_000
_KEEP: Any = object()  # update_cost/proposed_rules: leave this field as it is


def _tokens_per_credit(raw: Any) -> int | None:
    """Tokens that buy one credit for per-1k-token prices; empty/None means the default (1,000)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _int(raw, "Tokens per credit", 1, MAX_TOKENS_PER_CREDIT)


def _rule_fields(old: CostRule | CreditCostConfig, tokens_per_credit: Any, min_credits: Any
                 ) -> tuple[int | None, int]:
    """The validated new (tokens_per_credit, min_credits); ``_KEEP`` keeps ``old``'s value."""
    tokens = old.tokens_per_credit if tokens_per_credit is _KEEP else _tokens_per_credit(tokens_per_credit)
    minimum = old.min_credits if min_credits is _KEEP else _int(min_credits, "The minimum", 0, MAX_COST)
    return tokens, minimum


def update_cost(*, session: Session, admin_user_id: int, operation_type: str, credits_cost: Any, unit: str,
                is_active: bool, tokens_per_credit: Any = _KEEP, min_credits: Any = _KEEP) -> CreditCostConfig:
    """Change one operation's price; it applies to the next item charged. Audited (old -> new).
    ``tokens_per_credit`` (per-1k-token prices) and ``min_credits`` (the least one charge costs)
    stay as they are unless given."""
    require_superuser(session, admin_user_id)
    cost = _int(credits_cost, "The cost", 0, MAX_COST)
    try:
        unit = CostUnit(unit).value
    except ValueError:
        raise ValidationError(f"Unknown unit '{unit}'.") from None
    cfg = session.exec(select(CreditCostConfig).where(CreditCostConfig.operation_type == operation_type)
                       .with_for_update()).one_or_none()
    if cfg is None:
        raise NotFound(f"No cost is configured for '{operation_type}'.")
    tokens, minimum = _rule_fields(cfg, tokens_per_credit, min_credits)
    old = _cost_snapshot(cfg)
    cfg.credits_cost, cfg.unit, cfg.is_active = cost, unit, bool(is_active)
    cfg.tokens_per_credit, cfg.min_credits = tokens, minimum
    new = _cost_snapshot(cfg)
    if old == new:
        return cfg
    cfg.updated_by, cfg.updated_at = admin_user_id, utcnow()
    session.add(cfg)
    session.add(CreditCostAudit(operation_type=operation_type, old_value=old, new_value=new,
                                changed_by=admin_user_id, changed_at=cfg.updated_at))
    session.flush()
    return cfg


AUDIT_ORDER = ("credits_cost", "unit", "tokens_per_credit", "min_credits", "is_active")  # PostgreSQL's JSONB does not keep key order


def _figure(v: Any) -> str:
    """Numbers with thousands separators (not booleans: ``True`` is an int to Python)."""
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


def cost_audit(*, session: Session, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(CreditCostAudit, User.email).outerjoin(User, User.id == CreditCostAudit.changed_by)
        .order_by(CreditCostAudit.id.desc()).limit(limit)
    ).all()
    out = []
    for a, email in rows:
        keys = sorted(a.new_value, key=lambda k: (AUDIT_ORDER.index(k) if k in AUDIT_ORDER else len(AUDIT_ORDER), k))
        changes = [f"{k}: {_figure(a.old_value.get(k))} → {_figure(a.new_value.get(k))}" for k in keys
                   if a.old_value.get(k) != a.new_value.get(k)]
        out.append({"id": a.id, "operation": a.operation_type, "who": email or "(deleted user)",
                    "when": a.changed_at.strftime("%Y-%m-%d %H:%M"), "change": "; ".join(changes),
                    "old": a.old_value, "new": a.new_value})
    return out


def current_rules(*, session: Session) -> dict[str, CostRule]:
    return {c.operation_type: CostRule(c.credits_cost, c.unit, c.tokens_per_credit, c.min_credits, c.is_active)
            for c in billing.list_cost_configs(session=session)}


def proposed_rules(*, session: Session, operation_type: str, credits_cost: Any, unit: str, is_active: bool,
                   tokens_per_credit: Any = _KEEP, min_credits: Any = _KEEP) -> dict[str, CostRule]:
    """The prices now with one operation's proposed price, checked (nothing is saved); the price
    preview (``services.automation.estimate.price_preview``) prices a typical run with them."""
    now = current_rules(session=session)
    if operation_type not in now:
        raise NotFound(f"No cost is configured for '{operation_type}'.")
    cost = _int(credits_cost, "The cost", 0, MAX_COST)
    try:
        CostUnit(unit)
    except ValueError:
        raise ValidationError(f"Unknown unit '{unit}'.") from None
    tokens, minimum = _rule_fields(now[operation_type], tokens_per_credit, min_credits)
    return {**now, operation_type: CostRule(cost, unit, tokens, minimum, bool(is_active))}


# --- accounts -----------------------------------------------------------------------------------

def _account_search(search: str) -> list[Any]:
    term = search.strip()
    return [Account.name.ilike(f"%{term}%")] if term else []


def accounts_overview(*, session: Session, admin_user_id: int, search: str = "", limit: int = 100, offset: int = 0
                      ) -> list[dict[str, Any]]:
    """One page of accounts (by name) with balance, usage this month, sites and users."""
    require_superuser(session, admin_user_id)
    D = CreditUsageDaily.__table__
    used = (sa.select(D.c.account_id, sa.func.sum(-D.c.amount).label("used"))
            .where(D.c.type == TransactionType.DEDUCTION.value, D.c.day >= month_start())
            .group_by(D.c.account_id).subquery())
    sites = sa.select(Site.account_id, sa.func.count().label("n")).group_by(Site.account_id).subquery()
    users = sa.select(Membership.account_id, sa.func.count().label("n")).group_by(Membership.account_id).subquery()
    q = (sa.select(Account.id, Account.name, Account.credits, Account.low_balance_threshold,
                   sa.func.coalesce(used.c.used, 0), sa.func.coalesce(sites.c.n, 0), sa.func.coalesce(users.c.n, 0))
         .outerjoin(used, used.c.account_id == Account.id).outerjoin(sites, sites.c.account_id == Account.id)
         .outerjoin(users, users.c.account_id == Account.id).where(*_account_search(search))
         .order_by(Account.name, Account.id).limit(limit).offset(offset))
    return [{"id": i, "name": n, "balance": b, "threshold": th, "used_this_month": int(u), "sites": int(s),
             "users": int(us), "low": b < th} for i, n, b, th, u, s, us in session.execute(q).all()]


def count_accounts(*, session: Session, admin_user_id: int, search: str = "") -> int:
    require_superuser(session, admin_user_id)
    return int(session.execute(sa.select(sa.func.count()).select_from(Account)
                               .where(*_account_search(search))).scalar_one())


def adjust_credits(*, session: Session, admin_user_id: int, account_id: int, amount: Any, reason: str,
                   idempotency_key: str) -> dict[str, Any]:
    """A manual correction (positive or negative) with a required reason. Idempotent on the key the
    dialog generated when it opened, so a double submit adjusts once."""
    require_superuser(session, admin_user_id)
    value = _int(amount, "The amount", -MAX_ADJUST, MAX_ADJUST)
    if session.get(Account, account_id) is None:
        raise NotFound("Account not found.")
    tx = billing.adjust(session=session, account_id=account_id, amount=value, reason=reason,
                        admin_user_id=admin_user_id, idempotency_key=f"admin-adjust:{idempotency_key}")
    return {"transaction_id": tx.id, "amount": tx.amount, "balance_after": tx.balance_after}


# --- credit packages ----------------------------------------------------------------------------

def save_package(*, session: Session, admin_user_id: int, package_id: int | None, name: str, credits: Any,
                 price: Any, is_active: bool) -> CreditPackage:
    """Create (package_id None) or update a package. ``price`` is in currency units, e.g. '79.00'."""
    require_superuser(session, admin_user_id)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError("A package needs a name of at most 120 characters.")
    n_credits = _int(credits, "Credits", 1, 100_000_000)
    price_cents = parse_price(price)
    clash = session.exec(select(CreditPackage).where(CreditPackage.name == name)).one_or_none()
    if clash is not None and clash.id != package_id:
        raise Conflict(f"A package named '{name}' already exists.")
    if package_id is None:
        pkg = CreditPackage(name=name, credits=n_credits, price_cents=price_cents, is_active=bool(is_active))
    else:
        pkg = session.get(CreditPackage, package_id)
        if pkg is None:
            raise NotFound("Package not found.")
        pkg.name, pkg.credits, pkg.price_cents, pkg.is_active = name, n_credits, price_cents, bool(is_active)
    session.add(pkg)
    session.flush()
    return pkg


def parse_price(raw: Any) -> int:
    s = str(raw).strip().replace(",", "").lstrip("$")
    m = _PRICE.fullmatch(s)
    if m is None:
        raise ValidationError("The price must look like 79 or 79.00.")
    cents = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if not 0 < cents <= rules.MAX_UNIT_PRICE_CENTS:
        raise ValidationError("The price must be more than 0 and at most 1,000,000.00.")
    return cents
