"""Whose address does the login throttle count? The peer's, unless the peer is a trusted proxy
(IGNY8_TRUSTED_PROXIES): then the right-most address in X-Forwarded-For that is not a trusted
proxy. Checked on the rule itself and through the real POST /auth/login route."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app.api import auth_routes
from igny8_app.api.common import client_ip_from
from igny8_app.services.accounts import signin
from igny8_app.settings import get_settings, parse_trusted_proxies, reset_settings

PROXIES = parse_trusted_proxies("10.0.0.5, 172.16.0.0/12,2001:db8::/32")


@pytest.mark.parametrize(("peer", "xff", "expected"), [
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # untrusted peer: its XFF is ignored
    ("203.0.113.9", None, "203.0.113.9"),
    ("10.0.0.5", "198.51.100.1", "198.51.100.1"),  # trusted proxy: the client it saw
    ("10.0.0.5", "6.6.6.6, 1.2.3.4, 198.51.100.1", "198.51.100.1"),  # spoofed left-most entries ignored
    ("10.0.0.5", "6.6.6.6, 198.51.100.1, 172.20.1.1", "198.51.100.1"),  # a chain of trusted proxies
    ("10.0.0.5", " 198.51.100.1 , 172.16.0.9,10.0.0.5", "198.51.100.1"),
    ("10.0.0.5", "", "10.0.0.5"),  # a trusted proxy that sent no header: itself
    ("10.0.0.5", "172.16.0.2, 172.16.0.3", "172.16.0.2"),  # only proxies: the farthest one
    ("10.0.0.5", "not-an-ip, 172.16.0.3", "172.16.0.3"),  # garbage stops the walk at the last known hop
    ("10.0.0.5", "198.51.100.1:4711", "198.51.100.1"),  # a port some proxies add
    ("10.0.0.5", "[2001:db9::1]:443", "2001:db9::1"),
    ("2001:db8::7", "2001:db9::1", "2001:db9::1"),
])
def test_client_address_rules(peer, xff, expected) -> None:
    assert client_ip_from(peer, {"x-forwarded-for": xff} if xff is not None else {}, PROXIES) == expected


def test_no_trusted_proxies_means_xff_is_never_read() -> None:
    assert client_ip_from("127.0.0.1", {"x-forwarded-for": "198.51.100.1"}, ()) == "127.0.0.1"


def test_a_bad_trusted_proxies_setting_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("IGNY8_TRUSTED_PROXIES", "10.0.0.1, proxy.example")
    reset_settings()
    with pytest.raises(RuntimeError, match="IGNY8_TRUSTED_PROXIES.*proxy.example"):
        get_settings()
    reset_settings()


@pytest.fixture
def seen_ips(monkeypatch) -> list[str]:
    seen: list[str] = []

    def fake_sign_in(*, email: str, password: str, ip: str) -> str:
        seen.append(ip)
        return "token"

    monkeypatch.setattr(signin, "sign_in", fake_sign_in)
    return seen


def _post(peer: str, xff: str) -> None:
    client = TestClient(Starlette(routes=auth_routes.routes), client=(peer, 41000))
    r = client.post("/auth/login", data={"email": "a@b.example", "password": "pw"},
                    headers={"X-Forwarded-For": xff}, follow_redirects=False)
    assert r.status_code == 303


def test_the_login_route_reads_xff_only_from_a_trusted_proxy(monkeypatch, seen_ips) -> None:
    monkeypatch.delenv("IGNY8_TRUSTED_PROXIES", raising=False)
    reset_settings()
    _post("127.0.0.1", "198.51.100.1")  # nobody trusted: a client cannot pick its own address
    monkeypatch.setenv("IGNY8_TRUSTED_PROXIES", "127.0.0.1")
    reset_settings()
    _post("127.0.0.1", "6.6.6.6, 198.51.100.2")  # through the proxy: the address it saw
    _post("192.0.2.44", "198.51.100.3")  # not through the proxy: its header is ignored
    reset_settings()
    assert seen_ips == ["127.0.0.1", "198.51.100.2", "192.0.2.44"]
