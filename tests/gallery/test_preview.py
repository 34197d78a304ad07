"""The live preview endpoint: a synchronous 256 px any-style render, for signed-in users, small and rate-limited."""

import io
import os

import pytest
from django.urls import reverse
from PIL import Image

from gallery import provenance, services
from gallery.models import BlockedStyle, StyleJob
from tests.gallery.factories import clean, image_bytes, job_form, upload
from tests.gallery.test_style_options import _paint

pytestmark = pytest.mark.django_db
URL = reverse("gallery:job_preview")


@pytest.fixture
def ready(arbitrary_weights, redis_queue):
    """The any-style network is installed and every user's preview budget is fresh."""
    return arbitrary_weights


def _data(*rows, **fields) -> dict:
    rows = rows or ({"upload": upload("s.png", _paint(), "image/png")},)
    fields = {"content": upload("p.jpg", image_bytes(size=(160, 120))), "method": "arbitrary", "max_side": "512",
              "style_scale": "512", **fields}
    return job_form(*rows, **fields)


def _image(response) -> Image.Image:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/jpeg" and response["Cache-Control"] == "no-store"
    return Image.open(io.BytesIO(response.content))


def test_it_renders_a_small_preview_for_the_owner(clients, ready):
    preview = _image(clients["owner"].post(URL, _data()))
    assert preview.size == (160, 120)


def test_it_previews_my_styles_and_blends_with_a_preset(clients, owner, preset, ready):
    mine = services.create_job(owner, services.JobRequest(
        content=clean(), content_name="c.jpg", styles=(services.StyleChoice(upload=clean(_paint())),),
        method="arbitrary", strength=1.0, preserve_color=False, max_side=64)).styles.get().image
    preview = _image(clients["owner"].post(URL, _data({"my_style": mine.pk, "weight": "0.3"}, {"preset": preset.pk},
                                                      preserve_color="on", style_scale="352")))
    assert preview.size == (160, 120)
    theirs = clients["other"].post(URL, _data({"my_style": mine.pk}))
    assert theirs.status_code == 400 and "valid choice" in theirs.json()["error"]


def test_it_sends_anonymous_visitors_to_log_in(clients, ready):
    response = clients["anonymous"].post(URL, _data())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_refuses_oversized_previews(clients, ready, settings):
    too_wide = clients["owner"].post(URL, _data(content=upload("big.jpg", image_bytes(size=(300, 200)))))
    assert too_wide.status_code == 400 and "at most 256 px" in too_wide.json()["error"]
    settings.PREVIEW_MAX_BYTES = 64 * 1024
    noise = io.BytesIO()
    Image.frombytes("RGB", (250, 250), os.urandom(250 * 250 * 3)).save(noise, format="PNG")
    assert len(noise.getvalue()) > settings.PREVIEW_MAX_BYTES
    too_heavy = clients["owner"].post(URL, _data(content=upload("noise.png", noise.getvalue(), "image/png")))
    assert too_heavy.status_code == 413 and "too large" in too_heavy.json()["error"]


def test_it_refuses_an_oversized_preview_from_its_header_before_decoding(clients, ready):
    # A 6000 x 6000 PNG cut after its header: decoding it would fail as "damaged", so refusing it by its
    # size proves the pixels were never decoded.
    header_only = image_bytes("PNG", size=(6000, 6000), mode="L", color=9)[:64]
    response = clients["owner"].post(URL, _data(content=upload("big.png", header_only, "image/png")))
    assert response.status_code == 400 and "6000 × 6000 px" in response.json()["error"]
    assert "at most 256 px" in response.json()["error"]


def test_it_previews_the_any_style_method_only(clients, preset, ready):
    response = clients["owner"].post(URL, _data({"preset": preset.pk}, method="optimize"))
    assert response.status_code == 400 and "Any style" in response.json()["error"]
    assert not StyleJob.objects.exists()


def test_it_explains_a_flat_style(clients, ready):
    flat = image_bytes("PNG", size=(64, 64), mode="RGBA", color=(20, 20, 20, 255))
    response = clients["owner"].post(URL, _data({"upload": upload("flat.png", flat, "image/png")}))
    assert response.status_code == 400 and "single flat colour" in response.json()["error"]


def test_it_refuses_to_preview_a_blocked_style(clients, ready):
    BlockedStyle.objects.create(perceptual_hash=provenance.perceptual_hash(clean(_paint()).image), note="opt-out")
    response = clients["owner"].post(URL, _data())
    assert response.status_code == 400 and response.json()["error"] == provenance.BLOCKED_MESSAGE


def test_it_limits_previews_per_user_per_minute(clients, ready, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "preview": [2, 60]}
    statuses = [clients["owner"].post(URL, _data()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert clients["other"].post(URL, _data()).status_code == 200


def test_it_previews_the_style_of_another_users_artwork_being_remixed(clients, owner, make_artwork, ready):
    artwork = make_artwork(owner, "public", preset=None, style=clean(_paint()))
    theirs = artwork.job.styles.get().image
    refused = clients["other"].post(URL, _data({"shared_style": theirs.pk}))
    assert refused.status_code == 400
    remixing = clients["other"].post(f"{URL}?remix={artwork.pk}", _data({"shared_style": theirs.pk}))
    assert _image(remixing).size == (160, 120)
