"""Factories for test data, built on the real services (so tests exercise the same paths)."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from igny8_app.domain.enums import Role
from igny8_app.models import Account, Site, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import ledger as billing
from igny8_app.services.accounts import sites

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(session: Session, *, account: str | None = None, role: Role | str = Role.OWNER,
              email: str | None = None, superuser: bool = False) -> User:
    n = next(_seq)
    return accounts.create_user(session=session, email=email or f"user{n}@example.com", password=PASSWORD,
                                account_name=account, role=role, is_superuser=superuser)


def make_account(session: Session, name: str | None = None, credits: int = 0) -> Account:
    account, _ = accounts.get_or_create_account(session=session, name=name or f"Account {next(_seq)}")
    if credits:
        billing.grant(session=session, account_id=account.id, amount=credits,
                      idempotency_key=f"factory-grant:{account.id}:{next(_seq)}", description="test credits")
    return account


def make_site(session: Session, account: Account, name: str | None = None) -> Site:
    n = next(_seq)
    return sites.create_site(session=session, account_id=account.id, name=name or f"Site {n}",
                             domain=f"site{n}.example.com")
