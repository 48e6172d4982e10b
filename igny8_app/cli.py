"""The ``igny8`` command: the same services as the UI and API, no logic of its own.

Run as ``igny8 …`` (console script) or ``python -m igny8_app.cli …`` from the repo root.
Refused actions exit with status 1 and print the reason on stderr (as JSON with ``--json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from igny8_app.domain.enums import Role, Trigger
from igny8_app.domain.errors import DomainError
from igny8_app.domain.run_state import COMMAND_LINE

app = typer.Typer(no_args_is_help=True, add_completion=False, help="IGNY8 Automation command line.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
billing_app = typer.Typer(no_args_is_help=True, help="Credit ledger.")
run_app = typer.Typer(no_args_is_help=True, help="Automation runs: start, pause, resume, cancel, status.")
app.add_typer(db_app, name="db")
app.add_typer(billing_app, name="billing")
app.add_typer(run_app, name="run")
config_app = typer.Typer(no_args_is_help=True, help="Per-site automation configuration and schedule.")
app.add_typer(config_app, name="config")
scheduler_app = typer.Typer(no_args_is_help=True, help="Scheduled runs (every worker also runs the scheduler).")
app.add_typer(scheduler_app, name="scheduler")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
AsOpt = Annotated[str, typer.Option("--as", help="Whose action this is, for the run's activity log (an email).",
                                     callback=lambda v: v.strip().lower() or COMMAND_LINE)]


def _out(data: dict, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, default=str) if as_json else text)


def _fail(exc: DomainError, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"error": exc.code, "detail": exc.message}), err=True)
    else:
        typer.secho(f"Error: {exc.message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


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
        _fail(exc, as_json)
    _out({"id": uid, "email": email.strip().lower()}, as_json, f"Created user {email} (id {uid}).")


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
        _fail(exc, as_json)
    _out({"id": sid}, as_json, f"Created site '{name}' (id {sid}).")


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
        _fail(exc, as_json)
    data = result.as_dict()
    lines = [f"Imported {result.imported}, duplicates skipped {result.duplicates}, invalid {result.invalid}."]
    lines += [f"  line {e['line']}: {e['reason']}" for e in data["errors"][:50]]
    _out(data, as_json, "\n".join(lines))


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
        _fail(exc, as_json)
    _out(data, as_json, f"Granted {amount} credits to {account}; balance is now {data['balance']}.")


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
        _fail(exc, as_json)
    _out({"id": tid, "token": plain}, as_json, plain)


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
        _fail(exc, as_json)
    if print_password:
        throttle.clear(address)  # a fresh password starts with a clean failed-login count
        _out({"email": address, "password": secret}, as_json,
             f"New password for {address} (shown once; every session of the user ended):\n  {secret}")
        return
    emailed = passwords.email_forced_reset(email=address, token=secret)
    link = passwords.reset_url(secret)
    _out({"email": address, "link": link, "emailed": emailed}, as_json,
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
        _out({"created": False, "skipped": True, "logins": []}, as_json, "Demo data is off (IGNY8_DEMO=0).")
        return
    with write_session() as s:
        result = create_demo(session=s, force=mode == "always")
    data = {"created": result.created, "skipped": result.skipped, "account": result.account,
            "site_id": result.site_id, "recover_superuser": RECOVER_SUPERUSER,
            "logins": [{"role": r, "email": e, "password": p} for r, e, p in result.logins]}
    _out(data, as_json, result.text())


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
    _out(data, as_json, "\n".join(text))
    if not report.ok:
        raise typer.Exit(2)


# --- automation runs ----------------------------------------------------------------------------

RunIdArg = Annotated[str, typer.Argument(help="Run id, e.g. run_20250101_120000_manual_ab12cd.")]


def _state_text(state: dict) -> str:
    extra = f", {state['requested_action']} requested" if state.get("requested_action") else ""
    extra += f", reason {state['pause_reason']}" if state.get("pause_reason") else ""
    return (f"{state['run_id']}: {state['status']}{extra} — stage {state['current_stage']} ({state['stage_name']}) "
            f"{state['processed_items']}/{state['total_items']} ({state['percentage']}%), "
            f"{state['credits_used']} credits, {state['duration_seconds']} s")


@run_app.command("start")
def run_start(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False,
              by: AsOpt = COMMAND_LINE) -> None:
    """Start a manual run for a site (queued for the workers)."""
    from igny8_app.services.automation import control as automation

    try:
        run = automation.start_run(site_id=site, trigger=Trigger.MANUAL, actor=by)
    except DomainError as exc:
        _fail(exc, as_json)
    _out({"run_id": run.run_id}, as_json, f"Started {run.run_id} for site {site}.")


def _run_action(action: str, run_id: str, as_json: bool, by: str = COMMAND_LINE) -> None:
    from igny8_app.services.automation import control as automation

    service = {"pause": automation.pause_run, "resume": automation.resume_run, "cancel": automation.cancel_run,
               "status": automation.get_processing_state}[action]
    try:
        state = service(run_id=run_id, **({} if action == "status" else {"actor": by}))
    except DomainError as exc:
        _fail(exc, as_json)
    _out(state, as_json, _state_text(state))


@run_app.command("pause")
def run_pause(run_id: RunIdArg, as_json: JsonOpt = False, by: AsOpt = COMMAND_LINE) -> None:
    """Pause a run after its current item (at once when no worker holds it)."""
    _run_action("pause", run_id, as_json, by)


@run_app.command("resume")
def run_resume(run_id: RunIdArg, as_json: JsonOpt = False, by: AsOpt = COMMAND_LINE) -> None:
    """Resume a paused run with its next unprocessed item."""
    _run_action("resume", run_id, as_json, by)


@run_app.command("cancel")
def run_cancel(run_id: RunIdArg, as_json: JsonOpt = False, by: AsOpt = COMMAND_LINE) -> None:
    """Cancel a run after its current item; final."""
    _run_action("cancel", run_id, as_json, by)


@run_app.command("status")
def run_status(run_id: RunIdArg, as_json: JsonOpt = False) -> None:
    """The processing state of a run, whatever its status."""
    _run_action("status", run_id, as_json)


@run_app.command("estimate")
def run_estimate(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False) -> None:
    """The credits a run started now would use, per stage and in total."""
    from igny8_app.db import read_session
    from igny8_app.services.automation import control, estimate

    try:
        with read_session() as s:
            data = estimate.summary(control.estimate(session=s, site_id=site))
    except DomainError as exc:
        _fail(exc, as_json)
    _out(data, as_json, estimate.summary_text(data))


@run_app.command("retry-failed")
def run_retry_failed(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False) -> None:
    """Put a site's failed items back in their queues."""
    from igny8_app.db import write_session
    from igny8_app.services.automation import control as automation

    try:
        with write_session() as s:
            counts = automation.retry_failed_items(site_id=site, session=s)
    except DomainError as exc:
        _fail(exc, as_json)
    total = sum(counts.values())
    _out({"site_id": site, "retried": counts, "total": total}, as_json,
         f"Requeued {total} failed item(s): " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".")


