"""API presets and jobs: a job is checked by the web form's rules, stored by the service layer, polled for status."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gallery.models import JobStyle, Preset, SourceImage, StyleJob
from tests.gallery.apiclient import API, token_client
from tests.gallery.factories import image_bytes, stored_files, upload

pytestmark = pytest.mark.django_db


def _post(client, **fields):
    data = {"photo": upload(), "preset1": "test-bands", "method": "optimize", "size": "64", **fields}
    return client.post(f"{API}/jobs", {key: value for key, value in data.items() if value is not None})


def _painting(name="painting.jpg"):
    return upload(name, image_bytes(size=(80, 80), color=(150, 40, 90)))


def test_it_lists_the_active_presets(owner, preset):
    Preset.objects.create(name="withdrawn", title="Old", is_active=False)
    body = token_client(owner).get(f"{API}/presets").json()
    assert body == [{"name": "test-bands", "title": "Bands", "artist": "Test Painter", "year": "2026",
                     "preview_url": "/presets/test-bands/preview/"}]


@pytest.mark.django_db(transaction=True)  # the job is enqueued once its row is committed
def test_it_paints_a_job_from_upload_to_download(owner, preset, redis_queue, run_worker):
    client = token_client(owner)
    response = _post(client, strength="0.8", preserve_color="true")
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "queued" and job["queue_position"] == 1 and job["artwork_id"] is None
    row = StyleJob.objects.get(pk=job["id"], owner=owner)
    assert (row.method, row.strength, row.preserve_color, row.max_side) == ("optimize", 0.8, True, 64)
    assert [style.preset for style in row.styles.all()] == [preset]

    run_worker()
    done = client.get(f"{API}/jobs/{job['id']}").json()
    assert done["status"] == "done" and done["finished"] and done["queue_position"] is None
    download = client.get(f"{API}/artworks/{done['artwork_id']}/download")
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")


@pytest.mark.django_db(transaction=True)
def test_it_paints_a_preset_with_the_any_style_method_when_no_method_is_given(owner, preset, arbitrary_weights,
                                                                              run_worker):
    client = token_client(owner)
    response = _post(client, method=None)
    assert response.status_code == 201, response.content
    job = StyleJob.objects.get(pk=response.json()["id"])
    assert job.method == StyleJob.Method.ARBITRARY

    run_worker()
    # The suite's preset has no trained network of its own: the fast method would fail this job.
    done = client.get(f"{API}/jobs/{job.pk}").json()
    assert done["status"] == "done", done["error"]
    assert client.get(f"{API}/artworks/{done['artwork_id']}").json()["method"] == "arbitrary"


def test_it_blends_a_preset_and_an_uploaded_style_with_weights(owner, preset):
    # The form's sliders: against a style at 1, a style's share is half its weight.
    response = _post(token_client(owner), method="arbitrary", weight1="1", image2=_painting(), weight2="0.5",
                     style_scale="352")
    assert response.status_code == 201, response.content
    job = StyleJob.objects.get(pk=response.json()["id"])
    rows = list(job.styles.all())
    assert [(row.preset, row.weight) for row in rows] == [(preset, 0.75), (None, 0.25)]
    assert rows[1].image.owner == owner and rows[1].image.kind == SourceImage.Kind.STYLE
    assert rows[1].image.original_name == "painting.jpg" and job.style_scale == 352


@pytest.mark.django_db(transaction=True)
def test_it_reports_the_place_in_the_queue(owner, other, preset, redis_queue):
    first, second = token_client(owner), token_client(other)
    _post(first)
    job = _post(second).json()
    assert second.get(f"{API}/jobs/{job['id']}").json()["queue_position"] == 2


def test_it_shows_a_job_to_its_owner_only(owner, other, make_job):
    job = make_job(owner)
    assert token_client(owner).get(f"{API}/jobs/{job.pk}").status_code == 200
    response = token_client(other).get(f"{API}/jobs/{job.pk}")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


FLAT = SimpleUploadedFile("flat.png", image_bytes("PNG", size=(64, 64), mode="L", color=128), "image/png")
BAD_JOBS = {
    "no photo": ({"photo": None}, "photo", "required"),
    "not an image": ({"photo": SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg")}, "photo", "image"),
    "tiny photo": ({"photo": upload(data=image_bytes(size=(8, 8)))}, "photo", "at least 16 px"),
    "no style": ({"preset1": None}, "styles", "Pick a style"),
    "unknown preset": ({"preset1": "mona_lisa"}, "preset1", "no preset named 'mona_lisa'"),
    "preset and image in one row": ({"image1": _painting()}, "style1", "exactly one style"),
    "same preset twice": ({"preset2": "test-bands", "method": "arbitrary"}, "styles", "must differ"),
    "weight without a style": ({"weight3": "0.5"}, "weight3", "no preset3 or image3"),
    "weight out of range": ({"weight1": "2"}, "weight1", "less than or equal to 1"),
    "flat style image": ({"preset1": None, "image1": FLAT, "method": "arbitrary"}, "image1", "flat colour"),
    "fast with an upload": ({"preset1": None, "image1": _painting(), "method": "fast"}, "method", "fast method"),
    "optimize blend": ({"image2": _painting()}, "method", "exactly one style"),
    "unknown method": ({"method": "watercolour"}, "method", "Input should be"),
    "strength too high": ({"strength": "5"}, "strength", "less than or equal to 1"),
    "size not offered": ({"size": "333"}, "size", "333 is not a size on offer: choose 64, 512 px, or \"photo\""),
    "size not a size": ({"size": "huge"}, "size", "huge is not a size on offer"),
    "style scale not offered": ({"style_scale": "100", "method": "arbitrary"}, "style_scale", "valid choice"),
    "not a boolean": ({"preserve_color": "maybe"}, "preserve_color", "boolean"),
    "not a number": ({"strength": "strong"}, "strength", "number"),
}


@pytest.mark.parametrize("fields, field, message", BAD_JOBS.values(), ids=BAD_JOBS.keys())
def test_it_refuses_bad_input_with_a_message_and_stores_nothing(fields, field, message, owner, preset):
    for value in fields.values():
        if hasattr(value, "seek"):
            value.seek(0)
    before = stored_files()
    response = _post(token_client(owner), **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert message in " ".join(body["errors"][field]) and message in body["detail"], body
    assert stored_files() == before
    assert not StyleJob.objects.exists() and not SourceImage.objects.exists() and not JobStyle.objects.exists()


@pytest.mark.parametrize("size, pixel_limit, side", [("photo", 16_000_000, 300), ("512", 16_000_000, 300),
                                                    ("photo", 15_000, 150), ("64", 16_000_000, 64)])
def test_it_paints_the_size_asked_capped_by_the_photo_and_the_pixel_limit(size, pixel_limit, side, owner, preset,
                                                                           settings):
    settings.JOB_MAX_PIXELS = pixel_limit
    response = _post(token_client(owner), photo=upload(data=image_bytes(size=(300, 200))), size=size)
    assert response.status_code == 201, response.content
    assert StyleJob.objects.get(pk=response.json()["id"]).max_side == side


@pytest.mark.parametrize("size", ["2048", "photo"])
def test_it_refuses_optimisation_above_its_limit_and_stores_nothing(size, owner, preset, settings):
    settings.JOB_SIZE_CHOICES = [64, 512, 2048]
    before = stored_files()
    response = _post(token_client(owner), photo=upload(data=image_bytes(size=(1300, 40))), size=size)
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"size": [
        "Optimisation paints at most 1024 px on the longest side, and this picture would be 1300 px. Choose 1024 px "
        "or smaller, or the fast or \"Any style\" method for a larger print."]}
    assert stored_files() == before and not StyleJob.objects.exists()
    photo = upload(data=image_bytes(size=(1300, 40)))
    accepted = _post(token_client(owner), photo=photo, size=size, method="arbitrary")
    assert accepted.status_code == 201 and StyleJob.objects.get().max_side == 1300


def test_it_keeps_the_sites_job_quota(owner, preset, settings):
    settings.JOB_QUOTA_ACTIVE = 1
    client = token_client(owner)
    assert _post(client).status_code == 201
    before = stored_files()
    response = _post(client, image1=None)
    assert response.status_code == 429 and "waiting or being painted" in response.json()["detail"]
    assert stored_files() == before and StyleJob.objects.count() == 1 and SourceImage.objects.count() == 1


def test_it_keeps_the_sites_upload_rate_limit_shared_with_the_web_form(owner, preset, settings, clients):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": [2, 3600]}
    clients["owner"].post("/jobs/new/", {})  # the web form's POST counts against the same limit
    client = token_client(owner)
    assert _post(client).status_code == 201
    response = _post(client)
    assert response.status_code == 429 and "the limit is 2 every hour" in response.json()["detail"]
    assert StyleJob.objects.count() == 1
