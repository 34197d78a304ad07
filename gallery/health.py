"""The checks behind /health/ (django-health-check): can this site take and finish jobs right now?

The library's checks cover the database, the cache (the Redis server that also holds the rate limits) and the file
storage; ours cover RQ: its Redis, a live worker on every queue, and how long the oldest waiting job has waited. The
page is public, so messages name no host, address or credential: the details go to the log.
"""

import dataclasses
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db.models import DurationField, ExpressionWrapper, Min
from django.db.models.functions import Now
from health_check import checks
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.exceptions import RedisError

from gallery import recovery
from gallery.models import StyleJob


@dataclasses.dataclass
class Database(checks.Database):
    """The library's ``SELECT 1``, with a message that does not repeat the driver's (it names the server)."""

    def run(self):
        try:
            super().run()
        except ServiceUnavailable as exc:
            raise ServiceUnavailable("The database did not answer.") from exc


@dataclasses.dataclass
class QueueRedis(HealthCheck):
    """RQ's Redis answers, through the very connection the queues use."""

    queue: str

    def run(self):
        try:
            django_rq.get_connection(self.queue).ping()
        except RedisError as exc:
            raise ServiceUnavailable("The job queue's Redis did not answer.") from exc


@dataclasses.dataclass
class Workers(HealthCheck):
    """At least one worker listens on the queue and sent a heartbeat (on Redis' clock) within WORKER_STALE_SECONDS."""

    queue: str

    def run(self):
        try:
            alive = recovery.live_workers(django_rq.get_queue(self.queue))
        except RedisError as exc:
            raise ServiceUnavailable("The job queue's Redis did not answer.") from exc
        if not alive:
            raise ServiceUnavailable(f"No live worker takes jobs from the queue {self.queue!r}.")


@dataclasses.dataclass
class QueueWait(HealthCheck):
    """The oldest queued job has waited less than ``max_minutes`` (HEALTH_QUEUE_MAX_WAIT_MINUTES).

    Read from the rows, the source of truth, so a job lost from Redis counts too; the wait is measured on the
    database's clock.
    """

    max_minutes: int

    async def run(self):
        waiting = StyleJob.objects.filter(status=StyleJob.Status.QUEUED)
        longest = (await waiting.aaggregate(
            wait=ExpressionWrapper(Now() - Min("queued_at"), output_field=DurationField())
        ))["wait"]
        if longest is not None and longest > timedelta(minutes=self.max_minutes):
            raise ServiceUnavailable(
                f"The oldest waiting job has waited {longest.total_seconds() // 60:.0f} minutes "
                f"(more than {self.max_minutes})."
            )


class SiteHealthView(HealthCheckView):
    """JSON with ``Accept: application/json`` or ``?format=json``; 200 when every check passes, 500 otherwise."""

    def get_checks(self):
        queues = (settings.STYLE_QUEUE, settings.OPTIMIZE_QUEUE)
        yield Database()
        yield checks.Cache()
        yield checks.Storage()
        for queue in queues:
            yield QueueRedis(queue=queue)
            yield Workers(queue=queue)
        yield QueueWait(max_minutes=settings.HEALTH_QUEUE_MAX_WAIT_MINUTES)