# --- automation configuration ----------------------------------------------------------------

def _config_text(cfg: dict) -> str:
    lines = [f"Site {cfg['site_id']} automation configuration ({cfg['timezone']}):"]
    lines += [f"  {k:<22} {'' if v is None else v}" for k, v in cfg.items()
              if k not in ("site_id", "timezone", "next_run_at", "last_run_at", "updated_at")]
    return "\n".join(lines)


@config_app.command("show")
def config_show(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False) -> None:
    """Show a site's configuration, its schedule and the next scheduled run."""
    from igny8_app.services.automation import config as automation_config

    try:
        cfg = automation_config.get_config(site_id=site)
    except DomainError as exc:
        _fail(exc, as_json)
    _out(cfg, as_json, _config_text(cfg))


@config_app.command("set")
def config_set(
    site: Annotated[int, typer.Option(help="Site id.")],
    settings: Annotated[list[str], typer.Argument(help="key=value pairs, e.g. enabled=true frequency=weekly "
                                                       "weekday=0 scheduled_time=03:30 max_credits_per_run= "
                                                       "review_after_stages=1,2 (empty value = no cap).")],
    as_json: JsonOpt = False,
) -> None:
    """Change settings; all are validated first and nothing is saved when one is invalid."""
    from igny8_app.db import write_session
    from igny8_app.services.automation import config as automation_config

    changes = {}
    for pair in settings:
        key, sep, value = pair.partition("=")
        if not sep:
            _fail(DomainError(f"'{pair}' is not key=value."), as_json)
        changes[key.strip()] = value
    try:
        with write_session() as s:
            cfg = automation_config.update_config(site_id=site, changes=changes, session=s)
    except DomainError as exc:
        _fail(exc, as_json)
    _out(cfg, as_json, _config_text(cfg) + f"\nSaved. Next scheduled run: {cfg['next_run_local'] or 'none (disabled)'}.")


