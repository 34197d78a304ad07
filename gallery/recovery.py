"""Keep Redis in step with the rows. The StyleJob row is the source of truth; its RQ job is a copy that can be lost.

Two checks, run when a worker starts and every minute (``manage.py recover_jobs --every 60``):

- a ``running`` row whose worker is gone (no heartbeat for WORKER_STALE_SECONDS) or alive but no longer on it (the
  run ended without recording its result: the database was out of reach) is queued again, or failed once its
  attempts are used up;
- a ``queued`` row whose RQ job is not waiting (Redis restarted empty or was flushed, the queue was emptied from the
  dashboard, the job key was deleted, or the run gave its turn back) is enqueued again. A row whose RQ job is still
  waiting (in its queue, or held back for its owner's turn), being picked up or running is left alone, so no job is
  ever waiting twice.

RQ's own StartedJobRegistry clean-up covers neither: it knows only what Redis still holds, and it declares a
SimpleWorker's job abandoned only after the job timeout plus a minute.

Before them, the turns of the fair queue (gallery/fairqueue.py) that RQ still keeps for jobs whose rows have ended
are given back, so the owners' other jobs do not wait for RQ's own clean-up (release_ended_turns).

Whether a worker is alive is judged on Redis' clock alone, so machines whose clocks disagree cannot make a live worker
look dead or a dead one alive: each worker stores Redis' own time (TIME) in its heartbeat key, and the check compares
it with Redis' time when it reads it. RQ's ``last_heartbeat`` is the worker machine's clock, so it is not used.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rq.job import JobStatus
from rq.worker import Worker

from gallery import fairqueue, services
from gallery.models import IllegalTransitionError, StyleJob

log = logging.getLogger(__name__)

WORKER_STOPPED_MESSAGE = (
    "The worker painting this picture stopped before it finished, {attempts} times. Please try again, or pick a "
    "smaller size."
)
# Held back by the fair queue (services.enqueue_job) until the owner's earlier job ends: RQ pushes it then.
WAITING = (JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.RATE_LIMITED)
HEARTBEAT_KEY = "atelier:heartbeat:{}"


def _redis_seconds(time_reply) -> float:
    seconds, microseconds = time_reply
    return seconds + microseconds / 1_000_000


def beat(connection, worker_name: str, *, keep_for: int) -> None:
    """Record that the worker is alive, at Redis' time; the key goes away by itself ``keep_for`` s later."""
    connection.set(HEARTBEAT_KEY.format(worker_name), _redis_seconds(connection.time()), ex=keep_for)


def forget_heartbeat(connection, worker_name: str) -> None:
    connection.delete(HEARTBEAT_KEY.format(worker_name))


def heartbeat_age(connection, worker_name: str) -> float | None:
    """Seconds since the worker's last heartbeat, both ends read on Redis' clock; None without a heartbeat."""
    pipeline = connection.pipeline(transaction=False)
    pipeline.get(HEARTBEAT_KEY.format(worker_name))
    pipeline.time()
    last, now = pipeline.execute()
    return None if last is None else _redis_seconds(now) - float(last)


def _is_beating(connection, worker_name: str, stale_after: float) -> bool:
    age = heartbeat_age(connection, worker_name)
    return age is not None and age < stale_after


def find_live_worker(worker_name: str, *, connection, stale_after: float) -> Worker | None:
    """The worker, when RQ still knows it and it sent a heartbeat within ``stale_after`` seconds."""
    if not worker_name:
        return None
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection=connection)
    return worker if worker is not None and _is_beating(connection, worker_name, stale_after) else None


def live_workers(queue, *, stale_after: float | None = None) -> list[Worker]:
    """The workers listening on ``queue`` that sent a heartbeat within ``stale_after`` seconds."""
    stale_after = settings.WORKER_STALE_SECONDS if stale_after is None else stale_after
    return [worker for worker in Worker.all(queue=queue)
            if _is_beating(queue.connection, worker.name, stale_after)]


def _requeue(job: StyleJob, *, refund_attempt: bool) -> None:
    with transaction.atomic():
        job.mark_requeued(refund_attempt=refund_attempt)
        transaction.on_commit(partial(services.enqueue_job, job))


