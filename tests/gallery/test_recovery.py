"""Jobs stuck in 'running' because their worker died are re-queued once, then failed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from rq.worker import Worker

from gallery import recovery
from gallery.models import StyleJob
from gallery.worker import AtelierWorker

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    # The worker subprocess must use the test database this test writes to.
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_it_requeues_a_job_whose_worker_was_killed_mid_job(owner, make_job, redis_queue):
    job = make_job(owner)
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        # Many iterations: the job must still be running when the worker is killed.
        "STYLECORE_OPTIMIZE": '{"stage_iterations": [5000]}',
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", settings.OPTIMIZE_QUEUE, "--worker-class",
         "gallery.worker.AtelierWorker", "--serializer", settings.RQ_SERIALIZER],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        running = _wait_for(
            lambda: StyleJob.objects.filter(pk=job.pk, status=StyleJob.Status.RUNNING, progress__gt=0).first(),
            timeout=120,
            what="the worker to make progress on the job",
        )
        assert recovery.recover_stuck_jobs(stale_after=30) == []  # alive and beating: left alone
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    time.sleep(2.5)
    recovered = recovery.recover_stuck_jobs(stale_after=2)

    assert [j.pk for j in recovered] == [job.pk]
    job.refresh_from_db()
    assert job.status == StyleJob.Status.QUEUED
    assert (job.attempts, job.worker_id, job.progress) == (1, "", 0)
    assert running.worker_id and redis_queue.job_ids == [str(job.pk)]


def test_it_fails_a_stuck_job_once_its_attempts_are_used_up(owner, make_job, redis_queue):
    job = make_job(owner)
    job.mark_running("worker-that-never-existed")
    job.mark_requeued()
    job.mark_running("another-dead-worker")
    assert job.attempts == settings.JOB_MAX_ATTEMPTS

    recovery.recover_stuck_jobs()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.FAILED
    assert job.error == recovery.WORKER_STOPPED_MESSAGE.format(attempts=2)


def test_it_leaves_jobs_of_live_workers_alone(owner, make_job, redis_queue):
    worker = AtelierWorker([redis_queue], connection=redis_queue.connection)
    worker.register_birth()
    job = make_job(owner)
    job.mark_running(worker.name)
    worker.prepare_execution(redis_queue.fetch_job(str(job.pk)))  # the worker is on this job

    assert recovery.recover_stuck_jobs() == []
    assert StyleJob.objects.get(pk=job.pk).status == StyleJob.Status.RUNNING
    worker.register_death()


def test_it_checks_for_stuck_jobs_when_a_worker_starts(owner, make_job, redis_queue, run_worker):
    job = make_job(owner)
    job.mark_running("dead-worker")
    assert Worker.find_by_key(Worker.redis_worker_namespace_prefix + "dead-worker", redis_queue.connection) is None

    run_worker()  # recovers the job at start, then runs it to the end in the same burst

    job.refresh_from_db()
    assert job.status == StyleJob.Status.DONE and job.attempts == 2
