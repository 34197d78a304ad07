"""Prometheus metrics at /metrics: django-prometheus' request and database metrics of the web processes, and the
site's job metrics, read from Redis when Prometheus scrapes.

Jobs run in worker processes, on other machines too, which Prometheus does not scrape. So a worker adds each job it
finishes to counters in one Redis hash (HINCRBY in a MULTI: atomic across processes and machines), and the collector
below reads that hash, the queue lengths and the live workers at scrape time. Every web machine reports the same
site-wide figures, they survive worker restarts (Redis keeps them; a flush starts them again from zero, which
Prometheus reads as a counter reset), and no directory has to be shared. prometheus_client's multiprocess mode would
cover processes on one machine only; it is used for what is per machine: the gunicorn processes' request metrics
(PROMETHEUS_MULTIPROC_DIR, set by ``scripts.run --role web``).
"""

import hmac
import logging
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import REGISTRY, CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString
from redis.exceptions import RedisError

from gallery import fairqueue, recovery, services
from gallery.models import StyleJob

log = logging.getLogger(__name__)

METRICS_KEY = "atelier:metrics"
# Seconds: a fast job takes about one, an optimize job minutes, and STYLE_JOB_TIMEOUT stops one at 15 minutes.
DURATION_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900)
ENDED = (StyleJob.Status.DONE, StyleJob.Status.FAILED)


def record_job_end(connection, *, method: str, status: str, seconds: float) -> None:
    """Count a run that ended ``done`` or ``failed`` after ``seconds`` in the worker."""
    pipeline = connection.pipeline()  # MULTI: a scrape sees the whole record or none of it
    pipeline.hincrby(METRICS_KEY, f"{status}:{method}", 1)
    pipeline.hincrbyfloat(METRICS_KEY, f"seconds_sum:{method}", seconds)
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            pipeline.hincrby(METRICS_KEY, f"seconds_le:{method}:{bound}", 1)
    pipeline.execute()


def collect_site_metrics():
    """The job and queue metric families, read now from Redis."""
    connection = services.queue_for(StyleJob.Method.FAST).connection
    values = {key.decode(): float(value) for key, value in connection.hgetall(METRICS_KEY).items()}
    finished = CounterMetricFamily("atelier_jobs_finished", "Jobs whose picture was saved.", labels=["method"])
    failed = CounterMetricFamily("atelier_jobs_failed", "Jobs that failed, with a message to their owner.",
                                 labels=["method"])
    duration = HistogramMetricFamily("atelier_job_duration_seconds",
                                     "How long a job ran in its worker, done or failed.", labels=["method"])
    for method in StyleJob.Method.values:
        done, fails = values.get(f"done:{method}", 0), values.get(f"failed:{method}", 0)
        finished.add_metric([method], done)
        failed.add_metric([method], fails)
        buckets = [(floatToGoString(bound), values.get(f"seconds_le:{method}:{bound}", 0)) for bound in DURATION_BUCKETS]
        duration.add_metric([method], [*buckets, ("+Inf", done + fails)],
                            sum_value=values.get(f"seconds_sum:{method}", 0))
    waiting = GaugeMetricFamily("atelier_queue_length", "Jobs waiting in each RQ queue, in its list or held back "
                                "for their owner's turn.", labels=["queue"])
    workers = GaugeMetricFamily("atelier_workers", "Workers with a fresh heartbeat, per queue.", labels=["queue"])
    for queue in services.all_queues():
        waiting.add_metric([queue.name], fairqueue.waiting_count(queue))
        workers.add_metric([queue.name], len(recovery.live_workers(queue)))
    return [finished, failed, duration, waiting, workers]


class _Scrape:
    """What one scrape answers: the web processes' own metrics, then the site's."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()
        try:
            yield from collect_site_metrics()
        except RedisError:
            # The request metrics are still worth having; /health/ tells what is wrong with Redis.
            log.exception("Job metrics left out of this scrape: Redis did not answer")


def _process_registry():
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # every gunicorn process of this machine
    return registry


def metrics_view(request):
    """Prometheus' text format, for ``Authorization: Bearer <METRICS_TOKEN>`` only; 404 while no token is set."""
    if not settings.METRICS_TOKEN:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    sent = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(sent, f"Bearer {settings.METRICS_TOKEN}".encode()):
        return HttpResponse("Send the metrics token as 'Authorization: Bearer <token>'.\n", status=401,
                            content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(generate_latest(_Scrape(_process_registry())), content_type=CONTENT_TYPE_LATEST)
