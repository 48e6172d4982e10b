"""The worker never forks a work horse while its periodic thread is inside a task (a fork then
copies held SQLite/driver mutexes into the child, whose first connect hangs for ever: seen in
bench/pipeline_overhead.py). Checked in a fresh interpreter, since at-fork handlers are global."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, threading, time
    from igny8_app import worker
    from igny8_app.services.automation.scheduler import FORK_GUARD

    worker._guard_forks()
    held = threading.Event()

    def task():  # a periodic task in progress for 0.6 s
        with FORK_GUARD:
            held.set()
            time.sleep(0.6)

    threading.Thread(target=task).start()
    held.wait()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child starts with the lock free
        os._exit(0 if FORK_GUARD.acquire(blocking=False) else 3)
    waited = time.monotonic() - t0
    _, status = os.waitpid(pid, 0)
    print(f"waited={waited:.2f} child={os.waitstatus_to_exitcode(status)} "
          f"parent_free={FORK_GUARD.acquire(timeout=2)}")
""")


def test_fork_waits_for_the_running_task_and_the_child_starts_unlocked():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    fields = dict(kv.split("=") for kv in out.stdout.split())
    assert float(fields["waited"]) >= 0.3, out.stdout  # the fork waited for the task
    assert fields["child"] == "0", out.stdout           # the child's copy of the lock was released
    assert fields["parent_free"] == "True", out.stdout  # and the parent's is free again
