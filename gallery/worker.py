"""The RQ worker class Atelier runs: ``manage.py rqworker --worker-class gallery.worker.AtelierWorker``."""

import logging
import threading

from django.conf import settings
from redis.exceptions import RedisError
from rq.worker import SimpleWorker, WorkerStatus

from gallery import services

log = logging.getLogger(__name__)


class AtelierWorker(SimpleWorker):
    """Runs jobs in the worker process itself, so the engine gallery.jobs caches loads once per worker.

    RQ's default Worker forks a fresh work-horse per job, which would load the networks
    again for every picture. SimpleWorker does not heartbeat while a job runs, so a
    thread does it here: that keeps RQ from treating long jobs as abandoned, and lets
    services.recover_stuck_jobs tell a busy worker from a dead one. Job timeouts still
    work: SimpleWorker arms SIGALRM in this, the main, thread.
    """

    def work(self, *args, **kwargs):
        recovered = services.recover_stuck_jobs()
        if recovered:
            log.warning("Recovered %d stuck job(s) at start-up", len(recovered))
        return super().work(*args, **kwargs)

    def execute_job(self, job, queue):
        execution = self.prepare_execution(job)
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, execution, stop), daemon=True)
        beat.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            stop.set()
            beat.join()
        self.set_state(WorkerStatus.IDLE)

    def _beat(self, job, execution, stop: threading.Event) -> None:
        while not stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                self.maintain_heartbeats(job, execution)
            except RedisError:
                log.exception("Heartbeat for job %s failed; retrying", job.id)
