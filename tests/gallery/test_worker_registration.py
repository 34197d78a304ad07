"""A worker that Redis forgot (restarted without its data, flushed) registers again, with the job it runs, so the
dashboard, /health/ and recovery see it again, and its running job is not queued a second time."""

import os
import subprocess
import sys

import django_rq
import pytest
from django.conf import settings
from rq.worker import Worker

from gallery import recovery
from gallery.models import StyleJob
from tests.gallery.test_recovery import _test_database_url, _wait_for


def _start_worker(extra_env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", settings.STYLE_QUEUE, settings.OPTIMIZE_QUEUE, "--worker-class",
         "gallery.worker.AtelierWorker", "--serializer", settings.RQ_SERIALIZER],
        cwd=settings.BASE_DIR, env={**os.environ, "DATABASE_URL": _test_database_url(), **(extra_env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.mark.django_db(transaction=True)
def test_an_idle_worker_registers_again_after_redis_lost_everything(redis_queue):
    worker = _start_worker()
    try:
        (seen,) = _wait_for(lambda: recovery.live_workers(redis_queue), 120, "the worker")
        redis_queue.connection.flushdb()  # as a Redis restarted without its data
        assert recovery.live_workers(redis_queue) == []

        (again,) = _wait_for(lambda: recovery.live_workers(redis_queue), 15, "the worker to register again")
        assert again.name == seen.name and again.get_state() == "idle"
        assert {w.name for w in Worker.all(queue=django_rq.get_queue(settings.STYLE_QUEUE))} == {seen.name}
    finally:
        _stop_worker(worker)


@pytest.mark.django_db(transaction=True)
def test_a_busy_worker_registers_again_with_its_job_so_recovery_leaves_the_job_alone(owner, make_job, redis_queue):
    job = make_job(owner)
    # Many iterations: the job must still be running when Redis loses everything.
    worker = _start_worker({"STYLECORE_OPTIMIZE": '{"stage_iterations": [5000]}'})
    try:
        _wait_for(lambda: StyleJob.objects.filter(pk=job.pk, status=StyleJob.Status.RUNNING, progress__gt=0).exists(),
                  120, "the worker to make progress on the job")
        redis_queue.connection.flushdb()

        (again,) = _wait_for(lambda: recovery.live_workers(redis_queue), 15, "the worker to register again")
        assert (again.get_state(), again.get_current_job_id()) == ("busy", str(job.pk))
        assert recovery.recover_jobs() == []  # neither stuck nor lost: it runs, once
        job.refresh_from_db()
        assert (job.status, job.attempts) == (StyleJob.Status.RUNNING, 1)
    finally:
        _stop_worker(worker)
