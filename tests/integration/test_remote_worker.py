"""Scale-out: a worker on "another machine" needs only the URLs. It is started here with an empty
environment (just PATH, HOME, DATABASE_URL, REDIS_URL and the shared media directory), from a
directory outside the repository, so nothing leaks from this process or the checkout's .env; it
still takes the job from Redis and completes a full run on the shared database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from rq import Worker

from igny8_app.queue import get_redis
from igny8_app.services.automation import control as automation
from igny8_app.settings import get_settings
from tests.engine_helpers import check_exactly_once, check_images_on_disk, get_run, seed_site, wait_until

pytestmark = pytest.mark.usefixtures("redis")


def test_worker_with_only_the_urls_completes_a_run(db, tmp_path):
    settings = get_settings()
    elsewhere = tmp_path / "other-machine"
    elsewhere.mkdir()
    name = f"remote-{uuid.uuid4().hex[:6]}"
    env = {"PATH": os.environ["PATH"], "HOME": str(elsewhere),
           "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "IGNY8_DATA_DIR": str(settings.data_dir),  # the shared media volume
           "OFFLINE_AI_DELAY_MS": "0"}
    log = open(tmp_path / "remote-worker.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "igny8_app.cli", "worker", "--name", name], cwd=elsewhere,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def registered() -> bool:
            assert proc.poll() is None, (tmp_path / "remote-worker.log").read_text()[-3000:]
            return name in {w.name for w in Worker.all(connection=get_redis())}

        wait_until(registered, timeout=120, interval=0.2, what="the remote worker to register")
        site = seed_site(n_keywords=12, in_article_images=0)
        run = automation.start_run(site_id=site.site_id)
        wait_until(lambda: get_run(run.id).status == "completed", timeout=240, interval=0.1,
                   what="the run to complete on the remote worker")
        report = check_exactly_once(site.site_id, site.account_id)
        assert report["outputs"][6] > 0, report
        assert check_images_on_disk(site.site_id) == report["outputs"][6]  # written to the shared volume
        assert get_run(run.id).lease_owner is None
    finally:
        proc.kill()
        proc.wait(10)
        log.close()
