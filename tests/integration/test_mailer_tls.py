"""SMTP transport security against a real TLS-capable SMTP server (aiosmtpd, a throwaway CA made
in the test): with credentials, STARTTLS is required and the password never crosses in clear; the
server's certificate is verified (against IGNY8_SMTP_CA_FILE here, the system store by default);
``smtps://`` works; ``?starttls=0`` is the explicit (unsafe) opt-out for a local relay."""

from __future__ import annotations

import smtplib
import ssl

import pytest

from igny8_app.services.notifications.mail import SmtpSecurityError, deliver
from igny8_app.settings import reset_settings
from tests.smtp_sink import SmtpSink
from tests.tls_certs import make_pki

CREDS = ("igny8", "s3cret-pass")


@pytest.fixture
def pki(tmp_path, monkeypatch):
    monkeypatch.setenv("IGNY8_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.delenv("IGNY8_SMTP_CA_FILE", raising=False)
    reset_settings()
    yield make_pki(tmp_path / "pki")
    reset_settings()


def _use(monkeypatch, url: str, *, ca_file=None) -> None:  # noqa: ANN001
    monkeypatch.setenv("SMTP_URL", url)
    if ca_file is not None:
        monkeypatch.setenv("IGNY8_SMTP_CA_FILE", str(ca_file))
    reset_settings()


def _send() -> None:
    deliver(to="someone@example.test", subject="hello", body="the body")


def test_credentials_are_refused_when_the_server_offers_no_starttls(pki, monkeypatch) -> None:
    with SmtpSink(credentials=CREDS) as sink:  # offers AUTH in clear, no STARTTLS
        _use(monkeypatch, sink.url)
        with pytest.raises(SmtpSecurityError, match="STARTTLS"):
            _send()
        assert sink.auth_seen == [] and sink.attempts == 0 and sink.messages == []


def test_login_happens_only_after_starttls_and_the_certificate_is_verified(pki, monkeypatch) -> None:
    with SmtpSink(starttls=pki.server_context(), credentials=CREDS) as sink:
        _use(monkeypatch, sink.url, ca_file=pki.ca_file)
        _send()
        assert len(sink.messages) == 1 and sink.encrypted == [True] and sink.logins == [CREDS[0]]
        assert sink.auth_seen and all(a.encrypted for a in sink.auth_seen)


def test_an_untrusted_certificate_is_refused_by_default(pki, monkeypatch) -> None:
    with SmtpSink(starttls=pki.server_context(), credentials=CREDS) as sink:
        _use(monkeypatch, sink.url)  # no IGNY8_SMTP_CA_FILE: the system store does not know the test CA
        with pytest.raises(ssl.SSLCertVerificationError):
            _send()
        assert sink.auth_seen == [] and sink.messages == []


def test_smtps_url_uses_implicit_tls(pki, monkeypatch) -> None:
    with SmtpSink(implicit_tls=pki.server_context(), credentials=CREDS) as sink:
        assert sink.url.startswith("smtps://")
        _use(monkeypatch, sink.url, ca_file=pki.ca_file)
        _send()
        assert sink.encrypted == [True] and sink.logins == [CREDS[0]]
        assert sink.auth_seen and all(a.encrypted for a in sink.auth_seen)


def test_starttls_opt_out_sends_in_clear_as_documented(pki, monkeypatch) -> None:
    with SmtpSink(credentials=CREDS) as sink:
        _use(monkeypatch, sink.url + "?starttls=0")  # the README's unsafe opt-out for a local relay
        _send()
        assert sink.encrypted == [False] and sink.logins == [CREDS[0]]
        assert sink.auth_seen and not any(a.encrypted for a in sink.auth_seen)


def test_without_credentials_a_plain_relay_still_works(pki, monkeypatch) -> None:
    """Nothing secret to protect: STARTTLS is used when offered and not required (the body is not
    a credential; a relay that needs protection is configured with credentials or smtps)."""
    with SmtpSink() as plain:
        _use(monkeypatch, plain.url)
        _send()
        assert plain.encrypted == [False]
    with SmtpSink(starttls=pki.server_context()) as tls:
        _use(monkeypatch, tls.url, ca_file=pki.ca_file)
        _send()
        assert tls.encrypted == [True]


def test_a_bad_starttls_value_is_a_clear_error(pki, monkeypatch) -> None:
    with SmtpSink(credentials=CREDS) as sink:
        _use(monkeypatch, sink.url + "?starttls=no")
        with pytest.raises(ValueError, match="starttls"):
            _send()
        assert sink.auth_seen == []


def test_a_wrong_password_is_an_smtp_error_not_a_silent_success(pki, monkeypatch) -> None:
    with SmtpSink(starttls=pki.server_context(), credentials=CREDS) as sink:
        _use(monkeypatch, sink.url.replace(CREDS[1], "wrong"), ca_file=pki.ca_file)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            _send()
        assert sink.messages == [] and sink.auth_seen and all(a.encrypted for a in sink.auth_seen)
