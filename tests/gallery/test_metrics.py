"""/metrics: django-prometheus' request and database metrics, and the site's job metrics after real runs."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gallery.models import StyleJob

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "scrape-me-please"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def _scrape(client) -> dict:
    """{(name, labels as a sorted tuple): value} of one scrape."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_it_counts_finished_and_failed_jobs_with_their_durations(client, metrics_on, owner, make_job, run_worker):
    done = [make_job(owner), make_job(owner)]  # the optimize method, 64 px
    broken = make_job(owner, method="fast")  # the suite's preset has no trained network: this job fails
    run_worker()
    assert {job.status for job in StyleJob.objects.filter(pk__in=[j.pk for j in done])} == {StyleJob.Status.DONE}
    assert StyleJob.objects.get(pk=broken.pk).status == StyleJob.Status.FAILED

    samples = _scrape(client)

    assert samples["atelier_jobs_finished_total", (("method", "optimize"),)] == 2
    assert samples["atelier_jobs_failed_total", (("method", "optimize"),)] == 0
    assert samples["atelier_jobs_finished_total", (("method", "fast"),)] == 0
    assert samples["atelier_jobs_failed_total", (("method", "fast"),)] == 1
    assert samples["atelier_job_duration_seconds_count", (("method", "optimize"),)] == 2
    assert samples["atelier_job_duration_seconds_count", (("method", "fast"),)] == 1
    assert samples["atelier_job_duration_seconds_bucket", (("le", "+Inf"), ("method", "optimize"))] == 2
    assert 0 < samples["atelier_job_duration_seconds_sum", (("method", "optimize"),)] < 900
    assert samples["atelier_queue_length", (("queue", "optimize"),)] == 0
    assert samples["atelier_workers", (("queue", "styles"),)] == 0  # the burst worker has gone


def test_it_reports_waiting_jobs_and_request_and_database_metrics(client, metrics_on, owner, make_job, redis_queue):
    make_job(owner)
    make_job(owner)
    client.get("/")

    samples = _scrape(client)

    assert samples["atelier_queue_length", (("queue", "optimize"),)] == 2
    assert samples["atelier_queue_length", (("queue", "styles"),)] == 0
    assert samples["django_http_requests_total_by_method_total", (("method", "GET"),)] >= 1
    assert any(name == "django_db_execute_total" and value > 0 for (name, _), value in samples.items())


def test_it_answers_only_the_metrics_token(client, settings, redis_queue):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"] == "Bearer"
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
