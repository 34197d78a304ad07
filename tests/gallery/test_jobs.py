"""The whole job path through real Redis and a real burst worker, ending in a real stylization."""

import pytest
from PIL import Image

from gallery.models import Artwork, StyleJob

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
