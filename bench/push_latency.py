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

from bench._results import emit, row, verdict  # noqa: E402

FRAME_HOOK = """(() => {
  const Orig = window.WebSocket; window.__frames = [];
  function Hooked(...a) {
    const ws = new Orig(...a);
    ws.addEventListener('message', (e) => {
      if (typeof e.data === 'string' && e.data.includes('processed_items')) window.__frames.push([Date.now() / 1000, e.data.slice(0, 4000)]);
    });
    return ws;
  }
  Hooked.prototype = Orig.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Hooked[k] = Orig[k];
  window.WebSocket = Hooked;
})();"""


def _cpu(procs) -> float:  # noqa: ANN001 - psutil processes; ones that exited meanwhile count 0
    import psutil

    total = 0.0
    for x in procs:
        try:
            total += sum(x.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=200)
    ap.add_argument("--delay-ms", type=int, default=60)
    ap.add_argument("--contexts", type=int, default=1, help="browser contexts watching the same site")
    ap.add_argument("--dump", help="write every matched update (key, commit->frame, commit->DOM) as JSON here")
    ap.add_argument("--worker-nice", type=int, default=0,
                    help="run the RQ workers at this nice level (they share the 2 cores with the browser here)")
    args = ap.parse_args()

    import psutil
    import redis
    from playwright.sync_api import sync_playwright

    from igny8_app.services.system.demo import DEMO_OWNER
    from tests.e2e.conftest import CHROMIUM_ARGS
    from tests.live_app import start_live_app, stop_live_app

    import subprocess

    port = 6400 + int(time.time()) % 500
    rproc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    redis_url = f"redis://127.0.0.1:{port}/0"
    push_trace = Path(tempfile.mkdtemp(prefix="igny8-push-trace-")) / "pushes.txt"
    app = start_live_app(data_dir=Path(tempfile.mkdtemp(prefix="igny8-push-")), redis_url=redis_url, workers=2,
                         extra_env={"OFFLINE_AI_DELAY_MS": str(args.delay_ms), "IGNY8_PUSH_TRACE": str(push_trace)},
                         worker_nice=args.worker_nice)
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
            for pg in pages:  # stamp every websocket frame that carries progress as it reaches the page
                pg.add_init_script(FRAME_HOOK)
            observer = """() => { window.__seen = [];
              new MutationObserver(() => {
                const c = document.querySelector('#processed-count'), s = document.querySelector('#stage-title');
                if (c && s) window.__seen.push([Date.now() / 1000, s.textContent, c.textContent]);
              }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
            for pg in pages:
                pg.goto(f"{app.url}/automation")
                pg.wait_for_selector("#run-now")
                pg.evaluate(observer)
            cdp = first.new_cdp_session(page)  # the first page's main-thread time, by kind
            cdp.send("Performance.enable")

            def main_thread() -> dict[str, float]:
                m = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
                return {k: m.get(k, 0.0) for k in ("TaskDuration", "ScriptDuration", "LayoutDuration",
                                                    "RecalcStyleDuration")}
            web = psutil.Process(app.proc.pid)
            tree = [web] + web.children(recursive=True)
            cpu0 = _cpu(tree)
            me = psutil.Process()
            browser_tree = [x for x in me.children(recursive=True) if "chrom" in x.name()]
            idle0 = _cpu(browser_tree)
            time.sleep(3)  # the open pages with no run: what the browser burns by itself
            browser_idle = (_cpu(browser_tree) - idle0) / 3

            def kind(x) -> str:  # noqa: ANN001
                try:
                    t = [a for a in x.cmdline() if a.startswith("--type=")]
                except psutil.Error:
                    return "exited"
                return t[0][7:] if t else "browser"
            by_kind0 = {x.pid: (kind(x), _cpu([x])) for x in browser_tree}
            mt0 = main_thread()
            wall0 = time.monotonic()
            page.click("#run-now")
            deadline = time.time() + 900
            while time.time() < deadline and len(events) < args.updates + 5:
                time.sleep(0.5)
            backend_cpu = (_cpu(tree) - cpu0) / (time.monotonic() - wall0)
            mt = {k: v - mt0[k] for k, v in main_thread().items()}
            run_wall = time.monotonic() - wall0
            by_kind: dict[str, float] = {}
            for x in browser_tree:
                if x.pid in by_kind0 and (c1 := _cpu([x])):
                    k, c0 = by_kind0[x.pid]
                    by_kind[k] = by_kind.get(k, 0.0) + (c1 - c0) / run_wall
            browser_cpu = sum(by_kind.values())  # processes that exited during the run are left out
            seen_all = [pg.evaluate("window.__seen") for pg in pages]
            frames_all = [pg.evaluate("window.__frames || []") for pg in pages]
            browser.close()
    finally:
        stop.set()
        stop_live_app(app)
        rproc.terminate()
    import re

    latencies, to_frame, to_dom, rows, stale, stale_rows = [], [], [], [], [], []
    for seen, frames in zip(seen_all, frames_all):
        first_frame: dict[tuple, float] = {}  # (stage, processed, total) -> when its frame reached the page
        for ts, data in frames:
            m = [re.search(rf'"{k}":\s*(\d+)', data) for k in ("current_stage", "processed_items", "total_items")]
            if all(m):
                first_frame.setdefault(tuple(int(x.group(1)) for x in m), ts)
        first_seen: dict[tuple, float] = {}
        for ts, stage_text, count_text in seen:
            m1, m2 = re.search(r"Stage (\d)/6", stage_text), re.match(r"(\d+) / (\d+)", count_text)
            if m1 and m2:
                first_seen.setdefault((int(m1.group(1)), int(m2.group(1)), int(m2.group(2))), ts)
        shown_keys = sorted(first_seen.items(), key=lambda kv: kv[1])
        for key, committed in events.items():  # staleness: until the page shows this commit or a later one
            if key[1] > 0:
                later = [ts for (st, done, _), ts in shown_keys if (st, done) >= key[:2] and ts >= committed]
                if later:
                    stale.append((min(later) - committed) * 1000)
                    stale_rows.append({"key": key, "published_at": committed, "stale_ms": stale[-1]})
        for key, shown in first_seen.items():
            if key in events and key[1] > 0:
                latencies.append((shown - events[key]) * 1000)
                frame = first_frame.get(key)
                if frame is not None:
                    to_frame.append((frame - events[key]) * 1000)
                    to_dom.append((shown - frame) * 1000)
                rows.append({"key": key, "published_at": events[key], "commit_to_dom_ms": (shown - events[key]) * 1000,
                             "commit_to_frame_ms": None if frame is None else (frame - events[key]) * 1000})
    if args.dump:
        Path(args.dump).write_text(json.dumps({"shown": sorted(rows, key=lambda r: r["published_at"]),
                                               "every_commit": sorted(stale_rows, key=lambda r: r["published_at"])},
                                              indent=1))
    latencies.sort()
    n = len(latencies)
    if not n:
        sys.exit("no matched updates")
    print(f"push latency over {n} updates in {args.contexts} browser context(s) (commit -> DOM), "
          f"OFFLINE_AI_DELAY_MS={args.delay_ms}:")
    print(f"  p50 {statistics.median(latencies):.1f} ms   p95 {latencies[int(n * 0.95) - 1]:.1f} ms   "
          f"max {latencies[-1]:.1f} ms")
    for label, xs in (("every commit until the page shows it or a later one", stale),
                      ("commit -> websocket frame in the page", to_frame), ("frame -> DOM change", to_dom)):
        if xs:
            xs.sort()
            print(f"  {label}: p50 {statistics.median(xs):.1f} ms   p95 {xs[int(len(xs) * 0.95) - 1]:.1f} ms   "
                  f"max {xs[-1]:.1f} ms   (n={len(xs)})")
    pushed = []  # server side: commit -> the update left the web process (first push per page and key)
    first_push: dict[tuple, list[float]] = {}
    for line in push_trace.read_text().splitlines() if push_trace.exists() else []:
        ts, st, done, total = line.split()
        first_push.setdefault((int(st), int(done), int(total)), []).append(float(ts))
    for key, stamps in first_push.items():
        if key in events and key[1] > 0:
            pushed += [(t - events[key]) * 1000 for t in stamps[:args.contexts]]
    if pushed:
        pushed.sort()
        print(f"  commit -> pushed by the web process: p50 {statistics.median(pushed):.1f} ms   "
              f"p95 {pushed[int(len(pushed) * 0.95) - 1]:.1f} ms   max {pushed[-1]:.1f} ms   (n={len(pushed)})")
    print(f"  backend CPU (web server process tree): {backend_cpu * 100:.0f}% of one core; "
          f"browser (all chromium processes): {browser_cpu * 100:.0f}% ({browser_idle * 100:.0f}% before the run)")
    print("  browser CPU by process type: " + ", ".join(f"{k} {v * 100:.0f}%" for k, v in sorted(by_kind.items())))
    print("  first page's main thread, share of the run's wall time: " +
          ", ".join(f"{k.removesuffix('Duration').lower()} {v / run_wall * 100:.0f}%" for k, v in mt.items()))
    print("command: python bench/push_latency.py " + " ".join(sys.argv[1:]))

    def pct(xs: list[float]) -> dict | None:  # sorted above
        return {"p50": statistics.median(xs), "p95": xs[int(len(xs) * 0.95) - 1], "max": xs[-1], "n": len(xs)} \
            if xs else None

    shown, every, server = pct(latencies), pct(stale), pct(pushed)
    figures = {"contexts": args.contexts, "delay_ms": args.delay_ms, "shown": shown, "every_commit": every,
               "commit_to_frame": pct(to_frame), "frame_to_dom": pct(to_dom), "server": server,
               "backend_cpu_pct": backend_cpu * 100, "browser_cpu_pct": browser_cpu * 100}
    end_to_end = (f"shown updates p95 {shown['p95']:.1f} ms (p50 {shown['p50']:.1f}, max {shown['max']:.1f}, "
                  f"n={shown['n']})" + (f"; every commit until shown p95 {every['p95']:.1f} ms" if every else ""))
    server_text = (f"p95 {server['p95']:.1f} ms (p50 {server['p50']:.1f}, n={server['n']}) at "
                   f"{backend_cpu * 100:.0f}% of one core" if server else "no push trace")
    if args.contexts == 1:
        rows = [row("push_p95", verdict=verdict(shown["p95"] <= 100),
                    measured=end_to_end + (f"; server share p95 {server['p95']:.1f} ms" if server else ""))]
    else:
        rows = [row("push_many_e2e", verdict=verdict(shown["p95"] <= 100),
                    measured=f"{args.contexts} contexts: {end_to_end}; Chromium {browser_cpu * 100:.0f}% CPU"),
                row("push_many_server", verdict=verdict(bool(server) and server["p95"] <= 100),
                    measured=f"{args.contexts} contexts: {server_text}")]
    emit(figures, rows)


if __name__ == "__main__":
    main()
