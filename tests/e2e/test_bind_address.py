"""Where the server listens, and whose address the login page's websocket handler counts.

By default the app binds 127.0.0.1 only: the port must not answer on the machine's other
addresses. IGNY8_HOST=0.0.0.0 opens it. Behind a trusted proxy (IGNY8_TRUSTED_PROXIES) the login
handler counts the address the proxy saw (X-Forwarded-For); anyone else's X-Forwarded-For is ignored.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
import redis as redis_lib

from igny8_app.pages.login.state import LoginState
from tests.live_app import REPO, stop_live_app_procs
from tests.ws_client import ReflexClient

SUBMIT = f"{LoginState.get_full_name()}.submit_login"


def _non_loopback_ipv4() -> str | None:
    """An IPv4 address of this machine that is not loopback (from `ip -4 addr`, else the hostname)."""
    candidates: list[str] = []
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, timeout=10).stdout
        candidates += [line.split()[3].split("/")[0] for line in out.splitlines() if " inet " in line]
    except (OSError, IndexError, subprocess.SubprocessError):
        pass
    try:
        candidates.append(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    for addr in candidates:
        if not ipaddress.ip_address(addr).is_loopback:
            return addr
    return None


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def outside_address() -> str:
    addr = _non_loopback_ipv4()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address to probe the bind address from")
    return addr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def open_app(live_app, outside_address):
    """A second server on the live app's build, data and Redis, bound to every interface and
    trusting 127.0.0.1 as its reverse proxy."""
    port = _free_port()
    env = {**live_app.env, "IGNY8_PORT": str(port), "IGNY8_HOST": "0.0.0.0", "IGNY8_TRUSTED_PROXIES": "127.0.0.1"}
    log = open(live_app.data_dir / "web-open.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "scripts/serve.py", "--port", str(port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        stop_live_app_procs([proc])
        pytest.fail("the second server did not start:\n" + (live_app.data_dir / "web-open.log").read_text()[-3000:])
    yield port
    stop_live_app_procs([proc])


def test_by_default_the_port_answers_on_loopback_only(live_app, outside_address) -> None:
    assert _answers("127.0.0.1", live_app.port)  # control: it is up
    assert not _answers(outside_address, live_app.port), f"port {live_app.port} answers on {outside_address}"


def test_igny8_host_opens_it_to_the_network(open_app, outside_address) -> None:
    assert _answers(outside_address, open_app)
    assert httpx.get(f"http://{outside_address}:{open_app}/ping", timeout=5).status_code == 200


def _failed_login(base_url: str, xff: str) -> str:
    email = f"nobody-{uuid.uuid4().hex[:8]}@xff.example"
    client = ReflexClient(base_url, path="/login", headers={"X-Forwarded-For": xff})
    try:
        client.send(SUBMIT, {"form": {"email": email, "password": "wrong-password"}})
    finally:
        client.close()
    return email


def _counted(r: redis_lib.Redis, kind: str, who: str) -> int:
    return r.zcard(f"igny8:login-fail:{kind}:{who}")


def test_the_login_handler_believes_xff_only_from_a_trusted_proxy(live_app, open_app) -> None:
    r = redis_lib.Redis.from_url(live_app.env["REDIS_URL"])
    # through the trusted proxy (127.0.0.1 on the open server): the proxy's client, not a spoofed entry
    email = _failed_login(f"http://127.0.0.1:{open_app}", "6.6.6.6, 198.51.100.77")
    assert _counted(r, "email", email) == 1  # control: the attempt was made and counted
    assert _counted(r, "ip", "198.51.100.77") == 1
    assert _counted(r, "ip", "6.6.6.6") == 0
    # the default server trusts nobody: the same header from the same peer changes nothing
    email = _failed_login(live_app.url, "198.51.100.78")
    assert _counted(r, "email", email) == 1
    assert _counted(r, "ip", "198.51.100.78") == 0
    assert _counted(r, "ip", "127.0.0.1") >= 1
