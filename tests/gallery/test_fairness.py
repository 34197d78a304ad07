"""Quotas, the fair queue and rate limits, against the real PostgreSQL and Redis."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from gallery import services
from gallery.models import StyleJob
from gallery.quotas import QuotaError
from gallery.worker import AtelierWorker
from tests.gallery.factories import PASSWORD, job_form
from tests.gallery.test_recovery import _wait_for
from tests.gallery.test_worker_registration import _start_worker, _stop_worker

pytestmark = pytest.mark.django_db


def _post_job(client, preset):
    return client.post(
        reverse("gallery:job_new"),
        job_form({"preset": preset.pk}),
        follow=True,
    )


def test_it_refuses_a_job_over_the_active_quota_with_a_message(owner, make_job, clients, preset, settings):
    settings.JOB_QUOTA_ACTIVE = 2
    make_job(owner), make_job(owner)
    response = _post_job(clients["owner"], preset)
    assert response.status_code == 200
    assert "the most you can have at once" in response.content.decode()
    assert StyleJob.objects.filter(owner=owner).count() == 2


def test_it_frees_the_quota_when_a_job_ends(owner, make_job, clients, preset, settings):
    settings.JOB_QUOTA_ACTIVE = 1
    make_job(owner).mark_canceled()
    _post_job(clients["owner"], preset)
    assert StyleJob.objects.filter(owner=owner, status="queued").count() == 1


def test_it_refuses_a_job_over_the_daily_quota(owner, make_job, clients, preset, settings):
    settings.JOB_QUOTA_DAILY = 2
    for _ in range(2):
        job = make_job(owner)
        job.mark_running("w")
        job.mark_failed("boom")
    response = _post_job(clients["owner"], preset)
    assert "the daily limit" in response.content.decode()
    assert StyleJob.objects.filter(owner=owner).count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_holds_the_quota_when_submissions_race(owner, make_job, settings):
    settings.JOB_QUOTA_ACTIVE = 2
    errors = []

    def submit():
        try:
            make_job(owner)
        except QuotaError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert StyleJob.objects.filter(owner=owner).count() == 2 and len(errors) == 4


@pytest.mark.django_db(transaction=True)
def test_it_starts_another_users_job_within_the_first_few_of_a_burst(
    owner, other, make_job, redis_queue, settings
):
    settings.JOB_QUOTA_ACTIVE = 100
    burst = [make_job(owner) for _ in range(50)]
    theirs = make_job(other)
    assert services.queue_position(theirs) == 2
    AtelierWorker([redis_queue], connection=redis_queue.connection).work(burst=True, max_jobs=2)
    theirs.refresh_from_db()
    assert theirs.status == StyleJob.Status.DONE
    assert StyleJob.objects.filter(pk__in=[job.pk for job in burst], status="done").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_reports_queue_positions_in_run_order(owner, other, make_job, redis_queue):
    first, second, third = make_job(owner), make_job(owner), make_job(other)
    assert [services.queue_position(job) for job in (first, second, third)] == [1, 3, 2]
    AtelierWorker([redis_queue], connection=redis_queue.connection).work(burst=True, max_jobs=1)
    for job in (first, second, third):
        job.refresh_from_db()
    assert [services.queue_position(job) for job in (first, second, third)] == [None, 2, 1]


def test_it_rate_limits_failed_logins(client, owner, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": [3, 60]}
    url = reverse("login")
    statuses = [client.post(url, {"username": owner.username, "password": "wrong"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.post(url, {"username": owner.username, "password": PASSWORD}).status_code == 429
    assert client.get(url).status_code == 200


def test_it_rate_limits_sign_ups(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": [1, 3600]}
    data = {"email": "a@example.com", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post(reverse("gallery:signup"), {"username": "first", **data}).status_code == 302
    response = client.post(reverse("gallery:signup"), {"username": "second", **data})
    assert response.status_code == 429 and "Too many accounts made from your address" in response.content.decode()


def test_it_rate_limits_uploads_per_user(clients, preset, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": [1, 3600]}
    settings.JOB_QUOTA_ACTIVE = 10
    _post_job(clients["owner"], preset)
    assert clients["owner"].post(reverse("gallery:job_new"), {}).status_code == 429
    assert clients["other"].post(reverse("gallery:profile_edit"), {"display_name": "Oscar"}).status_code == 302


def test_it_keeps_every_choice_when_the_upload_limit_refuses_a_job(clients, preset, settings, decoded_sizes):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": [1, 3600]}
    settings.JOB_QUOTA_ACTIVE = 10
    _post_job(clients["owner"], preset)
    decoded_sizes.clear()
    response = clients["owner"].post(
        reverse("gallery:job_new"),
        job_form({"preset": preset.pk, "weight": "0.7"}, {"preset": "", "weight": "0.3"}, method="optimize",
                 max_side="512", strength="0.45", preserve_color="on", style_scale="352"),
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many attempts: the limit is 1 every hour. Please wait and try again." in page
    assert '<form method="post" enctype="multipart/form-data" class="job-form"' in page
    assert f'name="styles-0-preset" value="{preset.pk}" id="id_styles-0-preset_0" checked' in page
    assert 'name="styles-TOTAL_FORMS" value="2"' in page and 'name="styles-0-weight" value="0.7"' in page
    assert '<option value="optimize" selected>' in page
    assert 'name="max_side" value="512" id="id_max_side_1" required checked' in page
    assert 'value="0.45"' in page and 'name="preserve_color" id="id_preserve_color" checked' in page
    assert '<option value="352" selected>' in page
    assert decoded_sizes == [], "a refused submission's uploads are not read"
    assert StyleJob.objects.count() == 1


def test_it_rate_limits_likes_with_a_json_answer(owner, make_artwork, clients, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "like": [2, 60]}
    url = reverse("gallery:artwork_like", args=[make_artwork(owner, "public").pk])
    for _ in range(2):
        assert clients["other"].post(url, {"liked": True}, content_type="application/json").status_code == 200
    response = clients["other"].post(url, {"liked": False}, content_type="application/json")
    assert response.status_code == 429 and "Too many attempts" in response.json()["error"]


def test_it_keeps_every_choice_when_the_quota_refuses_a_job(owner, make_job, clients, preset, settings):
    settings.JOB_QUOTA_ACTIVE = 1
    make_job(owner)
    response = clients["owner"].post(
        reverse("gallery:job_new"),
        job_form({"preset": preset.pk}, method="optimize", max_side="512", strength="0.45", preserve_color="on"),
    )
    page = response.content.decode()
    assert "at once" in page
    assert f'name="styles-0-preset" value="{preset.pk}" id="id_styles-0-preset_0" checked' in page
    assert '<option value="optimize" selected>' in page
    assert 'name="max_side" value="512" id="id_max_side_1" required checked' in page
    assert 'value="0.45"' in page and 'name="preserve_color" id="id_preserve_color" checked' in page


@pytest.mark.django_db(transaction=True)
def test_it_runs_another_users_first_job_before_the_second_of_a_user_whose_job_runs(
    owner, other, make_job, redis_queue, settings
):
    settings.JOB_QUOTA_ACTIVE = 10
    first, second = make_job(owner), make_job(owner)
    # Many iterations: the first job keeps that worker busy for the whole test.
    busy = _start_worker({"STYLECORE_OPTIMIZE": '{"stage_iterations": [5000]}'})
    try:
        _wait_for(lambda: StyleJob.objects.filter(pk=first.pk, status=StyleJob.Status.RUNNING).exists(), 120,
                  "the first job to start")
        theirs = make_job(other)
        assert [services.queue_position(job) for job in (second, theirs)] == [2, 1]
        AtelierWorker([redis_queue], connection=redis_queue.connection).work(burst=True, max_jobs=1)
        theirs.refresh_from_db()
        second.refresh_from_db()
        assert (theirs.status, second.status) == (StyleJob.Status.DONE, StyleJob.Status.QUEUED)
    finally:
        _stop_worker(busy)
