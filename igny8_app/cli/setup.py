"""Setting up: the schema, users, sites, keywords, credits, API tokens, password resets, the worker, demo data and the ledger check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from igny8_app.domain.enums import Role
from igny8_app.domain.errors import DomainError
from igny8_app.cli.common import JsonOpt, fail, out, app, billing_app, db_app


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (alembic upgrade head)."""
    from igny8_app.db import upgrade_database

    upgrade_database()
    typer.echo("Database is up to date.")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="Login email.")],
    password: Annotated[str, typer.Option(help="At least 8 characters.")],
    account: Annotated[Optional[str], typer.Option(help="Account name; created if it does not exist.")] = None,
    role: Annotated[Role, typer.Option(help="Role in the account.")] = Role.OWNER,
    superuser: Annotated[bool, typer.Option("--superuser", help="Platform admin.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a user (and the account when it does not exist yet)."""
    from igny8_app.db import write_session
    from igny8_app.services.accounts import access as accounts

    try:
        with write_session() as s:
            user = accounts.create_user(session=s, email=email, password=password, account_name=account,
                                        role=role, is_superuser=superuser)
            uid = user.id
    except DomainError as exc:
        fail(exc, as_json)
    out({"id": uid, "email": email.strip().lower()}, as_json, f"Created user {email} (id {uid}).")


@app.command("create-site")
def create_site(
    account: Annotated[str, typer.Option(help="Account name.")],
    name: Annotated[str, typer.Option(help="Site name.")],
    domain: Annotated[str, typer.Option(help="Site domain, e.g. example.com.")],
    sector: Annotated[Optional[list[str]], typer.Option(help="Sector (1-5, repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a site in an account."""
    from igny8_app.db import write_session
    from igny8_app.services.accounts import access as accounts
    from igny8_app.services.accounts import sites

    try:
        with write_session() as s:
            acc = accounts.get_account_by_name(session=s, name=account)
            site = sites.create_site(session=s, account_id=acc.id, name=name, domain=domain, sectors=sector)
            sid = site.id
    except DomainError as exc:
        fail(exc, as_json)
    out({"id": sid}, as_json, f"Created site '{name}' (id {sid}).")


@app.command("import-keywords")
def import_keywords(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file.")],
    site: Annotated[int, typer.Option(help="Site id.")],
    as_json: JsonOpt = False,
) -> None:
    """Import keywords from a CSV (keyword, volume, difficulty, intent)."""
    from igny8_app.db import write_session
    from igny8_app.services.content import keywords

    def progress(done: int, total: int) -> None:
        if not as_json and total >= 5_000:
            typer.echo(f"\r  inserted {done:,}/{total:,}", nl=False, err=True)

    try:
        with write_session() as s:
            result = keywords.import_keywords(session=s, site_id=site, data=file.read_bytes(), progress=progress)
    except DomainError as exc:
        fail(exc, as_json)
    data = result.as_dict()
    lines = [f"Imported {result.imported}, duplicates skipped {result.duplicates}, invalid {result.invalid}."]
    lines += [f"  line {e['line']}: {e['reason']}" for e in data["errors"][:50]]
    out(data, as_json, "\n".join(lines))


@app.command("grant-credits")
def grant_credits(
    account: Annotated[str, typer.Option(help="Account name.")],
    amount: Annotated[int, typer.Option(help="Credits to add (> 0).")],
    reason: Annotated[str, typer.Option(help="Shown in the usage history.")],
    key: Annotated[Optional[str], typer.Option(help="Idempotency key (default: a new one).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Grant credits to an account through the ledger."""
    import uuid

    from igny8_app.db import write_session
    from igny8_app.services.accounts import access as accounts
    from igny8_app.services.billing import ledger as billing

    try:
        with write_session() as s:
            acc = accounts.get_account_by_name(session=s, name=account)
            tx = billing.grant(session=s, account_id=acc.id, amount=amount, description=reason,
                               idempotency_key=key or f"cli-grant:{uuid.uuid4()}")
            data = {"transaction_id": tx.id, "balance": tx.balance_after}
    except DomainError as exc:
        fail(exc, as_json)
    out(data, as_json, f"Granted {amount} credits to {account}; balance is now {data['balance']}.")


@app.command("api-token")
def api_token(
    email: Annotated[str, typer.Option(help="User email.")],
    name: Annotated[str, typer.Option(help="A label for the token.")] = "CLI token",
    as_json: JsonOpt = False,
) -> None:
    """Create an API token for a user and print it (shown only once)."""
    from sqlmodel import select

    from igny8_app.db import write_session
    from igny8_app.domain.errors import NotFound
    from igny8_app.models import User
    from igny8_app.services.accounts import access as accounts

    try:
        with write_session() as s:
            user = s.exec(select(User).where(User.email == email.strip().lower())).one_or_none()
            if user is None:
                raise NotFound(f"No user has email {email}.")
            row, plain = accounts.create_api_token(session=s, user_id=user.id, name=name)
            tid = row.id
    except DomainError as exc:
        fail(exc, as_json)
    out({"id": tid, "token": plain}, as_json, plain)


@app.command("force-password-reset")
def force_password_reset(
    email: Annotated[str, typer.Option(help="The user whose password must be reset.")],
    by: Annotated[str, typer.Option(help="Email of the platform admin (superuser) forcing it.")],
    print_password: Annotated[bool, typer.Option(
        "--print-password", help="Set a new random password and print it once, instead of a reset link "
                                 "(e.g. to recover the demo superuser).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Force a password reset (platform admins): the old password stops working, every session
    ends, and a single-use link is emailed (when SMTP_URL is set) and printed; with
    --print-password a new random password is set and printed instead."""
    from sqlmodel import select

    from igny8_app.db import write_session
    from igny8_app.domain.errors import NotFound
    from igny8_app.models import User
    from igny8_app.services.accounts import passwords
    from igny8_app.services.accounts import throttle

    try:
        with write_session() as s:
            users = {u.email: u for u in s.exec(select(User).where(
                User.email.in_([email.strip().lower(), by.strip().lower()]))).all()}
            target, actor = users.get(email.strip().lower()), users.get(by.strip().lower())
            if target is None or actor is None:
                raise NotFound("No user has that email.")
            if print_password:
                secret = passwords.force_new_password(session=s, actor=actor, user_id=target.id)
            else:
                secret = passwords.force_reset(session=s, actor=actor, user_id=target.id)
            address = target.email
    except DomainError as exc:
        fail(exc, as_json)
    if print_password:
        throttle.clear(address)  # a fresh password starts with a clean failed-login count
        out({"email": address, "password": secret}, as_json,
             f"New password for {address} (shown once; every session of the user ended):\n  {secret}")
        return
    emailed = passwords.email_forced_reset(email=address, token=secret)
    link = passwords.reset_url(secret)
    out({"email": address, "link": link, "emailed": emailed}, as_json,
         f"Password of {address} reset; {'emailed' if emailed else 'not emailed (SMTP_URL unset)'}. Link: {link}")


@app.command("worker")
def worker(
    burst: Annotated[bool, typer.Option("--burst", help="Exit when the queue is empty.")] = False,
    name: Annotated[Optional[str], typer.Option(help="Worker name.")] = None,
) -> None:
    """Run an RQ worker on the automation queue."""
    from igny8_app.worker import run_worker

    run_worker(burst=burst, name=name)


@app.command("demo")
def demo(as_json: JsonOpt = False) -> None:
    """Create the demo account, users, site, keywords and credits (idempotent). Only on an empty
    database unless IGNY8_DEMO=1 (IGNY8_DEMO=0: never). The superuser's random password is shown
    only when it is created."""
    from igny8_app.db import write_session
    from igny8_app.services.system.demo import RECOVER_SUPERUSER, create_demo
    from igny8_app.settings import demo_mode

    mode = demo_mode()
    if mode == "never":
        out({"created": False, "skipped": True, "logins": []}, as_json, "Demo data is off (IGNY8_DEMO=0).")
        return
    with write_session() as s:
        result = create_demo(session=s, force=mode == "always")
    data = {"created": result.created, "skipped": result.skipped, "account": result.account,
            "site_id": result.site_id, "recover_superuser": RECOVER_SUPERUSER,
            "logins": [{"role": r, "email": e, "password": p} for r, e, p in result.logins]}
    out(data, as_json, result.text())


@billing_app.command("reconcile")
def reconcile(as_json: JsonOpt = False) -> None:
    """Check every account: balance = sum of transactions, and every balance_after agrees."""
    from igny8_app.db import read_session
    from igny8_app.services.billing import ledger as billing

    with read_session() as s:
        report = billing.reconcile(session=s)
    data = report.as_dict()
    text = [f"Checked {report.accounts_checked} accounts, {report.transactions_checked} transactions: "
            + ("no drift." if report.ok else f"DRIFT in {len(report.drift)} account(s).")]
    for d in data["drift"]:
        text.append(f"  {d['account']}: balance {d['balance']} vs ledger {d['ledger_sum']}; "
                    f"bad balance_after rows {d['bad_balance_after']}")
    out(data, as_json, "\n".join(text))
    if not report.ok:
        raise typer.Exit(2)


# --- automation runs ----------------------------------------------------------------------------
