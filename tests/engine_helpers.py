"""Helpers for the engine's reliability tests: seeding a site, real ``igny8 worker`` processes
(and their RQ work horses), the offline provider's call log, and the exactly-once checks.

The ``db`` and ``redis`` fixtures point this process's settings (DATABASE_URL, IGNY8_DATA_DIR,
REDIS_URL, SECRET_KEY) at the test database and Redis; worker subprocesses inherit them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlmodel import select

from igny8_app.db import read_session, write_session
from igny8_app.models import (AutomationConfig, AutomationRun, Cluster, Content, ContentIdea, CreditTransaction,
                              Image, Keyword, SiteLock, StageProgress, Task)
from igny8_app.services.billing import ledger as billing
from igny8_app.services.content import keywords
from igny8_app.services.system.demo import demo_csv
from igny8_app.settings import get_settings
from tests.factories import make_account, make_site

REPO = Path(__file__).resolve().parent.parent
ACTIVE = ("running", "paused")
TERMINAL = ("cancelled", "completed", "failed", "skipped")


# --- data -----------------------------------------------------------------------------------------

def demo_lines() -> list[str]:
    """The demo keyword CSV rows (without the header), in a fixed order."""
    return demo_csv().decode().splitlines()[1:]


def keyword_csv(lines: list[str]) -> bytes:
    return ("keyword,volume,difficulty,intent\n" + "\n".join(lines) + "\n").encode()


@dataclass
class SiteRef:
    site_id: int
    account_id: int


def seed_site(*, n_keywords: int = 24, credits: int = 50_000, in_article_images: int = 1,
              first_keyword: int = 0) -> SiteRef:
    """A new account (with ``credits``) and site with ``n_keywords`` demo keywords."""
    with write_session() as s:
        account = make_account(s, credits=credits)
        site = make_site(s, account)
        if n_keywords:
            keywords.import_keywords(session=s, site_id=site.id,
                                     data=keyword_csv(demo_lines()[first_keyword:first_keyword + n_keywords]))
        cfg = s.exec(select(AutomationConfig).where(AutomationConfig.site_id == site.id)).one_or_none()
        cfg = cfg or AutomationConfig(site_id=site.id)
        cfg.in_article_images = in_article_images
        s.add(cfg)
        return SiteRef(site.id, account.id)


def get_run(run_pk: int) -> AutomationRun:
    """A detached snapshot of the run row (read_session's rollback would expire a bound one)."""
    with read_session() as s:
        run = s.get(AutomationRun, run_pk)
        s.expunge(run)
        return run


def stage_counts(run_pk: int) -> dict[int, int]:
    """Per stage: processed + failed so far (stage 1 counts keywords)."""
    with read_session() as s:
        rows = s.execute(sa.select(StageProgress.stage, StageProgress.processed_items + StageProgress.failed_items)
                         .where(StageProgress.run_pk == run_pk)).all()
    return {stage: 0 for stage in range(1, 7)} | {int(st): int(n) for st, n in rows}


def stage_counts_from_state(state: dict[str, Any]) -> dict[int, int]:
    return {st["stage"]: st["processed_items"] + st["failed_items"] for st in state["stages"]}


def items_between(before: dict[int, int], after: dict[int, int], *, batch: int = 20) -> int:
    """Items (a stage-1 batch of up to ``batch`` keywords is one item) done between two counts."""
    d1 = after[1] - before[1]
    return -(-d1 // batch) + sum(after[k] - before[k] for k in range(2, 7))


def committed_items(run_pk: int) -> int:
    """Items finished (processed + failed) by the run, stage-1 batches counted as one item each."""
    return items_between({k: 0 for k in range(1, 7)}, stage_counts(run_pk))


def wait_until(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.05, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- worker processes -----------------------------------------------------------------------------

def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (its RQ work horses), from /proc."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]) if fields[0] not in ("Z", "X") else None


@dataclass
class Workers:
    procs: list[subprocess.Popen]
    env: dict[str, str]
    log_dir: Path
    names: list[str] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def horses(self) -> list[int]:
        return [c for pid in self.pids for c in child_pids(pid)]

    def is_horse(self, pid: int) -> bool:
        return parent_pid(pid) in self.pids

    def assert_alive(self) -> None:
        for p, name in zip(self.procs, self.names):
            if p.poll() is not None:
                raise AssertionError(f"worker {name} exited with {p.returncode}:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-chars:]}" for f in sorted(self.log_dir.glob("*.log")))

    def stop(self) -> None:
        """SIGKILL the work horses (own process groups) and the workers (started in their own sessions)."""
        horses = self.horses()
        for pid in horses:
            _kill(pid)
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def start_workers(n: int, *, log_dir: Path, env: dict[str, str] | None = None, timeout: float = 120,
                  module: str = "igny8_app.cli") -> Workers:
    """Start ``n`` ``igny8 worker`` processes against this test's database and Redis; wait until
    each has registered with RQ (so it is dequeuing)."""
    from rq import Worker

    from igny8_app.queue import get_redis

    settings = get_settings()
    full_env = dict(os.environ)
    full_env.update({"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                     "IGNY8_DATA_DIR": str(settings.data_dir), "SECRET_KEY": settings.secret_key,
                     "PYTHONUNBUFFERED": "1", **(env or {})})
    log_dir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    names = [f"test-{tag}-{i}" for i in range(n)]
    procs = [subprocess.Popen([sys.executable, "-m", module, "worker", "--name", name], cwd=REPO,
                              env=full_env, stdout=open(log_dir / f"{name}.log", "w"),  # noqa: SIM115
                              stderr=subprocess.STDOUT, start_new_session=True)
             for name in names]
    workers = Workers(procs, full_env, log_dir, names)
    try:
        def registered() -> bool:
            workers.assert_alive()
            return set(names) <= {w.name for w in Worker.all(connection=get_redis())}

        wait_until(registered, timeout=timeout, interval=0.2, what="the workers to register")
    except BaseException:
        workers.stop()
        raise
    return workers


# --- the AI call log (IGNY8_AI_CALL_LOG, written by stage_io.compute) -----------------------------

def read_call_log(path: Path) -> list[tuple[int, str, int]]:
    """(stage, item key, pid) per AI call, in call order."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        stage, key, pid = line.split(" ")
        out.append((int(stage), key, int(pid)))
    return out


def call_counts(path: Path) -> Counter:
    """AI calls per (stage, item key)."""
    return Counter((stage, key) for stage, key, _ in read_call_log(path))


def expected_calls(site_id: int) -> Counter:
    """One AI call per committed item of the site, keyed like the call log (stage-1 batches from
    their charges' idempotency keys ``run:1:kw:<hash>``)."""
    with read_session() as s:
        exp: Counter = Counter()
        for key in s.execute(sa.select(CreditTransaction.idempotency_key).where(
                CreditTransaction.site_id == site_id, CreditTransaction.stage == 1)).scalars():
            exp[(1, key.split(":", 2)[2])] += 1
        for (cid,) in s.execute(sa.select(Cluster.id).where(Cluster.site_id == site_id, Cluster.status == "mapped")):
            exp[(2, f"cluster:{cid}")] += 1
        for (tid,) in s.execute(sa.select(Content.task_id).where(Content.site_id == site_id)):
            exp[(4, f"task:{tid}")] += 1
        for (cid,) in s.execute(sa.select(Content.id).where(Content.site_id == site_id, Content.prompt_status == "done")):
            exp[(5, f"content:{cid}")] += 1
        for (iid,) in s.execute(sa.select(Image.id).where(Image.site_id == site_id, Image.status == "generated")):
            exp[(6, f"image:{iid}")] += 1
    return exp


def batch_keys_charged(site_id: int) -> list[str]:
    """The stage-1 idempotency keys charged for the site (``run:1:kw:<hash of sorted ids>``)."""
    with read_session() as s:
        return list(s.execute(sa.select(CreditTransaction.idempotency_key).where(
            CreditTransaction.site_id == site_id, CreditTransaction.stage == 1)).scalars())


# --- exactly-once checks --------------------------------------------------------------------------

STAGE_OUTPUTS = {
    1: (Keyword, Keyword.status == "mapped"),
    2: (Cluster, Cluster.status == "mapped"),
    3: (Task, sa.true()),
    4: (Content, sa.true()),
    5: (Content, Content.prompt_status == "done"),
    6: (Image, Image.status == "generated"),
}


def output_counts(s, site_id: int) -> dict[int, int]:  # noqa: ANN001
    return {stage: int(s.execute(sa.select(sa.func.count()).select_from(model)
                                 .where(model.site_id == site_id, cond)).scalar_one())
            for stage, (model, cond) in STAGE_OUTPUTS.items()}


def _dupes(s, stmt) -> list:  # noqa: ANN001
    return list(s.execute(stmt).all())


def check_exactly_once(site_id: int, account_id: int) -> dict[str, Any]:
    """The invariants a run (or any sequence of runs) must keep for a site. Returns figures."""
    with read_session() as s:
        runs = s.exec(select(AutomationRun).where(AutomationRun.site_id == site_id).order_by(AutomationRun.id)).all()
        report = billing.reconcile(session=s)
        assert report.ok, f"ledger does not reconcile: {report}"
        t = CreditTransaction
        bal = billing.balance(session=s, account_id=account_id)
        total = s.execute(sa.select(sa.func.coalesce(sa.func.sum(t.amount), 0)).where(t.account_id == account_id)).scalar_one()
        assert bal == total, f"balance {bal} != sum of transactions {total}"
        assert not _dupes(s, sa.select(t.idempotency_key).group_by(t.idempotency_key).having(sa.func.count() > 1))
        # each item charged once over all runs (stage 1 batches: once per run and key)
        assert not _dupes(s, sa.select(t.stage, t.object_type, t.object_id, sa.func.count())
                          .where(t.site_id == site_id, t.stage.in_([2, 4, 5, 6]))
                          .group_by(t.stage, t.object_type, t.object_id).having(sa.func.count() > 1)), "item charged twice"
        # no duplicate outputs
        for stmt, what in (
            (sa.select(ContentIdea.cluster_id, ContentIdea.position).where(ContentIdea.site_id == site_id)
             .group_by(ContentIdea.cluster_id, ContentIdea.position).having(sa.func.count() > 1), "ideas per cluster"),
            (sa.select(Task.idea_id).where(Task.site_id == site_id, Task.idea_id.is_not(None))
             .group_by(Task.idea_id).having(sa.func.count() > 1), "tasks per idea"),
            (sa.select(Content.task_id).where(Content.site_id == site_id, Content.task_id.is_not(None))
             .group_by(Content.task_id).having(sa.func.count() > 1), "content per task"),
            (sa.select(Image.content_id, Image.position).where(Image.site_id == site_id)
             .group_by(Image.content_id, Image.position).having(sa.func.count() > 1), "images per content position"),
        ):
            assert not _dupes(s, stmt), f"duplicate outputs: {what}"
        # processed counters (over all runs) == committed outputs, per stage
        progs = s.exec(select(StageProgress).join(AutomationRun, AutomationRun.id == StageProgress.run_pk)
                       .where(AutomationRun.site_id == site_id)).all()
        processed = Counter()
        for p in progs:
            processed[p.stage] += p.processed_items
        outputs = output_counts(s, site_id)
        assert {k: processed.get(k, 0) for k in outputs} == outputs, (dict(processed), outputs)
        # credits: per run, the counters, the run total and the ledger agree
        for run in runs:
            charged = -s.execute(sa.select(sa.func.coalesce(sa.func.sum(t.amount), 0))
                                 .where(t.run_id == run.run_id)).scalar_one()
            by_stage = sum(p.credits_used for p in progs if p.run_pk == run.id)
            assert run.total_credits_used == charged == by_stage, (run.run_id, run.total_credits_used, charged, by_stage)
        # at most one running-or-paused run, and the site lock names it
        active = [r for r in runs if r.status in ACTIVE]
        assert len(active) <= 1, [(r.run_id, r.status) for r in active]
        lock = s.get(SiteLock, site_id)
        assert (lock.run_pk if lock else None) == (active[0].id if active else None), (lock, active)
        for r in runs:
            if r.status != "running":
                assert r.requested_action is None and r.lease_owner is None, (r.run_id, r.status, r.requested_action)
        return {"outputs": outputs, "runs": [(r.run_id, r.status) for r in runs],
                "charges": int(s.execute(sa.select(sa.func.count()).select_from(t).where(t.site_id == site_id)).scalar_one())}


def check_images_on_disk(site_id: int) -> int:
    with read_session() as s:
        paths = list(s.execute(sa.select(Image.path).where(Image.site_id == site_id, Image.status == "generated")).scalars())
    media = get_settings().media_dir
    for rel in paths:
        assert (media / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", rel
    return len(paths)


def all_pending_done(site_id: int) -> None:
    """Every eligible item of the site was processed: no queue has pending or failed items left."""
    from igny8_app.services.automation.overview import pipeline_overview

    with read_session() as s:
        overview = pipeline_overview(session=s, site_id=site_id)
    left = {r["stage"]: (r["pending"], r["failed"]) for r in overview if r["pending"] or r["failed"]}
    assert not left, f"items left (pending, failed) per stage: {left}"
