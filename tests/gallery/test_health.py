"""/health/: the database, Redis, storage, a live worker on every queue and the oldest waiting job, checked for real."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import django_rq
import pytest
from django.conf import settings
from django.db.models.functions import Now

from gallery import recovery
from gallery.models import StyleJob
from tests.gallery.test_recovery import _test_database_url, _wait_for

pytestmark = pytest.mark.django_db(transaction=True)
QUEUES = (settings.STYLE_QUEUE, settings.OPTIMIZE_QUEUE)


@pytest.fixture
def worker(redis_queue):
    """A real worker process on both queues, alive once RQ lists it with a fresh heartbeat."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", *QUEUES, "--worker-class", "gallery.worker.AtelierWorker",
         "--serializer", settings.RQ_SERIALIZER],
        cwd=settings.BASE_DIR, env={**os.environ, "DATABASE_URL": _test_database_url()},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: all(recovery.live_workers(django_rq.get_queue(q)) for q in QUEUES), 120, "the worker")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@pytest.fixture
def client(live_server):
    """/health/ asked over HTTP, as a load balancer does. (The async view cannot run through Django's test client in a
    thread where the browser tests' Playwright keeps an event loop.)"""
    return live_server.url


def _get(base_url: str) -> tuple[int, str]:
    request = urllib.request.Request(f"{base_url}/health/", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _health(client):
    status, text = _get(client)
    return status, json.loads(text)


def test_it_passes_with_every_service_up_and_a_worker_on_each_queue(client, worker):
    status, body = _health(client)

    assert status == 200, body
    assert set(body.values()) == {"OK"}
    assert {"Database(alias='default')", "Cache(alias='default')", "Storage(alias='default')",
            "Workers(queue='styles')", "Workers(queue='optimize')", "QueueRedis(queue='styles')",
            f"QueueWait(max_minutes={settings.HEALTH_QUEUE_MAX_WAIT_MINUTES})"} <= set(body)


def test_it_fails_once_the_only_worker_died(client, worker, settings):
    settings.WORKER_STALE_SECONDS = 2
    assert _health(client)[0] == 200  # an idle worker keeps beating
    worker.send_signal(signal.SIGKILL)
    worker.wait()

    _wait_for(lambda: _health(client)[0] == 500, 10, "the health check to notice")
    status, body = _health(client)
    assert body["Workers(queue='styles')"] == "Unavailable: No live worker takes jobs from the queue 'styles'."
    assert body["Workers(queue='optimize')"].startswith("Unavailable: No live worker")
    assert body["Database(alias='default')"] == "OK"


def test_it_fails_without_any_worker(client, redis_queue):
    status, body = _health(client)
    assert status == 500
    assert body["Workers(queue='styles')"] == "Unavailable: No live worker takes jobs from the queue 'styles'."


def test_it_fails_when_the_oldest_waiting_job_waited_too_long(client, owner, make_job, settings):
    # No worker here, so the jobs stay queued (the Workers checks fail meanwhile); the oldest one counts.
    settings.HEALTH_QUEUE_MAX_WAIT_MINUTES = 30
    waited = make_job(owner)
    make_job(owner)  # a newer waiting job: the check must take the oldest
    StyleJob.objects.filter(pk=waited.pk).update(queued_at=Now() - timedelta(minutes=5))
    assert _health(client)[1]["QueueWait(max_minutes=30)"] == "OK"

    StyleJob.objects.filter(pk=waited.pk).update(queued_at=Now() - timedelta(minutes=45))
    status, body = _health(client)

    assert status == 500
    assert body["QueueWait(max_minutes=30)"] == "Unavailable: The oldest waiting job has waited 45 minutes (more than 30)."


def test_it_names_no_host_or_credential(client, redis_queue):
    text = _get(client)[1]
    database, redis = urlsplit(os.environ["DATABASE_URL"]), urlsplit(os.environ["REDIS_URL"])
    secrets = [settings.SECRET_KEY, database.path, redis.path, database.hostname, str(database.port)]
    assert not [secret for secret in secrets if secret and secret in text]
