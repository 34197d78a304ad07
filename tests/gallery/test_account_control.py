"""Account deletion removes every row and file; export hands back every artwork in a zip."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from gallery import community, moderation, services
from gallery.models import Artwork, Like, Report, SourceImage, StyleJob
from tests.gallery.factories import PASSWORD, clean, stored_files

pytestmark = pytest.mark.django_db


def test_it_exports_every_artwork_as_a_zip_with_a_manifest(owner, other, make_artwork, clients):
    mine = [make_artwork(owner, "public"), make_artwork(owner, "private", strength=0.5)]
    make_artwork(other, "public")
    response = clients["owner"].get(reverse("gallery:account_export"))
    assert "attachment" in response["Content-Disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(name for name in bundle.namelist() if name.endswith(".png"))
    assert names == sorted(f"artworks/atelier-{artwork.pk}.png" for artwork in mine)
    assert all(bundle.read(name).startswith(b"\x89PNG") for name in names)
    manifest = json.loads(bundle.read("manifest.json"))
    assert [entry["strength"] for entry in manifest["artworks"]] == [1.0, 0.5]


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