@scheduler_app.command("tick")
def scheduler_tick(
    now: Annotated[Optional[str], typer.Option(help="Pretend the time is this ISO instant (tests, replays).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start (or record as skipped) every scheduled run that is due, once."""
    from datetime import datetime

    from igny8_app.services.automation import scheduler

    at = None
    if now:
        try:
            at = datetime.fromisoformat(now)
        except ValueError:
            _fail(DomainError(f"'{now}' is not an ISO date-time."), as_json)
        if at.tzinfo is None:
            _fail(DomainError("--now needs a timezone offset, e.g. 2026-03-29T01:30:00+00:00."), as_json)
    result = scheduler.run_due(now=at).as_dict()
    _out(result, as_json, f"Started {len(result['started'])}, skipped {len(result['skipped'])}, "
                          f"already recorded {result['existing']}.")


@app.command("retention")
def retention_cmd(
    action: Annotated[str, typer.Argument(help="'prune'.")],
    days: Annotated[Optional[int], typer.Option(help="Keep this many days (default IGNY8_RETENTION_DAYS, 90).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Prune run logs and traces and orphaned media older than the retention period."""
    from igny8_app.services.system import retention

    if action != "prune":
        _fail(DomainError("The only retention action is 'prune'."), as_json)
    if days is not None and days < 1:
        _fail(DomainError("--days must be at least 1."), as_json)
    r = retention.prune(days=days)
    _out({**r.summary(), "trace_dir_names": r.trace_dirs, "media_file_names": r.media_files}, as_json,
         f"Pruned {r.run_events} run log event(s), {len(r.trace_dirs)} trace folder(s), "
         f"{len(r.media_files)} orphaned media file(s) older than {r.cutoff:%Y-%m-%d %H:%M} UTC "
         f"({r.bytes_freed:,} bytes freed).")


@scheduler_app.command("run")
def scheduler_run() -> None:
    """Run only the periodic tasks (scheduler, watchdog, retention) in the foreground."""
    import logging
    import signal

    from igny8_app.services.automation.scheduler import PeriodicRunner
    from igny8_app.services.system.periodic import periodic_tasks

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = PeriodicRunner(tasks=periodic_tasks())
    signal.signal(signal.SIGTERM, lambda *_: runner.stopped.set())
    runner.start()
    try:
        while runner.is_alive():
            runner.join(1)
    except KeyboardInterrupt:
        runner.stopped.set()


ai_app = typer.Typer(no_args_is_help=True, help="AI provider: check the connection.")
app.add_typer(ai_app, name="ai")


@ai_app.command("check")
def ai_check(
    account: Annotated[Optional[int], typer.Option(help="Use this account's AI settings (default: the environment's).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One tiny request to the configured provider; exit status 1 if it fails."""
    from igny8_app.services.automation import ai_settings

    result = ai_settings.check_connection(account_id=account)
    _out(result, as_json, ("OK: " if result["ok"] else "FAILED: ") + result["message"])
    if not result["ok"]:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
