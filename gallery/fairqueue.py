"""Users take turns on each RQ queue, so one user's burst of jobs cannot starve everyone else.

RQ's own concurrency limit does it (``rq.RateLimit``, RQ 3.0): every job carries its owner's key for its queue, RQ
lets QUEUE_SLOTS_PER_USER of an owner's jobs into the queue's list or running at once and holds the rest back, and
when one ends it pushes the owner's next at the back of the list, atomically in Redis. So with user A's 50 jobs
waiting, user B's first job runs second; and while A's job runs, A's next waits behind everyone else's first.
"""

from django.conf import settings
from django.db.models import Case, F, Value, When, Window
from django.db.models.functions import RowNumber
from rq import RateLimit
from rq.rate_limit import RateLimitRegistry

from gallery.models import StyleJob


def share(queue, owner_id: int) -> RateLimit:
    """The owner's share of ``queue``, given to each of their jobs as it is enqueued."""
    return RateLimit(key=f"{queue.name}:owner:{owner_id}", concurrency=settings.QUEUE_SLOTS_PER_USER)


def _registry(queue, owner_id: int) -> RateLimitRegistry:
    return RateLimitRegistry(share(queue, owner_id).key, queue.connection)


def release_stale_slot(queue, owner_id: int, job_id: str) -> None:
    """Free the slot an earlier RQ job ``job_id`` still holds although its key is gone (deleted, or emptied with its
    queue): RQ frees such a slot only at its next clean-up, minutes later."""
    _registry(queue, owner_id).release_stale_and_enqueue(job_id)


def _shares(queue) -> list[RateLimitRegistry]:
    return [registry for registry in RateLimitRegistry.all(queue.connection)
            if registry.key.startswith(f"{queue.name}:owner:")]


def waiting_count(queue) -> int:
    """Jobs waiting on ``queue``: in RQ's list, and held back for their owner's turn."""
    return queue.count + sum(registry.get_rate_limited_job_count() for registry in _shares(queue))


def turns_taken(queue) -> dict[int, RateLimitRegistry]:
    """The jobs that hold an owner's turn on ``queue`` (waiting in its list or started, for RQ), with its registry."""
    return {int(job_id): registry for registry in _shares(queue) for job_id in registry.get_allowed_job_ids()}


def held_back_position(job: StyleJob, queue, listed: list[str], methods: list[str]) -> int | None:
    """The place of a job RQ holds back (None if it is not): after the ``listed`` ids of the queue's list, in the
    order the owners' turns give. A user's n-th job of the queue (from 0, running ones first) waits for round
    n // QUEUE_SLOTS_PER_USER, and within a round the earlier job goes first. ``methods`` are the queue's."""
    if str(job.pk) not in _registry(queue, job.owner_id).get_rate_limited_job_ids():
        return None  # being picked up, or lost until recovery enqueues it again
    active = StyleJob.objects.filter(
        method__in=methods, status__in=[StyleJob.Status.QUEUED, StyleJob.Status.RUNNING]
    ).annotate(turn=Window(
        RowNumber(), partition_by=[F("owner_id")],
        order_by=[Case(When(status=StyleJob.Status.RUNNING, then=Value(0)), default=Value(1)), "queued_at", "pk"],
    )).values_list("pk", "status", "turn", "queued_at")
    order = [pk for *_, pk in sorted(((turn - 1) // settings.QUEUE_SLOTS_PER_USER, queued_at, pk)
                                     for pk, status, turn, queued_at in active
                                     if status == StyleJob.Status.QUEUED and str(pk) not in listed)]
    return len(listed) + order.index(job.pk) + 1 if job.pk in order else None  # not in order: it has just started
