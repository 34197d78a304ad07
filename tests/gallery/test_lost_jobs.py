"""The row is the source of truth: a queued row whose RQ job vanished is enqueued again, and only then."""

import json
import os
import subprocess
import sys
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rq.job import Job
from rq.registry import FailedJobRegistry

from gallery import recovery, services
from gallery.models import StyleJob
from gallery.worker import AtelierWorker
from tests.gallery.test_recovery import _test_database_url

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _vanish_by_flush(queue, job):
    queue.connection.flushdb()


def _vanish_by_emptying_the_queue(queue, job):
    queue.empty()  # what the dashboard's "Empty queue" does


def _vanish_by_deleting_the_job_key(queue, job):
    queue.connection.delete(Job.key_for(str(job.pk)))  # the id stays in the list, pointing at nothing


@pytest.mark.parametrize("vanish", [_vanish_by_flush, _vanish_by_emptying_the_queue, _vanish_by_deleting_the_job_key])
def test_it_enqueues_a_queued_row_again_when_its_rq_job_vanished(owner, make_job, redis_queue, run_worker, vanish):
    job = make_job(owner)
    vanish(redis_queue, job)
    assert redis_queue.fetch_job(str(job.pk)) is None

    assert [j.pk for j in recovery.recover_lost_jobs(lost_after=0)] == [job.pk]
    assert redis_queue.get_job_ids() == [str(job.pk)]  # once, with no stale copy of the id
    assert recovery.recover_lost_jobs(lost_after=0) == []  # now waiting: left alone

    run_worker()
    job.refresh_from_db()
    assert job.status == StyleJob.Status.DONE and job.attempts == 1


def test_it_leaves_waiting_held_back_picked_up_and_running_jobs_alone(owner, other, moderator, make_job, redis_queue):
    waiting, picked_up, running = make_job(owner), make_job(other), make_job(moderator)
    held_back = make_job(owner)  # by the fair queue, until the owner's waiting job has run
    # A worker moves the job it pops to the intermediate list before it marks it started.
    redis_queue.remove(str(picked_up.pk))
    redis_queue.connection.rpush(redis_queue.intermediate_queue_key, str(picked_up.pk))
    worker = AtelierWorker([redis_queue], connection=redis_queue.connection)
    worker.register_birth()
    redis_queue.remove(str(running.pk))
    rq_job = redis_queue.fetch_job(str(running.pk))
    worker.prepare_execution(rq_job)
    rq_job.set_status("started")
    rq_job.worker_name = worker.name
    rq_job.save()

    assert recovery.recover_lost_jobs(lost_after=0) == []
    assert redis_queue.get_job_ids() == [str(waiting.pk)]
    worker.register_death()


def test_it_frees_the_owners_turn_when_redis_never_heard_that_a_run_ended(owner, make_job, redis_queue, run_worker):
    ended, waiting = make_job(owner), make_job(owner)  # the fair queue holds the second back behind the first
    # The run ended in the database while Redis was out of reach (killed, restarted from its append-only file), so
    # RQ still has the job as started, and keeps the owner's turn for it.
    redis_queue.remove(str(ended.pk))
    redis_queue.fetch_job(str(ended.pk)).set_status("started")
    ended.mark_running("a-worker")
    ended.mark_failed("The picture could not be painted.")

    assert recovery.release_ended_turns(lost_after=0) == [ended.pk]
    run_worker()
    waiting.refresh_from_db()
    assert waiting.status == StyleJob.Status.DONE


def test_it_waits_before_it_counts_a_just_queued_row_as_lost(owner, make_job, redis_queue):
    # The web enqueues right after its commit: a row a moment old with no RQ job yet is not lost.
    job = make_job(owner)
    redis_queue.connection.flushdb()
    assert recovery.recover_lost_jobs(lost_after=30) == []
    assert [j.pk for j in recovery.recover_lost_jobs(lost_after=0)] == [job.pk]


def test_it_recovers_lost_jobs_when_a_worker_starts(owner, make_job, redis_queue, run_worker, settings):
    settings.JOB_LOST_AFTER_SECONDS = 0
    job = make_job(owner)
    redis_queue.connection.flushdb()

    run_worker()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.DONE


def test_it_requeues_without_counting_a_run_whose_live_worker_moved_on(owner, make_job, redis_queue):
    # The run could not record its end (the database was out of reach); its worker is alive and idle.
    worker = AtelierWorker([redis_queue], connection=redis_queue.connection)
    worker.register_birth()
    job = make_job(owner)
    job.mark_running(worker.name)

    assert [j.pk for j in recovery.recover_stuck_jobs()] == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.attempts) == (StyleJob.Status.QUEUED, 0)
    assert redis_queue.get_job_ids() == [str(job.pk)]
    worker.register_death()


def test_it_gives_a_job_back_when_the_worker_cannot_reach_the_database(owner, make_job, redis_queue, run_worker):
    job = make_job(owner)
    env = {
        **os.environ,
        # A real PostgreSQL URL with nothing listening: every connection is refused.
        "DATABASE_URL": "postgresql://atelier@127.0.0.1:9/atelier",
        "JOB_DATABASE_WAIT_SECONDS": "1",
    }
    worker = subprocess.run(
        [sys.executable, "manage.py", "rqworker", settings.OPTIMIZE_QUEUE, "--burst", "--worker-class",
         "gallery.worker.AtelierWorker", "--serializer", settings.RQ_SERIALIZER],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert worker.returncode == 0, worker.stderr  # the failed start-up check is logged, not fatal
    assert "Start-up job check failed" in worker.stderr

    job.refresh_from_db()
    assert (job.status, job.attempts) == (StyleJob.Status.QUEUED, 0)  # not burned
    assert "DatabaseUnavailableError" in redis_queue.fetch_job(str(job.pk)).latest_result().exc_string

    assert [j.pk for j in recovery.recover_lost_jobs(lost_after=0)] == [job.pk]
    assert FailedJobRegistry(queue=redis_queue).get_job_ids() == []
    run_worker()
    job.refresh_from_db()
    assert job.status == StyleJob.Status.DONE


def test_it_keeps_checking_while_redis_is_out_of_reach(owner, make_job, redis_queue, tmp_path):
    job = make_job(owner)
    StyleJob.objects.filter(pk=job.pk).update(queued_at=job.queued_at - timedelta(hours=1))
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": f"unix://{tmp_path}/none.sock?db=0"}
    checker = subprocess.Popen(
        [sys.executable, "manage.py", "recover_jobs", "--every", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            checker.wait(timeout=12)
    finally:
        checker.kill()
        _, stderr = checker.communicate()
    assert stderr.count("Job check failed; retrying in 1 s") >= 2


def test_it_routes_optimize_jobs_to_their_own_queue_in_json(owner, make_job, redis_queue):
    slow, fast = make_job(owner), make_job(owner, method="fast")
    assert services.queue_for("optimize").get_job_ids() == [str(slow.pk)]
    assert services.queue_for("fast").get_job_ids() == [str(fast.pk)]
    data = json.loads(zlib.decompress(redis_queue.connection.hget(Job.key_for(str(slow.pk)), "data")))
    assert data[0] == "gallery.jobs.run_style_job" and data[2] == [slow.pk]


def test_it_refuses_to_start_a_worker_that_would_read_pickle(redis_queue):
    with pytest.raises(ImproperlyConfigured, match="--serializer"):
        AtelierWorker([redis_queue], connection=redis_queue.connection, serializer="rq.serializers.DefaultSerializer")
