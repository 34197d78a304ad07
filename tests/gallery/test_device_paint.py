"""Pictures painted on the visitor's device and stored in the gallery: the job form plus the browser's result."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from gallery import services
from gallery.forms import blend_weight
from gallery.models import Artwork, SourceImage, StyleJob
from tests.gallery.factories import image_bytes, job_form, stored_files, upload

pytestmark = pytest.mark.django_db
URL = reverse("gallery:job_device")


def _painting(size=(64, 48)) -> bytes:
    return image_bytes("PNG", size=size, color=(150, 60, 30))


def _data(preset, result_size=(64, 48), **fields) -> dict:
    """A 320 x 240 photo painted at 64 px: (64, 48) is the size the job asks for."""
    result = upload("painting.png", _painting(result_size), "image/png")
    fields = {"content": upload("p.jpg", image_bytes(size=(320, 240))), "method": "fast", "max_side": "64",
              "result": result, **fields}
    return job_form({"preset": preset.pk}, **fields)


def test_it_stores_the_painting_as_a_finished_job_without_a_worker(clients, owner, preset, redis_queue):
    response = clients["owner"].post(URL, _data(preset, strength="0.7", preserve_color="on"))
    assert response.status_code == 200, response.content
    artwork = Artwork.objects.get()
    assert response.json() == {"url": reverse("gallery:artwork_detail", args=[artwork.pk])}
    job = artwork.job
    assert (artwork.owner, artwork.width, artwork.height) == (owner, 64, 48)
    assert (job.status, job.method, job.max_side, job.strength, job.preserve_color) == ("done", "fast", 64, 0.7, True)
    assert job.worker_id == services.DEVICE_WORKER and job.styles.get().preset == preset
    assert artwork.visibility == Artwork.Visibility.PRIVATE
    with artwork.image.open("rb") as handle:
        assert Image.open(handle).convert("RGB").tobytes() == Image.open(io.BytesIO(_painting())).tobytes()
    assert redis_queue.count == 0
    assert clients["owner"].get(response.json()["url"]).status_code == 200
    assert clients["other"].get(response.json()["url"]).status_code == 404


def test_it_refuses_a_painting_of_another_size_and_stores_nothing(clients, preset):
    before = stored_files()
    response = clients["owner"].post(URL, _data(preset, result_size=(160, 120)))
    assert response.status_code == 400 and "must be 64 x 48 px" in response.json()["error"]
    assert not StyleJob.objects.exists() and not SourceImage.objects.exists() and stored_files() == before


def test_it_puts_the_painting_through_the_upload_checks(clients, preset):
    fake = upload("painting.png", b"not an image at all", "image/png")
    response = clients["owner"].post(URL, _data(preset, result=fake))
    assert response.status_code == 400 and "not an image we can read" in response.json()["error"]
    assert not StyleJob.objects.exists()


def test_it_stores_an_any_style_painting_with_its_styles_weights_and_brush(clients, owner, preset, redis_queue):
    style = upload("mine.jpg", image_bytes(size=(120, 90), color=(200, 40, 40)))
    data = job_form({"preset": preset.pk, "weight": "0.75"}, {"upload": style, "weight": "0.25"},
                    content=upload("p.jpg", image_bytes(size=(320, 240))), method="arbitrary", max_side="64",
                    style_scale="896", strength="0.8", result=upload("painting.png", _painting(), "image/png"))
    response = clients["owner"].post(URL, data)
    assert response.status_code == 200, response.content
    job = Artwork.objects.get().job
    assert (job.status, job.method, job.style_scale, job.strength, job.worker_id) == (
        "done", "arbitrary", 896, 0.8, services.DEVICE_WORKER)
    first, second = job.styles.order_by("position")
    share = blend_weight(0.75) / (blend_weight(0.75) + blend_weight(0.25))  # stored as shares of the blend
    assert (first.preset, first.weight) == (preset, pytest.approx(share))
    assert (second.image.owner, second.image.kind, second.weight) == (owner, SourceImage.Kind.STYLE,
                                                                   pytest.approx(1 - share))
    assert redis_queue.count == 0


def test_it_paints_only_the_fast_and_any_style_methods_on_the_device(clients, preset):
    response = clients["owner"].post(URL, _data(preset, result_size=(64, 48), method="optimize"))
    assert response.status_code == 400 and "Optimisation paints on our server only" in response.json()["error"]
    assert not StyleJob.objects.exists()


def test_it_counts_against_the_daily_quota(clients, preset, settings):
    settings.JOB_QUOTA_DAILY = 1
    assert clients["owner"].post(URL, _data(preset)).status_code == 200
    refused = clients["owner"].post(URL, _data(preset))
    assert refused.status_code == 429 and "daily limit" in refused.json()["error"]
    assert Artwork.objects.count() == 1


def test_it_sends_anonymous_visitors_to_log_in_and_refuses_gets(clients, preset):
    response = clients["anonymous"].post(URL, _data(preset))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert clients["owner"].get(URL).status_code == 405
    assert not StyleJob.objects.exists()
