"""Account deletion removes every row and file; export hands back all of one's data in a zip."""

import io
import json
import zipfile

import pytest
from PIL import Image
from django.contrib.auth import get_user_model
from django.urls import reverse

from gallery import community, moderation, services
from gallery.models import Artwork, Like, Report, SourceImage, StyleJob
from tests.gallery.factories import PASSWORD, clean, image_bytes, stored_files

pytestmark = pytest.mark.django_db


def _export(client) -> zipfile.ZipFile:
    response = client.get(reverse("gallery:account_export"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_it_exports_photos_styles_artworks_and_every_jobs_settings(owner, other, make_artwork, make_job, clients):
    public = make_artwork(owner, "public")
    uploaded = make_artwork(owner, "private", preset=None, style=clean(image_bytes(size=(80, 60))), strength=0.5)
    waiting = make_job(owner, max_side=128)
    theirs = make_artwork(other, "public", preset=None, style=clean())
    bundle = _export(clients["owner"])

    jobs = {entry["id"]: entry for entry in json.loads(bundle.read("jobs.json"))["jobs"]}
    assert set(jobs) == {public.job_id, uploaded.job_id, waiting.pk}
    assert jobs[uploaded.job_id]["strength"] == 0.5 and jobs[waiting.pk]["max_side"] == 128
    assert jobs[waiting.pk]["status"] == "queued" and jobs[waiting.pk]["artwork"] is None
    assert jobs[public.job_id]["styles"][0]["preset"] == public.job.styles.get().preset.name
    # Every file the settings name is in the zip, and is the picture it says: the photo, the style, the result.
    style_file = jobs[uploaded.job_id]["styles"][0]["file"]
    assert Image.open(bundle.open(style_file)).size == (80, 60)
    for entry in jobs.values():
        assert Image.open(bundle.open(entry["photo"])).size == (96, 72)
    result = jobs[uploaded.job_id]["artwork"]
    assert Image.open(bundle.open(result["file"])).size == (result["width"], result["height"]) == (64, 48)
    # Nothing of anyone else's.
    others = {f"photos/content-{theirs.job.content_id}.jpg", f"styles/style-{theirs.job.styles.get().image_id}.jpg"}
    assert not others & set(bundle.namelist())
    assert not [name for name in bundle.namelist() if name.startswith(f"artworks/atelier-{theirs.pk}-")]
    photos = SourceImage.objects.filter(owner=owner, kind="content").count()
    assert len([name for name in bundle.namelist() if name.startswith("photos/")]) == photos == 3


def test_it_exports_only_to_a_signed_in_owner(client):
    response = client.get(reverse("gallery:account_export"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_requires_the_password_to_delete_an_account(owner, clients):
    response = clients["owner"].post(reverse("gallery:account_delete"), {"password": "wrong"})
    assert "not your password" in response.content.decode()
    assert get_user_model().objects.filter(pk=owner.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_it_deletes_an_account_with_all_its_data_and_files(owner, other, make_artwork, make_job, clients, redis_queue):
    before = stored_files()
    artwork = make_artwork(owner, "public", preset=None, style=clean())
    waiting = make_job(owner)
    services.update_profile(owner.profile, "Olive", clean())
    services.ensure_profile(other)
    kept = make_artwork(other, "public")
    community.set_like(other, artwork, True)
    community.set_like(owner, kept, True)
    moderation.file_report(owner, kept, Report.Reason.SPAM, "")
    assert str(waiting.pk) in redis_queue.get_job_ids()

    response = clients["owner"].post(reverse("gallery:account_delete"), {"password": PASSWORD})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=owner.pk).exists()
    for model in (Artwork, StyleJob, SourceImage):
        assert not model.objects.filter(owner_id=owner.pk).exists()
    assert not Like.objects.filter(user_id=owner.pk).exists() and not Report.objects.exists()
    assert str(waiting.pk) not in redis_queue.get_job_ids()
    left = stored_files() - before
    assert left == {kept.image.name, kept.thumbnail.name, kept.job.content.file.name}
    assert clients["owner"].get(reverse("gallery:gallery")).status_code == 302
