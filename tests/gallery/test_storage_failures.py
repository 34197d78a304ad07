"""A full or read-only media disk: the visitor gets a message, the worker fails the job with one, and no partial
file, zero-byte upload or row is left behind."""

import errno
import io
import os
from types import SimpleNamespace

import pytest
from django.core.files.storage import filesystem
from django.urls import reverse

from gallery import jobs, services
from gallery.models import SourceImage, StyleJob
from tests.gallery.factories import job_form, stored_files, upload

pytestmark = pytest.mark.django_db


class _FillingDisk(io.FileIO):
    """A file on a disk that fills up: the first half of a write lands, then ENOSPC."""

    def write(self, data):
        super().write(bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")


def _full(fd, mode):
    return _FillingDisk(fd, "wb")


def _read_only(path, flags, mode=0o777):
    raise OSError(errno.EROFS, "Read-only file system", path)


@pytest.fixture
def disk(monkeypatch):
    """Turn the disk Django's file system storage writes to full (``disk("full")``) or read-only; reads still work.
    ``after=n`` lets the first n files through."""

    def fail(kind: str, after: int = 0):
        written = [0]

        def fdopen(fd, mode):
            written[0] += 1
            return os.fdopen(fd, mode) if written[0] <= after else _full(fd, mode)

        def open_(path, flags, mode=0o777):
            return os.open(path, flags, mode) if kind == "full" else _read_only(path, flags, mode)

        failing = SimpleNamespace(**vars(os))  # the os module as Django's storage module sees it, two calls changed
        failing.fdopen, failing.open = (fdopen if kind == "full" else os.fdopen), open_
        monkeypatch.setattr(filesystem, "os", failing)

    return fail


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_a_submission_to_a_full_or_read_only_disk_gets_a_message_and_leaves_nothing(kind, clients, preset, disk,
                                                                                    settings):
    before = stored_files()
    disk(kind)

    response = clients["owner"].post(reverse("gallery:job_new"), job_form({"preset": preset.pk}))

    assert response.status_code == 503
    assert services.STORAGE_UNAVAILABLE_MESSAGE in response.content.decode()
    assert stored_files() == before  # no partial and no zero-byte file
    assert not StyleJob.objects.exists() and not SourceImage.objects.exists()


def test_a_style_upload_that_fills_the_disk_takes_the_stored_photo_along(clients, preset, disk):
    before = stored_files()
    disk("full", after=1)  # the photo is written whole, the style image fills the disk

    response = clients["owner"].post(reverse("gallery:job_new"), job_form({"upload": upload("style.jpg")}))

    assert response.status_code == 503
    assert stored_files() == before
    assert not SourceImage.objects.exists()


@pytest.mark.django_db(transaction=True)  # the job is enqueued once its row is committed
def test_a_result_the_worker_cannot_store_fails_its_job_with_a_message_and_leaves_no_file(owner, make_job, disk,
                                                                                          run_worker):
    job = make_job(owner)
    before = stored_files()
    disk("full", after=1)  # the picture is written whole, its thumbnail fills the disk

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.error) == (StyleJob.Status.FAILED, jobs.STORAGE_MESSAGE)
    assert stored_files() == before