def recover_stuck_jobs(*, stale_after: float | None = None) -> list[StyleJob]:
    """Re-queue (or, after JOB_MAX_ATTEMPTS, fail) running rows whose run is over."""
    stale_after = settings.WORKER_STALE_SECONDS if stale_after is None else stale_after
    connection = services.queue_for(StyleJob.Method.FAST).connection
    recovered = []
    for job in StyleJob.objects.filter(status=StyleJob.Status.RUNNING):
        worker = find_live_worker(job.worker_id, connection=connection, stale_after=stale_after)
        try:
            if worker is not None:
                if worker.get_current_job_id() == str(job.pk):
                    continue
                # Alive and on to something else: the run could not record its end. Not the job's fault.
                log.warning("Re-queueing job %s: worker %s moved on without recording it", job.pk, job.worker_id)
                _requeue(job, refund_attempt=True)
            elif job.attempts < settings.JOB_MAX_ATTEMPTS:
                log.warning("Re-queueing job %s: worker %s is gone", job.pk, job.worker_id)
                _requeue(job, refund_attempt=False)
            else:
                log.warning("Failing job %s: worker %s is gone, attempts used up", job.pk, job.worker_id)
                with transaction.atomic():
                    job.mark_failed(WORKER_STOPPED_MESSAGE.format(attempts=job.attempts))
                    transaction.on_commit(partial(services.forget_rq_job, job.pk))
        except IllegalTransitionError:
            # Another worker's start-up check, or the job itself, got there first.
            continue
        recovered.append(job)
    return recovered


def _rq_job_is_live(job: StyleJob, queue, *, stale_after: float) -> bool:
    """True while the row's RQ job waits in its queue, is being picked up, or runs on a live worker.

    Read in the order a worker changes them (the job leaves the queue for the intermediate list, then becomes
    started), and the status read again last, so a job a worker picks up meanwhile is never taken for lost.
    """
    job_id = str(job.pk)
    rq_job = queue.fetch_job(job_id)
    if rq_job is None:
        return False
    status = rq_job.get_status()
    if status == JobStatus.QUEUED:
        if queue.get_job_position(job_id) is not None or job_id in queue.intermediate_queue.get_job_ids():
            return True
        status = rq_job.get_status()
    if status == JobStatus.STARTED:
        worker = find_live_worker(rq_job.worker_name or "", connection=queue.connection, stale_after=stale_after)
        return worker is not None and worker.get_current_job_id() == job_id
    return status in WAITING


def recover_lost_jobs(*, lost_after: float | None = None, stale_after: float | None = None) -> list[StyleJob]:
    """Enqueue again every queued row, queued at least ``lost_after`` seconds ago, whose RQ job is not live.

    The wait covers the moment between a row's commit and the web's enqueue, which comes right after it.
    """
    lost_after = settings.JOB_LOST_AFTER_SECONDS if lost_after is None else lost_after
    stale_after = settings.WORKER_STALE_SECONDS if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=lost_after)
    recovered = []
    for job in StyleJob.objects.filter(status=StyleJob.Status.QUEUED, queued_at__lte=cutoff).order_by("queued_at"):
        if _rq_job_is_live(job, services.queue_for(job.method), stale_after=stale_after):
            continue
        log.warning("Enqueueing job %s again: its RQ job was lost", job.pk)
        services.enqueue_job(job)
        recovered.append(job)
    return recovered


def release_ended_turns(*, lost_after: float | None = None) -> list[int]:
    """Give back the fair queue's turn of every job whose row ended at least ``lost_after`` seconds ago (or is gone)
    while RQ still has it waiting or started: the run's end never reached Redis (it was out of reach, or restarted
    from a copy older than the end). RQ would keep the turn until its own clean-up, minutes later, or, for a job it
    still has as started, until the job's timeout; the owner's other jobs would wait all that time."""
    lost_after = settings.JOB_LOST_AFTER_SECONDS if lost_after is None else lost_after
    cutoff = timezone.now() - timedelta(seconds=lost_after)
    released = []
    for queue in services.all_queues():
        taken = fairqueue.turns_taken(queue)
        going_on = set(StyleJob.objects.filter(pk__in=taken).filter(
            Q(status__in=[StyleJob.Status.QUEUED, StyleJob.Status.RUNNING]) | Q(finished_at__gt=cutoff)
        ).values_list("pk", flat=True))
        for job_id, registry in taken.items():
            if job_id in going_on:
                continue
            log.warning("Job %s ended, but RQ still held its owner's turn; released", job_id)
            services.forget_rq_job(job_id)
            registry.release_stale_and_enqueue(str(job_id))  # when its RQ job was already gone
            released.append(job_id)
    return released


def recover_jobs() -> list[StyleJob]:
    release_ended_turns()
    return recover_stuck_jobs() + recover_lost_jobs()
