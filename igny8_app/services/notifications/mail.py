"""Outgoing email through SMTP, always from an RQ job (``jobs.send_email``), so a slow or failing
SMTP server never blocks or fails the request or run that caused the message.

Configuration (read at each call, documented in README "Email"):
* ``SMTP_URL``: ``smtp://[user:password@]host[:port]`` or ``smtps://…`` (implicit TLS, port 465).
  On ``smtp://`` STARTTLS is used when the server offers it; with credentials it is REQUIRED: a
  server that does not offer it is refused before any AUTH, so a downgrade (a stripped STARTTLS
  line) never exposes the password. ``?starttls=0`` is the explicit, unsafe opt-out for a local
  relay: no TLS, and credentials (if any) go in clear. Unset: no email is sent (the UI shows
  invitation and reset links to copy instead).
* ``IGNY8_SMTP_CA_FILE`` (settings.py): CAs to trust instead of the system store. The server's
  certificate and host name are always verified.
* ``SMTP_FROM``: the sender, default ``IGNY8 <no-reply@localhost>``.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlparse

from redis.exceptions import RedisError

from igny8_app.settings import get_settings

log = logging.getLogger(__name__)
DEFAULT_FROM = "IGNY8 <no-reply@localhost>"
SMTP_TIMEOUT_S = 20


class SmtpSecurityError(smtplib.SMTPException):
    """The connection would not protect the credentials (no STARTTLS offered): nothing was sent."""


@dataclass(frozen=True)
class MailSettings:
    url: str
    sender: str

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def mail_settings() -> MailSettings:
    return MailSettings(url=(os.environ.get("SMTP_URL") or "").strip(),
                        sender=(os.environ.get("SMTP_FROM") or "").strip() or DEFAULT_FROM)


def build_message(*, to: str, subject: str, body: str, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="igny8.local")
    msg.set_content(body)
    return msg


def _tls_context() -> ssl.SSLContext:
    """Verifying context (certificate and host name): the system store, or IGNY8_SMTP_CA_FILE."""
    ca_file = get_settings().smtp_ca_file
    if ca_file and not os.path.isfile(ca_file):
        raise RuntimeError(f"IGNY8_SMTP_CA_FILE {ca_file!r} is not a readable file")
    return ssl.create_default_context(cafile=ca_file or None)


def _starttls_wanted(query: str) -> bool:
    value = parse_qs(query).get("starttls", ["1"])[0].strip().lower()
    if value not in ("0", "1"):
        raise ValueError(f"SMTP_URL: starttls must be 1 (default) or 0 (unsafe: no TLS), got {value!r}")
    return value == "1"


def deliver(*, to: str, subject: str, body: str) -> None:
    """Send now (the RQ job calls this). Raises on SMTP errors so RQ records and retries the job."""
    cfg = mail_settings()
    if not cfg.enabled:
        log.info("SMTP_URL is not set: email to %s not sent", to)
        return
    u = urlparse(cfg.url)
    if u.scheme not in ("smtp", "smtps"):
        raise RuntimeError(f"SMTP_URL must start with smtp:// or smtps://, got {u.scheme!r}")
    host = u.hostname or "localhost"
    starttls = u.scheme == "smtp" and _starttls_wanted(u.query)
    msg = build_message(to=to, subject=subject, body=body, sender=cfg.sender)
    if u.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, u.port or 465, timeout=SMTP_TIMEOUT_S, context=_tls_context())
    else:
        client = smtplib.SMTP(host, u.port or 25, timeout=SMTP_TIMEOUT_S)
    with client:
        if starttls:
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=_tls_context())  # verifies the certificate; raises if it fails
                client.ehlo()
            elif u.username:
                raise SmtpSecurityError(f"SMTP server {host} does not offer STARTTLS: refusing to send the "
                                        "credentials in clear (use smtps://, or ?starttls=0 for a trusted local relay)")
        if u.username:
            client.login(unquote(u.username), unquote(u.password or ""))
        client.send_message(msg)


def send(*, to: str, subject: str, body: str) -> bool:
    """Queue an email. Returns False (and never raises) when email is off or Redis is unreachable."""
    if not mail_settings().enabled:
        return False
    from igny8_app.queue import enqueue_email

    try:
        enqueue_email(to=to, subject=subject, body=body)
    except RedisError:
        log.warning("could not queue an email to %s: Redis error", to)
        return False
    return True


# --- messages -----------------------------------------------------------------------------------------

def send_invitation(*, email: str, account: str, role: str, link: str) -> bool:
    return send(to=email, subject=f"You are invited to join {account} on IGNY8",
                body=f"Hello,\n\nYou have been invited to join the account \"{account}\" on IGNY8 Automation "
                     f"as {role}.\n\nAccept the invitation here (the link works once and expires in 7 days):\n"
                     f"{link}\n\nIf you did not expect this, ignore this email.\n")


def send_password_reset(*, email: str, link: str, forced: bool, ttl_minutes: int) -> bool:
    why = ("An administrator of your IGNY8 account asked you to choose a new password."
           if forced else "Someone (hopefully you) asked to reset the password of your IGNY8 login.")
    return send(to=email, subject="Reset your IGNY8 password",
                body=f"Hello,\n\n{why}\n\nChoose a new password here (the link works once and expires in "
                     f"{ttl_minutes} minutes):\n{link}\n\nIf you did not ask for this, ignore this email: your "
                     "password stays as it is.\n")
