"""The RQ worker class Atelier runs (scripts/run.py starts it):
``manage.py rqworker styles --worker-class gallery.worker.AtelierWorker --serializer rq.serializers.JSONSerializer``.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError
from rq import worker_registration
from rq.serializers import resolve_serializer
from rq.worker import SimpleWorker, WorkerStatus

from gallery import metrics, recovery, services
from gallery.models import StyleJob

log = logging.getLogger(__name__)


class AtelierWorker(SimpleWorker):
    """Runs jobs in the worker process itself, so the engine gallery.jobs caches loads once per worker.

    RQ's default Worker forks a fresh work-horse per job, which would load the networks
    again for every picture. SimpleWorker does not heartbeat while a job runs, so a
    thread does it here: that keeps RQ from treating long jobs as abandoned. Job timeouts still
    work: SimpleWorker arms SIGALRM in this, the main, thread.

    From its birth to its death the worker also keeps a heartbeat on Redis' clock (gallery.recovery.beat), busy or
    idle, every WORKER_HEARTBEAT_SECONDS: that is what recovery and /health/ judge a worker alive by, whatever the
    clocks of the machines say. With it, the worker registers again when Redis has forgotten it (restarted empty,
    flushed): RQ writes a worker's registration once, at birth, so it would vanish from the dashboard, /health/ and
    recovery, which would take its running job for abandoned and queue it a second time.
    """

    def __init__(self, *args, serializer=settings.RQ_SERIALIZER, **kwargs):
        # rqworker's default is pickle: a worker with it could not read the site's JSON jobs, so it must not start.
        if resolve_serializer(serializer) is not resolve_serializer(settings.RQ_SERIALIZER):
            raise ImproperlyConfigured(f"Start the worker with --serializer {settings.RQ_SERIALIZER}.")
        super().__init__(*args, serializer=serializer, **kwargs)
        # Between birth and death; the lock keeps a registration again from crossing the death.
        self._registered = False
        self._registration = threading.Lock()
        self._running = None  # (job, execution) while a job runs

    def work(self, *args, **kwargs):
        # Imported here: gallery.jobs loads stylecore, which only a worker that runs jobs needs.
        from gallery.jobs import check_weights_at_start

        try:
            check_weights_at_start()
            recovered = recovery.recover_jobs()
        except (DatabaseError, RedisError):
            # Not fatal: the periodic check (manage.py recover_jobs --every) does it once the server is back.
            log.exception("Start-up job check failed")
        else:
            if recovered:
                log.warning("Recovered %d job(s) at start-up", len(recovered))
        stop = threading.Event()
        life = threading.Thread(target=self._beat_while_alive, args=(stop,), daemon=True)
        life.start()
        try:
            return super().work(*args, **kwargs)
        finally:
            stop.set()
            life.join()

    def register_birth(self):
        super().register_birth()
        recovery.beat(self.connection, self.name, keep_for=self._heartbeat_kept_for())
        self._registered = True

    def register_death(self):
        with self._registration:
            self._registered = False
        recovery.forget_heartbeat(self.connection, self.name)
        super().register_death()

    def register_again_if_forgotten(self) -> bool:
        """Write this worker's registration again, with its running job, when Redis no longer has it."""
        with self._registration:
            if not self._registered or self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
                return False
            running = self._running
            state = WorkerStatus.BUSY if running else WorkerStatus.IDLE
            with self.connection.pipeline() as pipeline:
                pipeline.hset(self.key, mapping={**self.serialize(), "state": state})
                worker_registration.register(self, pipeline)
                pipeline.expire(self.key, self.worker_ttl + 60)
                if running is not None:
                    job, execution = running
                    ttl = int(self.get_heartbeat_ttl(job))
                    job.save(pipeline=pipeline)
                    execution.save(ttl=ttl, pipeline=pipeline)
                    job.started_job_registry.add_execution(execution, pipeline=pipeline, ttl=ttl, xx=False)
                    pipeline.sadd(self.executions_key, execution.composite_key)
                    pipeline.expire(self.executions_key, ttl + 60)
                pipeline.execute()
        log.warning("Worker %s: Redis had lost its registration (restarted empty or flushed); registered again%s",
                    self.name, f" with job {running[0].id}" if running else "")
        return True

    @staticmethod
    def _heartbeat_kept_for() -> int:
        # Only so that a dead worker's key goes away; being alive is judged by the time stored in it.
        return settings.WORKER_STALE_SECONDS + 60

    def _beat_while_alive(self, stop: threading.Event) -> None:
        while not stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                self.register_again_if_forgotten()
                recovery.beat(self.connection, self.name, keep_for=self._heartbeat_kept_for())
            except RedisError:
                log.exception("Heartbeat of worker %s failed; retrying", self.name)

    def execute_job(self, job, queue):
        execution = self.prepare_execution(job)
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, execution, stop), daemon=True)
        beat.start()
        started_at, started = timezone.now(), time.monotonic()
        self._running = (job, execution)
        try:
            self.perform_job(job, queue, execution)
        finally:
            stop.set()
            beat.join()
            self._after_run(job.id, started_at, time.monotonic() - started)
        self.set_state(WorkerStatus.IDLE)

    def handle_execution_ended(self, job, queue, heartbeat_ttl):
        # Before RQ records the end: a registration again from then on must not write the job back as started.
        with self._registration:
            self._running = None
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    def _after_run(self, job_id: str, started_at, seconds: float) -> None:
        """Read the row the run left behind. Queued (a cold shutdown): the run gave its turn back, so enqueue it again
        right away; done or failed by this very run: count it for /metrics.

        Only now, once RQ has recorded the end of this run, so that record cannot overwrite the new one.
        """
        try:
            row = StyleJob.objects.filter(pk=int(job_id)).first()
            if row is None:
                return
            if row.status == StyleJob.Status.QUEUED:
                services.enqueue_job(row)
            elif row.status in metrics.ENDED and row.worker_id == self.name and row.started_at >= started_at:
                metrics.record_job_end(self.connection, method=row.method, status=row.status, seconds=seconds)
        except (DatabaseError, RedisError):
            log.exception("Could not enqueue again or count job %s; the periodic check enqueues it if need be", job_id)

    def _beat(self, job, execution, stop: threading.Event) -> None:
        while not stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                self.maintain_heartbeats(job, execution)
            except RedisError:
                log.exception("Heartbeat for job %s failed; retrying", job.id)
