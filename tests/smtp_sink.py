"""A real SMTP server for tests (aiosmtpd on a free local port) that keeps what it receives.

Options: ``fail_times`` rejects the first N messages with a 451 (then accepts; ``reject`` rejects
every one), ``starttls`` offers STARTTLS with the given server context, ``implicit_tls`` speaks
TLS from the first byte (smtps), ``credentials`` offers AUTH - even before TLS, like a careless
server would, so a client that sends its password in clear is caught: every AUTH command the
server sees is recorded in ``auth_seen`` with whether the connection was encrypted by then."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword

from tests.conftest import free_port


@dataclass(frozen=True)
class AuthSeen:
    mechanism: str
    encrypted: bool


def _encrypted(server, session) -> bool:  # noqa: ANN001
    """Under TLS: after STARTTLS (``session.ssl``) or from the first byte (an SSL transport)."""
    transport = server.transport
    return session.ssl is not None or (transport is not None and transport.get_extra_info("ssl_object") is not None)


class _Handler:
    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_AUTH(self, server, session, envelope, args):  # noqa: ANN001, N802 - aiosmtpd's hook name
        with self.sink.lock:
            self.sink.auth_seen.append(AuthSeen(args[0].upper() if args else "", _encrypted(server, session)))
        return MISSING  # go on with the built-in mechanisms (and the authenticator below)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd's hook name
        with self.sink.lock:
            self.sink.attempts += 1
            failing = self.sink.reject or self.sink.attempts <= self.sink.fail_times
        if failing:
            return "451 Requested action aborted: local error in processing"
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(msg)
            self.sink.encrypted.append(_encrypted(server, session))
            self.sink.logins.append(session.login_data.decode() if session.login_data else None)
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, *, fail_times: int = 0, starttls: ssl.SSLContext | None = None,
                 implicit_tls: ssl.SSLContext | None = None, credentials: tuple[str, str] | None = None,
                 hostname: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.hostname = hostname
        self.messages: list[EmailMessage] = []
        self.encrypted: list[bool] = []  # per accepted message: was its session under TLS
        self.logins: list[str | None] = []  # per accepted message: who authenticated
        self.auth_seen: list[AuthSeen] = []
        self.attempts = 0  # DATA commands, accepted or not
        self.lock = threading.Lock()
        self.reject = False
        self.fail_times = fail_times
        self.credentials = credentials
        self.implicit = implicit_tls is not None
        kwargs: dict = {}
        if starttls is not None:
            kwargs["tls_context"] = starttls
        if implicit_tls is not None:
            kwargs["ssl_context"] = implicit_tls
        if credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        self._controller = Controller(_Handler(self), hostname=hostname, port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit else "smtp"
        creds = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        return f"{scheme}://{creds}{self.hostname}:{self.port}"

    def __enter__(self) -> "SmtpSink":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        """Poll until ``count`` messages to ``address`` arrived (they come from an RQ worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.to(address)
            if len(got) >= count:
                return got
            time.sleep(0.1)
        raise AssertionError(f"expected {count} email(s) to {address}, got {len(self.to(address))}")
