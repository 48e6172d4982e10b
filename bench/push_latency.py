"""Benchmark: latency from the worker's commit to the DOM change in headless Chromium.

    python bench/push_latency.py [--updates 200] [--delay-ms 60] [--contexts 1]

Starts the real app (prod build, one port) with 2 RQ workers and the offline provider, opens the
Automation page of the demo site as the owner, starts a run, and records:
* in this process, every progress event the worker publishes right after its commit
  (``published_at``), from Redis;
* in the page, a MutationObserver's timestamp for every change of the processed counter.
Each DOM change is matched to the event with the same run, stage and processed count; the
difference is the push latency (same machine, same clock). Prints p50/p95/max.

``--contexts 50`` opens 50 browser contexts (separate sessions, like 50 operators) on the same
site's Automation page; latencies are pooled over all of them, and the backend's CPU (the web
server process: user+system seconds over wall seconds during the run) is reported too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=200)
    ap.add_argument("--delay-ms", type=int, default=60)
    ap.add_argument("--contexts", type=int, default=1, help="browser contexts watching the same site")
    ap.add_argument("--worker-nice", type=int, default=0,
                    help="run the RQ workers at this nice level (they share the 2 cores with the browser here)")
    args = ap.parse_args()

    import psutil
    import redis
    from playwright.sync_api import sync_playwright

    from igny8_app.services.demo import DEMO_OWNER
    from tests.e2e.conftest import CHROMIUM_ARGS
    from tests.live_app import start_live_app, stop_live_app

    import subprocess

    port = 6400 + int(time.time()) % 500
    rproc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    redis_url = f"redis://127.0.0.1:{port}/0"
    app = start_live_app(data_dir=Path(tempfile.mkdtemp(prefix="igny8-push-")), redis_url=redis_url, workers=2,
                         extra_env={"OFFLINE_AI_DELAY_MS": str(args.delay_ms)}, worker_nice=args.worker_nice)
    events: dict[tuple, float] = {}
    stop = threading.Event()

    def listen() -> None:
        ps = redis.Redis.from_url(redis_url).pubsub()
        ps.subscribe("igny8:progress")
        while not stop.is_set():
            msg = ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if msg and (st := json.loads(msg["data"]).get("state")):
                events.setdefault((st["current_stage"], st["processed_items"], st["total_items"]),
                                  json.loads(msg["data"])["published_at"])

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            first = browser.new_context(viewport={"width": 1400, "height": 900})
            page = first.new_page()
            page.goto(f"{app.url}/login")
            page.fill("#email", DEMO_OWNER[0])
            page.fill("#password", DEMO_OWNER[1])
            page.click("#login-submit")
            page.wait_for_url("**/keywords**")
            state = first.storage_state()
            pages = [page] + [browser.new_context(viewport={"width": 1400, "height": 900}, storage_state=state)
                              .new_page() for _ in range(args.contexts - 1)]
            observer = """() => { window.__seen = [];
              new MutationObserver(() => {
                const c = document.querySelector('#processed-count'), s = document.querySelector('#stage-title');
                if (c && s) window.__seen.push([Date.now() / 1000, s.textContent, c.textContent]);
              }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
            for pg in pages:
                pg.goto(f"{app.url}/automation")
                pg.wait_for_selector("#run-now")
                pg.evaluate(observer)
            web = psutil.Process(app.proc.pid)
            tree = [web] + web.children(recursive=True)
            cpu0 = sum(sum(x.cpu_times()[:2]) for x in tree)
            wall0 = time.monotonic()
            page.click("#run-now")
            deadline = time.time() + 900
            while time.time() < deadline and len(events) < args.updates + 5:
                time.sleep(0.5)
            backend_cpu = (sum(sum(x.cpu_times()[:2]) for x in tree if x.is_running()) - cpu0) / (time.monotonic() - wall0)
            seen_all = [pg.evaluate("window.__seen") for pg in pages]
            browser.close()
    finally:
        stop.set()
        stop_live_app(app)
        rproc.terminate()
    import re

    latencies = []
    for seen in seen_all:
        first_seen: dict[tuple, float] = {}
        for ts, stage_text, count_text in seen:
            m1, m2 = re.search(r"Stage (\d)/6", stage_text), re.match(r"(\d+) / (\d+)", count_text)
            if m1 and m2:
                first_seen.setdefault((int(m1.group(1)), int(m2.group(1)), int(m2.group(2))), ts)
        for key, shown in first_seen.items():
            if key in events and key[1] > 0:
                latencies.append((shown - events[key]) * 1000)
    latencies.sort()
    n = len(latencies)
    if not n:
        sys.exit("no matched updates")
    print(f"push latency over {n} updates in {args.contexts} browser context(s) (commit -> DOM), "
          f"OFFLINE_AI_DELAY_MS={args.delay_ms}:")
    print(f"  p50 {statistics.median(latencies):.1f} ms   p95 {latencies[int(n * 0.95) - 1]:.1f} ms   "
          f"max {latencies[-1]:.1f} ms")
    print(f"  backend CPU (web server process tree): {backend_cpu * 100:.0f}% of one core")
    print("command: python bench/push_latency.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
