"""Start the real app (prod-mode build, one port) with its own data folder, for e2e and
websocket tests. The frontend bakes its port in at build time, so tests use a fixed port with
its own build folder (cached across runs by scripts/build_frontend.sh)."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
TEST_PORT = int(os.environ.get("IGNY8_TEST_PORT", "3117"))


@dataclass
class LiveApp:
    url: str
    port: int
    env: dict[str, str]
    data_dir: Path
    proc: subprocess.Popen
    workers: list[subprocess.Popen]
    #: role -> (email, password) of the demo users `igny8 demo --json` created for this app. Tests
    #: log in with these, never with constants: the demo superuser's password is random.
    logins: dict[str, tuple[str, str]]

    def creds(self, role: str) -> tuple[str, str]:
        return self.logins[role]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "igny8_app.cli", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def login_cookie(self, email: str, password: str) -> str:
        r = httpx.post(f"{self.url}/auth/login", data={"email": email, "password": password},
                       follow_redirects=False, timeout=10)
        assert r.status_code == 303, r.text
        token = r.cookies.get("igny8_session")
        assert token, f"login failed for {email}: {r.headers.get('location')}"
        return token


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def start_live_app(*, data_dir: Path, redis_url: str, workers: int = 0, extra_env: dict | None = None,
                   worker_nice: int = 0) -> LiveApp:
    if not _port_free(TEST_PORT):
        raise RuntimeError(f"port {TEST_PORT} is busy; set IGNY8_TEST_PORT to a free port")
    env = dict(os.environ)
    env.update({
        "IGNY8_PORT": str(TEST_PORT),
        "IGNY8_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'igny8.db'}",
        "REDIS_URL": redis_url,
        "REFLEX_WEB_WORKDIR": str(REPO / f".web-test-{TEST_PORT}"),
        "IGNY8_LOG_DIR": str(data_dir / "logs"),
        "SECRET_KEY": "e2e-secret",
        **(extra_env or {}),
    })
    for name in ("IGNY8_PUBLIC_URL", "IGNY8_HOST", "IGNY8_TRUSTED_PROXIES", "IGNY8_DEMO"):  # the defaults,
        if name not in (extra_env or {}):                                                  # unless asked for
            env.pop(name, None)
    # the same tool environment the scripts use (bun on PATH, REFLEX_USE_SYSTEM_BUN, no telemetry)
    probe = subprocess.run(["bash", "-c", "source scripts/env.sh && env -0"], cwd=REPO, env=env,
                           capture_output=True, text=True, check=True)
    env = dict(item.split("=", 1) for item in probe.stdout.split("\0") if "=" in item)
    build = subprocess.run(["bash", "scripts/build_frontend.sh"], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=900)
    if build.returncode != 0:
        raise RuntimeError(f"frontend build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}")
    for args in (["db", "upgrade"], ["demo", "--json"]):
        r = subprocess.run([sys.executable, "-m", "igny8_app.cli", *args], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"igny8 {' '.join(args)} failed: {r.stderr}")
    demo = json.loads(r.stdout)
    if not demo["created"]:
        raise RuntimeError(f"{data_dir} already held demo data: the live app needs a fresh data folder")
    logins = {x["role"]: (x["email"], x["password"]) for x in demo["logins"]}
    proc = _spawn_web(env, data_dir)
    worker_procs = [
        subprocess.Popen([*(["nice", "-n", str(worker_nice)] if worker_nice else []),
                          sys.executable, "-m", "igny8_app.cli", "worker"], cwd=REPO, env=env,
                         stdout=open(data_dir / f"worker-{i}.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
                         start_new_session=True)
        for i in range(workers)
    ]
    # stop them even when pytest itself is interrupted before fixture teardown
    atexit.register(stop_live_app_procs, [proc, *worker_procs])
    url = f"http://127.0.0.1:{TEST_PORT}"
    try:
        _wait_ready(url, proc, data_dir)
    except RuntimeError:
        stop_live_app_procs([proc, *worker_procs])
        raise
    return LiveApp(url=url, port=TEST_PORT, env=env, data_dir=data_dir, proc=proc, workers=worker_procs,
                   logins=logins)


def _spawn_web(env: dict[str, str], data_dir: Path) -> subprocess.Popen:
    log = open(data_dir / "web.log", "a")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "scripts/serve.py", "--port", env["IGNY8_PORT"]], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(url: str, proc: subprocess.Popen, data_dir: Path, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("web app exited:\n" + (data_dir / "web.log").read_text()[-3000:])
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("web app did not start:\n" + (data_dir / "web.log").read_text()[-3000:])


def kill_web(app: LiveApp) -> None:
    """SIGKILL the web process (serve.py and its granian workers: its process group), as a crash
    would: no shutdown handlers, sockets dropped mid-stream."""
    os.killpg(app.proc.pid, signal.SIGKILL)
    app.proc.wait(10)


def restart_web(app: LiveApp, timeout: float = 90) -> float:
    """Start the web process again on the same port, data folder and environment (the workers
    keep running); returns when it answers /ping, with that time."""
    deadline = time.time() + 30
    while not _port_free(app.port) and time.time() < deadline:  # the killed workers release it
        time.sleep(0.1)
    app.proc = _spawn_web(app.env, app.data_dir)
    atexit.register(stop_live_app_procs, [app.proc])
    _wait_ready(app.url, app.proc, app.data_dir, timeout)
    return time.time()


def stop_live_app_procs(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is not None:
            continue
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def stop_live_app(app: LiveApp) -> None:
    stop_live_app_procs([app.proc, *app.workers])
