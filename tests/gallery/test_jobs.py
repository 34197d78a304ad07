"""The whole job path through real Redis and a real burst worker, ending in a real stylization."""

import time

import pytest
from PIL import Image
from rq.registry import FailedJobRegistry

from gallery import jobs, services
from gallery.models import Artwork, SourceImage, StyleJob
from tests.gallery.factories import stored_files

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_a_queued_job_to_an_artwork_with_a_thumbnail(owner, make_job, run_worker, redis_queue):
    job = make_job(owner)
    assert redis_queue.job_ids == [str(job.pk)]

    run_worker()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.DONE
    assert job.progress == 100
    assert job.started_at and job.finished_at
    artwork = Artwork.objects.get(job=job)
    with artwork.image.open("rb") as handle, Image.open(handle) as result:
        assert result.mode == "RGB" and max(result.size) == 64
    with artwork.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert thumb.format == "JPEG"
    with job.content.file.open("rb") as handle, Image.open(handle) as content:
        assert result.size == content.size or max(result.size) < max(content.size)


def test_it_fails_the_row_with_the_engines_message_on_a_known_engine_error(owner, make_job, run_worker, redis_queue):
    # The test preset has a painting but no trained network, so the fast method cannot run.
    job = make_job(owner, method="fast")

    run_worker()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.FAILED
    assert "is not installed" in job.error
    assert not Artwork.objects.filter(job=job).exists()
    assert FailedJobRegistry(queue=redis_queue).get_job_ids() == []


def test_it_fails_the_row_and_lets_rq_record_an_unexpected_error(owner, make_job, run_worker, redis_queue):
    job = make_job(owner)
    job.content.file.storage.delete(job.content.file.name)

    run_worker()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.FAILED
    assert job.error == jobs.UNEXPECTED_MESSAGE
    assert FailedJobRegistry(queue=redis_queue).get_job_ids() == [str(job.pk)]


@pytest.fixture
def endless_optimize(settings):
    """An engine whose optimize method would run for minutes, so a 1 s timeout always hits it."""
    settings.STYLECORE_OPTIMIZE = {"stage_iterations": [100000]}
    jobs.get_engine.cache_clear()
    yield
    jobs.get_engine.cache_clear()


def test_it_fails_the_row_when_the_job_times_out(owner, make_job, run_worker, redis_queue, settings, endless_optimize):
    settings.STYLE_JOB_TIMEOUT = 1
    job = make_job(owner, max_side=512)

    run_worker()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.FAILED
    assert job.error == jobs.TIMEOUT_MESSAGE
    assert FailedJobRegistry(queue=redis_queue).get_job_ids() == [str(job.pk)]


def test_it_removes_a_canceled_job_from_the_queue(owner, make_job, run_worker, redis_queue):
    job = make_job(owner)

    services.cancel_job(job)
    run_worker()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.CANCELED
    assert redis_queue.job_ids == []
    assert not Artwork.objects.exists()


def test_it_skips_a_job_canceled_after_it_was_dequeued(owner, make_job, run_worker, redis_queue):
    job = make_job(owner)
    job.mark_canceled()  # the row changed, but the RQ job is still waiting

    run_worker()

    job.refresh_from_db()
    assert job.status == StyleJob.Status.CANCELED and job.started_at is None
    assert not Artwork.objects.exists()


def test_it_loads_the_engine_once_per_worker_process(owner, make_job, run_worker):
    jobs.get_engine.cache_clear()
    first, second = make_job(owner), make_job(owner)

    run_worker()

    assert StyleJob.objects.filter(pk__in=[first.pk, second.pk], status=StyleJob.Status.DONE).count() == 2
    assert jobs.get_engine.cache_info().misses == 1


def test_it_throttles_progress_writes(owner, make_job):
    job = make_job(owner)
    job.mark_running("w")
    report = jobs.ProgressReporter(job)

    report(10, 100)
    report(50, 100)
    assert StyleJob.objects.get(pk=job.pk).progress == 9
    time.sleep(jobs.PROGRESS_INTERVAL_SECONDS + 0.05)
    report(50, 100)
    assert StyleJob.objects.get(pk=job.pk).progress == 47


def test_it_deletes_an_artwork_with_its_files_and_uploads(owner, make_job, run_worker):
    job = make_job(owner)
    run_worker()
    artwork = Artwork.objects.get(job=job)
    names = {artwork.image.name, artwork.thumbnail.name, job.content.file.name}
    assert names <= stored_files()

    services.delete_artwork(artwork)

    assert not names & stored_files()
    assert not StyleJob.objects.filter(pk=job.pk).exists()
    assert not SourceImage.objects.exists()
