"""`igny8 worker` and SIGTERM (what `systemctl stop` sends): a worker cut off from Redis (server
killed, or frozen like a network partition) stops within 2 s of one SIGTERM, with or without a
job in flight; with Redis up, SIGTERM is still a warm shutdown that lets the current job finish.
Each test has its own redis-server so it can kill or freeze it."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from rq.job import Job, JobStatus

from igny8_app.queue import get_queue, get_redis, reset_redis
from igny8_app.settings import reset_settings
from tests.conftest import free_port
from tests.engine_helpers import child_pids, start_workers, wait_until

STOP_CEILING_S = 2.0


class RedisProcess:
    def __init__(self, workdir) -> None:  # noqa: ANN001
        self.port = free_port()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def start_again(self, workdir) -> None:  # noqa: ANN001
        """A new redis-server on the same port (what a restart looks like to the workers)."""
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.kill()


@pytest.fixture
def own_redis(db, tmp_path, monkeypatch):
    r = RedisProcess(tmp_path)
    monkeypatch.setenv("REDIS_URL", r.url)
    reset_settings()
    reset_redis()
    wait_until(lambda: _pings(), timeout=10, what="redis-server to start")
    yield r
    reset_redis()
    r.close()


def _pings() -> bool:
    try:
        return bool(get_redis().ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def worker(own_redis, tmp_path):
    w = start_workers(1, log_dir=tmp_path / "workers")
    yield w
    w.stop()


def _term_and_time_exit(worker, ceiling: float = 10.0) -> float:  # noqa: ANN001
    proc = worker.procs[0]
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(ceiling)
    except subprocess.TimeoutExpired:
        pass
    took = time.monotonic() - t0
    if proc.poll() is None:
        print(worker.log_tail())
    return took


def _start_slow_job(tmp_path, seconds: float):  # noqa: ANN001, ANN202
    from tests.worker_jobs import sleep_then_touch

    marker = tmp_path / "job-done"
    job = get_queue().enqueue(sleep_then_touch, str(marker), seconds, job_timeout=60)
    wait_until(lambda: (tmp_path / "job-done.started").exists(), timeout=30, what="the job to start")
    return job, marker


def test_idle_worker_stops_at_once_when_redis_is_dead(own_redis, worker) -> None:
    own_redis.kill()
    time.sleep(1.5)  # it has noticed and is retrying the connection
    took = _term_and_time_exit(worker)
    assert worker.procs[0].poll() is not None, "the worker ignored SIGTERM during the Redis outage"
    assert took < STOP_CEILING_S, f"took {took:.2f}s to stop"


def test_idle_worker_stops_at_once_when_redis_is_frozen(own_redis, worker) -> None:
    """A partition: the socket stays open and nothing answers (redis-server SIGSTOPped)."""
    os.kill(own_redis.proc.pid, signal.SIGSTOP)
    time.sleep(1.0)
    took = _term_and_time_exit(worker)
    assert worker.procs[0].poll() is not None, "the worker ignored SIGTERM while Redis did not answer"
    assert took < STOP_CEILING_S, f"took {took:.2f}s to stop"


def test_busy_worker_cut_off_from_redis_stops_and_takes_its_horse_down(own_redis, worker, tmp_path) -> None:
    _start_slow_job(tmp_path, 30)
    horses = [int((tmp_path / "job-done.started").read_text())]
    assert worker.is_horse(horses[0])
    own_redis.kill()
    time.sleep(1.5)
    took = _term_and_time_exit(worker)
    assert worker.procs[0].poll() is not None, "the worker ignored SIGTERM during the Redis outage"
    assert took < STOP_CEILING_S, f"took {took:.2f}s to stop"
    wait_until(lambda: not os.path.exists(f"/proc/{horses[0]}") or _zombie(horses[0]), timeout=2,
               what="the work horse to be gone with its worker")


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_sigterm_with_redis_up_still_lets_the_current_job_finish(own_redis, worker, tmp_path) -> None:
    job, marker = _start_slow_job(tmp_path, 3)
    proc = worker.procs[0]
    proc.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    assert proc.poll() is None, "warm shutdown: the worker must wait for its job"
    assert child_pids(proc.pid), "the work horse was killed"
    proc.wait(30)
    assert marker.read_text() == "done"
    assert Job.fetch(job.id, connection=get_redis()).get_status() == JobStatus.FINISHED
    assert proc.returncode == 0


def test_a_sigkilled_workers_scheduler_dies_with_it_and_steals_no_job(own_redis, worker, tmp_path) -> None:
    """SIGKILL (the OOM killer, a lost host) gives the worker no chance to stop RQ's scheduler,
    its forked child. An orphaned scheduler kept the worker's Redis socket open, so Redis still
    served the dead worker's pending BLMOVE: the next job went to the queue's intermediate list
    and no live worker ever ran it (found when the retry test ran after the remote-worker test)."""
    from tests.worker_jobs import sleep_then_touch

    first = worker.procs[0]
    wait_until(lambda: "Scheduler for igny8 started" in worker.log_tail(), timeout=30,
               what="RQ's scheduler to start in the worker")
    children = child_pids(first.pid)
    assert children, "the worker has no scheduler process"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)

    def gone() -> bool:
        return all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in children)

    try:
        wait_until(gone, timeout=5, what="the dead worker's scheduler process to exit")
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    second = start_workers(1, log_dir=tmp_path / "second")
    try:
        marker = tmp_path / "after-kill"
        get_queue().enqueue(sleep_then_touch, str(marker), 0, job_timeout=60)
        wait_until(marker.exists, timeout=15, what="a live worker to run the job queued after the kill")
    finally:
        second.stop()


def test_a_horse_killed_during_a_redis_outage_does_not_end_its_worker(own_redis, worker, tmp_path) -> None:
    """RQ's work loop swallows the Redis error it meets while recording the dead horse ("found an
    unhandled exception, quitting") and returns; the worker process used to exit with 0 then (the
    chaos test's SIGKILLs during a Redis restart hit it now and then). It waits for Redis instead
    and works the next job."""
    from tests.worker_jobs import sleep_then_touch

    _start_slow_job(tmp_path, 30)
    horse = int((tmp_path / "job-done.started").read_text())
    own_redis.kill()
    os.kill(horse, signal.SIGKILL)
    time.sleep(2.0)  # it has seen the horse die and failed to record it
    assert worker.procs[0].poll() is None, f"the worker exited ({worker.procs[0].returncode}):\n{worker.log_tail()}"
    own_redis.start_again(tmp_path)
    reset_redis()
    wait_until(_pings, timeout=10, what="redis-server to come back")
    marker = tmp_path / "after-restart"
    get_queue().enqueue(sleep_then_touch, str(marker), 0.1, job_timeout=60)
    wait_until(marker.exists, timeout=40, what="the worker to take a job after Redis came back")
    assert worker.procs[0].poll() is None


def test_a_redis_error_rq_swallows_does_not_end_the_worker(own_redis, tmp_path) -> None:
    """RQ's work loop catches any error ("found an unhandled exception, quitting") and returns
    normally. A Redis error while the worker records a dead work horse, with Redis back before
    the teardown, ended the process with status 0 (seen in the chaos test: a SIGKILLed horse during
    a Redis restart left one worker fewer). The worker registers again and works the next job."""
    from tests.worker_jobs import sleep_then_touch

    w = start_workers(1, log_dir=tmp_path / "workers", module="tests.flaky_worker")
    try:
        first, second = tmp_path / "first", tmp_path / "second"
        get_queue().enqueue(sleep_then_touch, str(first), 0.1, job_timeout=60)  # meets the swallowed error
        get_queue().enqueue(sleep_then_touch, str(second), 0.1, job_timeout=60)
        wait_until(lambda: second.exists() or w.procs[0].poll() is not None, timeout=40,
                   what="the second job to run, or the worker to exit")
        assert w.procs[0].poll() is None, f"the worker exited ({w.procs[0].returncode}):\n{w.log_tail()}"
        assert second.exists() and not first.exists()
    finally:
        w.stop()
