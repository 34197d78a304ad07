"""Re-dialing a finished artwork: versions computed on the server from the kept render, owned, switchable, deleted
and exported with their artwork."""

import io
import json
import zipfile

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from gallery.models import Artwork, ArtworkVersion, SourceImage, StyleJob
from stylecore import prepare_photo
from stylecore.arrays import preserve_color
from stylecore.imageio import from_array, to_array
from tests.gallery.factories import PASSWORD, image_bytes, stored_files, upload

# Transactions commit: the worker's job is enqueued on commit, and it runs in this process on its own connection.
pytestmark = pytest.mark.django_db(transaction=True)


def _pixels(field) -> np.ndarray:
    with field.open("rb") as handle:
        return np.asarray(Image.open(handle).convert("RGB"))


def _engine_math(artwork: Artwork, strength: float, keep: bool) -> np.ndarray:
    """What the engine's own numpy functions make of the stored photo and render, step by step (Engine.stylize)."""
    with artwork.job.content.file.open("rb") as handle:
        photo = to_array(prepare_photo(Image.open(handle), artwork.job.max_side))
    out = to_array(Image.open(io.BytesIO(artwork.render.open("rb").read())))
    if keep:
        out = preserve_color(photo, out)
    if strength < 1.0:
        out = strength * out + (1.0 - strength) * photo
    return np.asarray(from_array(out))


@pytest.fixture
def painted(owner, make_job, device_preset, run_worker):
    """A real artwork from a real worker: a 96 x 72 gradient painted at 64 px with a shipped network."""
    job = make_job(owner, preset=device_preset, method="fast", strength=0.8, preserve_color=False)
    run_worker()
    return Artwork.objects.get(job=job)


def _redial(client, artwork, strength, keep=False, **extra):
    data = {"strength": str(strength), **({"preserve_color": "on"} if keep else {}), **extra}
    return client.post(reverse("gallery:artwork_redial", args=[artwork.pk]), data)


def test_the_worker_keeps_the_full_strength_render_and_dials_version_one_from_it(painted):
    assert painted.render and painted.can_redial
    (first,) = painted.versions.all()
    assert (first.number, first.strength, first.preserve_color) == (1, 0.8, False)
    assert painted.current_version == first and painted.image.name == first.image.name
    assert np.array_equal(_pixels(painted.image), _engine_math(painted, 0.8, False))
    assert not np.array_equal(_pixels(painted.render), _pixels(painted.image))


@pytest.mark.parametrize("strength, keep", [(0.45, True), (1.0, True), (0.3, False)])
def test_it_saves_a_version_with_the_engines_pixels_not_the_browsers(painted, clients, strength, keep):
    posted = upload("fake.png", image_bytes("PNG", size=(64, 48), color=(0, 255, 0)), "image/png")
    response = _redial(clients["owner"], painted, strength, keep, image=posted)
    assert response.status_code == 302 and response["Location"] == reverse("gallery:artwork_detail", args=[painted.pk])
    painted.refresh_from_db()
    version = painted.current_version
    assert (version.number, version.strength, version.preserve_color) == (2, strength, keep)
    assert painted.image.name == version.image.name and painted.thumbnail.name == version.thumbnail.name
    assert np.array_equal(_pixels(version.image), _engine_math(painted, strength, keep))
    page = clients["owner"].get(reverse("gallery:artwork_detail", args=[painted.pk])).content.decode()
    assert f"Saved as version 2: strength {strength:.2f}" in page
    assert page.count('data-role="version"') == 2 and "Show this one" in page


def test_it_refuses_a_strength_out_of_range_and_saves_nothing(painted, clients):
    response = _redial(clients["owner"], painted, 1.5)
    assert response.status_code == 302 and painted.versions.count() == 1
    page = clients["owner"].get(response["Location"]).content.decode()
    assert "Pick a strength between 0.1 and 1." in page


def test_only_the_owner_can_redial_switch_or_fetch_the_redial_photo(painted, clients, owner):
    first = painted.current_version
    assert _redial(clients["owner"], painted, 0.5).status_code == 302
    urls = {
        "redial": reverse("gallery:artwork_redial", args=[painted.pk]),
        "show": reverse("gallery:artwork_version_show", args=[painted.pk, first.pk]),
        "rerender": reverse("gallery:artwork_rerender", args=[painted.pk]),
    }
    for role in ("other", "moderator"):
        for name, url in urls.items():
            assert clients[role].post(url, {"strength": "0.3"}).status_code == 404, (role, name)
        assert clients[role].get(reverse("gallery:artwork_redial_photo", args=[painted.pk])).status_code == 404
    for url in urls.values():
        assert clients["anonymous"].post(url, {"strength": "0.3"}).status_code == 302
        assert clients["owner"].get(url).status_code == 405
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(owner)
    assert guarded.post(urls["show"]).status_code == 403
    painted.refresh_from_db()
    assert painted.versions.count() == 2 and painted.current_version.number == 2
    assert StyleJob.objects.count() == 1


