"""Whether a worker is alive is judged on Redis' clock: machines whose clocks disagree change nothing.

A worker machine's clock shows up in RQ's own ``last_heartbeat`` field, which RQ writes with the worker's local time;
the tests write that field as a machine with a skewed clock would, and show recovery ignores it.
"""

import time
from datetime import timedelta

import pytest
from rq.utils import now, utcformat

from gallery import recovery
from gallery.models import StyleJob
from gallery.worker import AtelierWorker

pytestmark = pytest.mark.django_db(transaction=True)


def _worker_on(job, queue) -> AtelierWorker:
    worker = AtelierWorker([queue], connection=queue.connection)
    worker.register_birth()
    job.mark_running(worker.name)
    worker.prepare_execution(queue.fetch_job(str(job.pk)))  # the worker is on this job
    return worker


def _skew_rq_clock(worker: AtelierWorker, offset: timedelta) -> None:
    # What RQ stores when the worker's machine runs ``offset`` away from the others.
    worker.connection.hset(worker.key, "last_heartbeat", utcformat(now() + offset))


def test_it_leaves_alone_a_beating_worker_whose_clock_runs_behind(owner, make_job, redis_queue):
    job = make_job(owner)
    worker = _worker_on(job, redis_queue)
    _skew_rq_clock(worker, -timedelta(minutes=10))

    assert recovery.recover_stuck_jobs(stale_after=30) == []
    assert StyleJob.objects.get(pk=job.pk).status == StyleJob.Status.RUNNING
    worker.register_death()


def test_it_finds_a_dead_worker_whose_clock_ran_ahead(owner, make_job, redis_queue):
    job = make_job(owner)
    worker = _worker_on(job, redis_queue)
    _skew_rq_clock(worker, timedelta(minutes=10))  # on its own clock, its last beat is still to come
    assert recovery.recover_stuck_jobs(stale_after=1) == []

    time.sleep(1.5)  # no beat since register_birth: it died

    assert [j.pk for j in recovery.recover_stuck_jobs(stale_after=1)] == [job.pk]
    assert StyleJob.objects.get(pk=job.pk).status == StyleJob.Status.QUEUED


def test_it_measures_a_heartbeat_age_on_redis_time(redis_queue):
    connection = redis_queue.connection
    assert recovery.heartbeat_age(connection, "never-born") is None
    recovery.beat(connection, "w1", keep_for=60)
    time.sleep(0.5)
    age = recovery.heartbeat_age(connection, "w1")
    assert 0.5 <= age < 1.5
    recovery.forget_heartbeat(connection, "w1")
    assert recovery.heartbeat_age(connection, "w1") is None
