"""The job form's style rows: presets, My styles, uploads and blends, strength, style scale, and their validation."""

import io
import re

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image, ImageDraw

from gallery import services
from gallery.models import Artwork, JobStyle, SourceImage, StyleJob
from tests.gallery.factories import clean, image_bytes, job_form, upload

pytestmark = pytest.mark.django_db


def _paint(colours=((200, 40, 40), (30, 60, 160)), size=(96, 96)) -> bytes:
    """A textured style image: stripes of the given colours."""
    image = Image.new("RGB", size, colours[0])
    for x in range(0, size[0], 12):
        image.paste(colours[1], (x, 0, x + 6, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _post(client, *rows, **fields):
    fields = {"method": "arbitrary", "style_scale": "512", **fields}
    return client.post(reverse("gallery:job_new"), job_form(*rows, **fields))


def _form(response):
    assert response.status_code == 200, "the form was accepted"
    return response.context["form"]


def _errors(response) -> dict:
    return _form(response).errors


def _all_errors(response) -> str:
    return " ".join(_form(response).all_errors())


@pytest.fixture
def my_style(owner):
    return services.create_job(owner, _request(_upload())).styles.get().image


@pytest.fixture
def their_style(other):
    return services.create_job(other, _request(_upload())).styles.get().image


def _upload(colours=((200, 40, 40), (30, 60, 160)), weight=1.0) -> services.StyleChoice:
    return services.StyleChoice(upload=clean(_paint(colours)), upload_name="style.png", weight=weight)


def _request(*styles, **options) -> services.JobRequest:
    return services.JobRequest(
        content=clean(), content_name="photo.jpg", styles=styles, method=options.pop("method", "arbitrary"),
        strength=1.0, preserve_color=False, max_side=64, **options,
    )


@pytest.mark.parametrize("strength", ["1.5", "0", "-1", "strong"])
def test_it_rejects_a_bad_strength(clients, preset, strength):
    errors = _errors(_post(clients["owner"], {"preset": preset.pk}, strength=strength))
    assert "strength" in errors
    assert not StyleJob.objects.exists()


@pytest.mark.parametrize("scale", ["999", "64", "large"])
def test_it_rejects_a_style_scale_it_does_not_offer(clients, preset, scale):
    errors = _errors(_post(clients["owner"], {"preset": preset.pk}, style_scale=scale))
    assert "Select a valid choice" in " ".join(errors["style_scale"])


@pytest.mark.parametrize("weight", ["0", "1.2", "-0.5", "half"])
def test_it_rejects_a_blend_weight_out_of_range(clients, preset, my_style, weight):
    response = _post(clients["owner"], {"my_style": my_style.pk}, {"preset": preset.pk, "weight": weight})
    assert "weight" in _form(response).styles[1].errors


def test_it_rejects_a_blend_of_a_style_with_itself(clients, preset, my_style):
    same_style = _post(clients["owner"], {"my_style": my_style.pk}, {"my_style": my_style.pk})
    same_preset = _post(clients["owner"], {"preset": preset.pk}, {"preset": preset.pk})
    for response in (same_style, same_preset):
        assert "must differ" in _all_errors(response)
    assert StyleJob.objects.count() == 1  # the fixture's upload only


def test_it_rejects_a_row_without_a_real_style(clients, preset, my_style):
    response = _post(clients["owner"], {"my_style": my_style.pk}, {"preset": "999999"})
    assert "Select a valid choice" in " ".join(_form(response).styles[1].errors["preset"])


def test_it_refuses_more_than_four_styles(clients, preset, my_style):
    rows = [{"my_style": my_style.pk}] + [{"upload": upload(f"s{index}.png", _paint(), "image/png")} for index in range(4)]
    assert "at most 4 styles" in _all_errors(_post(clients["owner"], *rows))


def test_it_blends_only_with_the_any_style_method(clients, preset, my_style):
    optimize = _errors(_post(clients["owner"], {"my_style": my_style.pk}, {"preset": preset.pk}, method="optimize"))
    fast = _errors(_post(clients["owner"], {"preset": preset.pk}, {"my_style": my_style.pk}, method="fast"))
    assert "Optimisation paints with exactly one style" in " ".join(optimize["method"])
    assert "one preset style, without a blend" in " ".join(fast["method"])


def test_it_ignores_a_row_added_in_the_page_and_left_empty(clients, preset):
    response = _post(clients["owner"], {"preset": preset.pk}, {}, method="optimize")
    assert response.status_code == 302
    assert [style.preset_id for style in StyleJob.objects.get().styles.all()] == [preset.pk]


def test_it_explains_that_a_flat_single_colour_style_has_nothing_to_copy(clients):
    flat = image_bytes("PNG", size=(80, 80), mode="RGBA", color=(200, 40, 40, 255))
    response = _post(clients["owner"], {"upload": upload("flat.png", flat, "image/png")})
    assert "single flat colour" in " ".join(_form(response).styles[0].errors["upload"])
    assert not SourceImage.objects.filter(kind=SourceImage.Kind.STYLE).exists()


def test_it_does_not_let_anyone_use_another_users_style(clients, their_style):
    as_style = _post(clients["owner"], {"my_style": their_style.pk})
    as_blend = _post(clients["owner"], {"upload": upload("s.png", _paint(), "image/png")}, {"my_style": their_style.pk},
                     {"shared_style": their_style.pk})
    assert "Select a valid choice" in " ".join(_form(as_style).styles[0].errors["my_style"])
    assert "Select a valid choice" in " ".join(_form(as_blend).styles[1].errors["my_style"])
    assert "Select a valid choice" in " ".join(_form(as_blend).styles[2].errors["shared_style"])
    assert not StyleJob.objects.filter(owner__username="olive").exists()


def test_it_does_not_reuse_a_style_a_moderator_hid(clients, my_style):
    my_style.hide("copied from a living artist")
    response = _post(clients["owner"], {"my_style": my_style.pk})
    assert "Select a valid choice" in " ".join(_form(response).styles[0].errors["my_style"])


def test_it_keeps_uploaded_styles_in_my_styles_for_reuse(clients, owner):
    first = _post(clients["owner"], {"upload": upload("waves.png", _paint(), "image/png")})
    assert first.status_code == 302
    style = SourceImage.objects.get(owner=owner, kind=SourceImage.Kind.STYLE)

    page = clients["owner"].get(reverse("gallery:job_new"))
    assert list(page.context["form"].styles[0].fields["my_style"].queryset) == [style]
    assert reverse("gallery:source_thumbnail", args=[style.pk]) in page.content.decode()

    again = _post(clients["owner"], {"my_style": style.pk}, strength="0.6", style_scale="352")
    assert again.status_code == 302
    assert SourceImage.objects.filter(kind=SourceImage.Kind.STYLE).count() == 1
    job = StyleJob.objects.get(pk=again["Location"].rstrip("/").split("/")[-1])
    assert (job.styles.get().image_id, job.method, job.strength, job.style_scale) == (style.pk, "arbitrary", 0.6, 352)


def _halves(size=(1200, 800)) -> Image.Image:
    """Red on the left, blue on the right, a white disc in the middle: easy to recognise at any size."""
    image = Image.new("RGB", size, (210, 40, 30))
    image.paste((30, 60, 200), (size[0] // 2, 0, size[0], size[1]))
    ImageDraw.Draw(image).ellipse((size[0] // 3, size[1] // 3, 2 * size[0] // 3, 2 * size[1] // 3), fill="white")
    return image


def test_it_shows_my_styles_as_thumbnails_of_the_upload(clients, owner, settings):
    uploaded = _halves()
    buffer = io.BytesIO()
    uploaded.save(buffer, format="PNG")
    assert _post(clients["owner"], {"upload": upload("halves.png", buffer.getvalue(), "image/png")}).status_code == 302
    style = SourceImage.objects.get(owner=owner, kind=SourceImage.Kind.STYLE)

    page = clients["owner"].get(reverse("gallery:job_new")).content.decode()
    my_styles = page[page.index('<div class="preset-picker my-styles'):]
    src = re.search(r'<img src="([^"]+)"', my_styles).group(1)
    response = clients["owner"].get(src)
    assert response.status_code == 200
    served = b"".join(response.streaming_content)

    thumbnail = Image.open(io.BytesIO(served))
    assert thumbnail.format == "JPEG" and thumbnail.size == (settings.THUMBNAIL_SIDE, settings.THUMBNAIL_SIDE * 2 // 3)
    expected = np.asarray(uploaded.resize(thumbnail.size, Image.Resampling.LANCZOS), np.float32)
    assert np.abs(np.asarray(thumbnail.convert("RGB"), np.float32) - expected).mean() < 3  # of 255
    assert style.thumbnail and style.thumbnail.storage.exists(style.thumbnail.name)
    with style.thumbnail.open("rb") as handle:
        assert handle.read() == served, "the page shows the stored thumbnail"
    assert clients["other"].get(src).status_code == 404


def test_it_stores_a_blend_as_rows_with_their_shares(clients, preset, my_style):
    # Sliders at 1, 0.5 and 0.5: blend weights 1, 1/3 and 1/3 (gallery.forms.blend_weight).
    response = _post(clients["owner"], {"my_style": my_style.pk, "weight": "1"}, {"preset": preset.pk, "weight": "0.5"},
                     {"upload": upload("s.png", _paint(((20, 40, 160), (30, 200, 220))), "image/png"), "weight": "0.5"})
    assert response.status_code == 302
    rows = list(StyleJob.objects.latest("created_at").styles.all())
    assert [(row.position, row.preset_id, row.image_id is not None) for row in rows] == [
        (0, None, True), (1, preset.pk, False), (2, None, True)]
    assert rows[0].image == my_style
    assert [row.weight for row in rows] == pytest.approx([0.6, 0.2, 0.2])


def _finish(job) -> Artwork:
    job.mark_running("w")
    return services.save_artwork(job, Image.new("RGB", (64, 48), (90, 90, 200)))


def test_it_keeps_a_style_that_another_job_blends_when_an_artwork_is_deleted(owner, preset):
    first = services.create_job(owner, _request(_upload()))
    style = first.styles.get().image
    blending = services.create_job(owner, _request(services.StyleChoice(preset=preset), services.StyleChoice(image=style)))

    services.delete_artwork(_finish(first))
    assert SourceImage.objects.filter(pk=style.pk).exists()

    services.delete_artwork(_finish(blending))
    assert not SourceImage.objects.filter(pk=style.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_it_runs_an_uploaded_style_with_the_any_style_network(clients, owner, arbitrary_weights, run_worker):
    response = _post(clients["owner"], {"upload": upload("waves.png", _paint(), "image/png")}, method="fast",
                     strength="0.8", preserve_color="on", style_scale="896")
    assert response.status_code == 200, "an uploaded style with the fast method is refused"
    response = _post(clients["owner"], {"upload": upload("waves.png", _paint(), "image/png")}, strength="0.8",
                     preserve_color="on", style_scale="896")
    assert response.status_code == 302

    run_worker()

    job = StyleJob.objects.get(owner=owner)
    assert (job.status, job.error) == (StyleJob.Status.DONE, "")
    assert (job.method, job.strength, job.preserve_color, job.style_scale) == ("arbitrary", 0.8, True, 896)
    with Artwork.objects.get(job=job).image.open("rb") as handle, Image.open(handle) as result:
        assert max(result.size) == 64


def _result(job) -> Image.Image:
    job.refresh_from_db()
    assert (job.status, job.error) == (StyleJob.Status.DONE, "")
    with job.artwork.image.open("rb") as handle, Image.open(handle) as result:
        return result.convert("RGB")


@pytest.mark.django_db(transaction=True)
def test_it_runs_blends_of_own_styles_and_presets(owner, preset, arbitrary_weights, run_worker, settings):
    settings.JOB_QUOTA_ACTIVE = 4  # four jobs wait at once here; the default quota is three
    # The test network is trained for three steps only: too little for a blend to look different, so this checks
    # that blends of every stored shape reach the engine as valid style lists with matching weights.
    warm = services.create_job(owner, _request(_upload(((230, 60, 20), (250, 200, 30)))))
    warm_style = services.StyleChoice(image=warm.styles.get().image, weight=0.6)
    three = services.create_job(owner, _request(warm_style, _upload(((20, 40, 160), (30, 200, 220)), weight=0.2),
                                                services.StyleChoice(preset=preset, weight=0.2), style_scale=320))
    one_preset = services.create_job(owner, _request(services.StyleChoice(preset=preset)))
    four = services.create_job(owner, _request(warm_style, services.StyleChoice(preset=preset), _upload(), _upload(
        ((10, 10, 10), (240, 240, 240)))))

    run_worker()

    assert JobStyle.objects.filter(job=four).count() == 4
    for job in (warm, three, one_preset, four):
        assert max(_result(job).size) == 64