def test_switching_back_restores_the_earlier_image_everywhere(painted, clients):
    first = painted.current_version
    original, thumbnail = _pixels(first.image), _pixels(first.thumbnail)
    _redial(clients["owner"], painted, 0.2)
    painted.refresh_from_db()
    assert not np.array_equal(_pixels(painted.image), original)
    response = clients["owner"].post(reverse("gallery:artwork_version_show", args=[painted.pk, first.pk]))
    assert response.status_code == 302
    painted.refresh_from_db()
    assert painted.current_version == first and np.array_equal(_pixels(painted.image), original)
    served = clients["owner"].get(reverse("gallery:artwork_thumbnail", args=[painted.pk]))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(b"".join(served.streaming_content)))), thumbnail)
    page = clients["owner"].get(reverse("gallery:artwork_detail", args=[painted.pk])).content.decode()
    assert "Showing version 1 again" in page and "Back to version 1" in page


def test_a_version_of_another_artwork_cannot_be_shown_here(painted, clients, make_artwork, owner):
    mine = make_artwork(owner)
    url = reverse("gallery:artwork_version_show", args=[painted.pk, mine.current_version_id])
    assert clients["owner"].post(url).status_code == 404


def test_deleting_the_artwork_removes_every_versions_files(painted, clients):
    _redial(clients["owner"], painted, 0.5)
    _redial(clients["owner"], painted, 0.7, keep=True)
    files = {painted.render.name} | {
        field.name for version in painted.versions.all() for field in (version.image, version.thumbnail)
    }
    assert len(files) == 7 and files <= stored_files()
    clients["owner"].post(reverse("gallery:artwork_delete", args=[painted.pk]))
    assert not files & stored_files()
    assert not Artwork.objects.exists() and not ArtworkVersion.objects.exists()


def test_deleting_the_account_removes_every_versions_files(painted, clients):
    _redial(clients["owner"], painted, 0.5)
    files = {painted.render.name} | {version.image.name for version in painted.versions.all()}
    clients["owner"].post(reverse("gallery:account_delete"), {"password": PASSWORD})
    assert not files & stored_files() and not ArtworkVersion.objects.exists()


def test_the_export_holds_every_version_and_the_render(painted, clients):
    _redial(clients["owner"], painted, 0.5, keep=True)
    response = clients["owner"].get(reverse("gallery:account_export"))
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    (entry,) = json.loads(bundle.read("jobs.json"))["jobs"]
    versions = entry["artwork"]["versions"]
    assert [(v["number"], v["strength"], v["preserve_color"], v["shown"]) for v in versions] == [
        (2, 0.5, True, True), (1, 0.8, False, False)
    ]
    for version in versions:
        stored = painted.versions.get(number=version["number"])
        assert np.array_equal(np.asarray(Image.open(bundle.open(version["file"]))), _pixels(stored.image))
    assert bundle.read(entry["artwork"]["render"]) == painted.render.open("rb").read()


def test_an_artwork_without_a_render_says_so_and_offers_a_rerender(owner, make_artwork, clients, redis_queue):
    old = make_artwork(owner, strength=0.9)
    page = clients["owner"].get(reverse("gallery:artwork_detail", args=[old.pk])).content.decode()
    assert 'data-role="redial-unavailable"' in page and "redial.js" not in page
    assert clients["owner"].get(reverse("gallery:artwork_render", args=[old.pk])).status_code == 404
    refused = _redial(clients["owner"], old, 0.5)
    assert old.versions.count() == 1
    assert "cannot be re-dialed" in clients["owner"].get(refused["Location"]).content.decode()

    response = clients["owner"].post(reverse("gallery:artwork_rerender", args=[old.pk]),
                                     {"strength": "0.4", "preserve_color": "on"})
    job = StyleJob.objects.exclude(pk=old.job_id).get()
    assert response["Location"] == reverse("gallery:job_detail", args=[job.pk])
    assert (job.strength, job.preserve_color, job.method, job.max_side) == (0.4, True, old.job.method, old.job.max_side)
    assert job.content == old.job.content and SourceImage.objects.filter(kind="content").count() == 1
    assert [s.preset_id for s in job.styles.all()] == [s.preset_id for s in old.job.styles.all()]
    assert str(job.pk) in redis_queue.get_job_ids()


def test_the_owner_page_lists_versions_with_their_settings_and_others_see_only_the_shown_one(painted, clients):
    _redial(clients["owner"], painted, 0.35, keep=True)
    painted.set_visibility("public")
    mine = clients["owner"].get(reverse("gallery:artwork_detail", args=[painted.pk])).content.decode()
    assert "Strength 0.35 · colours kept" in mine and "Strength 0.80 · colours repainted" in mine
    assert "redial.js" in mine and 'data-role="redial-canvas"' in mine
    theirs = clients["other"].get(reverse("gallery:artwork_detail", args=[painted.pk])).content.decode()
    assert 'data-role="redial"' not in theirs and 'data-role="shown-strength">0.35<' in theirs
