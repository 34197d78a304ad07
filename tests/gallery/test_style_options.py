"""The job form's style options: own styles, My styles, blends, strength, style scale, and their validation."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from gallery import services
from gallery.models import Artwork, SourceImage, StyleJob
from tests.gallery.factories import clean, image_bytes, upload

pytestmark = pytest.mark.django_db


def _paint(colours=((200, 40, 40), (30, 60, 160)), size=(96, 96)) -> bytes:
    """A textured style image: stripes of the given colours."""
    image = Image.new("RGB", size, colours[0])
    for x in range(0, size[0], 12):
        image.paste(colours[1], (x, 0, x + 6, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _form(**fields) -> dict:
    data = {"content": upload(), "method": "arbitrary", "strength": "1", "max_side": "64", "style_scale": "512",
            "blend_weight": "0.5"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, **fields):
    return client.post(reverse("gallery:job_new"), _form(**fields))


def _errors(response) -> dict:
    assert response.status_code == 200, "the form was accepted"
    return response.context["form"].errors


@pytest.fixture
def my_style(owner):
    return services.create_job(owner, _request(style=clean(_paint()))).style_image


@pytest.fixture
def their_style(other):
    return services.create_job(other, _request(style=clean(_paint()))).style_image


def _request(**options) -> services.JobRequest:
    return services.JobRequest(
        content=clean(), content_name="photo.jpg", preset=options.pop("preset", None), style=options.pop("style", None),
        style_name="style.png", method=options.pop("method", "arbitrary"), strength=1.0, preserve_color=False,
        max_side=64, **options,
    )


@pytest.mark.parametrize("strength", ["1.5", "0", "-1", "strong"])
def test_it_rejects_a_bad_strength(clients, preset, strength):
    errors = _errors(_post(clients["owner"], preset=preset.pk, strength=strength))
    assert "strength" in errors
    assert not StyleJob.objects.exists()


@pytest.mark.parametrize("scale", ["999", "64", "large"])
def test_it_rejects_a_style_scale_it_does_not_offer(clients, preset, scale):
    errors = _errors(_post(clients["owner"], preset=preset.pk, style_scale=scale))
    assert "Select a valid choice" in " ".join(errors["style_scale"])


@pytest.mark.parametrize("weight", ["0", "1", "1.2", "-0.5", "half"])
def test_it_rejects_a_blend_weight_out_of_range(clients, preset, my_style, weight):
    errors = _errors(_post(clients["owner"], my_style=my_style.pk, blend_with=f"preset:{preset.name}",
                           blend_weight=weight))
    assert "blend_weight" in errors


def test_it_rejects_a_blend_whose_second_style_is_the_first(clients, preset, my_style):
    same_style = _errors(_post(clients["owner"], my_style=my_style.pk, blend_with=f"style:{my_style.pk}"))
    same_preset = _errors(_post(clients["owner"], preset=preset.pk, blend_with=f"preset:{preset.name}"))
    for errors in (same_style, same_preset):
        assert "differs from the first" in " ".join(errors["blend_with"])


def test_it_rejects_a_blend_without_a_real_second_style(clients, preset, my_style):
    errors = _errors(_post(clients["owner"], my_style=my_style.pk, blend_with="preset:no-such-painting"))
    assert "Select a valid choice" in " ".join(errors["blend_with"])


def test_it_blends_only_with_the_any_style_method(clients, preset, my_style):
    optimize = _errors(_post(clients["owner"], my_style=my_style.pk, blend_with=f"preset:{preset.name}",
                             method="optimize"))
    fast = _errors(_post(clients["owner"], preset=preset.pk, blend_with=f"style:{my_style.pk}", method="fast"))
    assert "Any style" in " ".join(optimize["blend_with"])
    assert "preset styles only, without a blend" in " ".join(fast["method"])


def test_it_explains_that_a_flat_single_colour_style_has_nothing_to_copy(clients):
    flat = image_bytes("PNG", size=(80, 80), mode="RGBA", color=(200, 40, 40, 255))
    errors = _errors(_post(clients["owner"], style=upload("flat.png", flat, "image/png")))
    assert "single flat colour" in " ".join(errors["style"])
    assert not SourceImage.objects.filter(kind=SourceImage.Kind.STYLE).exists()


def test_it_does_not_let_anyone_use_another_users_style(clients, their_style):
    as_style = _errors(_post(clients["owner"], my_style=their_style.pk))
    as_blend = _errors(_post(clients["owner"], style=upload("s.png", _paint(), "image/png"),
                             blend_with=f"style:{their_style.pk}"))
    assert "Select a valid choice" in " ".join(as_style["my_style"])
    assert "Select a valid choice" in " ".join(as_blend["blend_with"])
    assert StyleJob.objects.filter(owner__username="olive").count() == 0


def test_it_does_not_reuse_a_style_a_moderator_hid(clients, my_style):
    my_style.hide("copied from a living artist")
    errors = _errors(_post(clients["owner"], my_style=my_style.pk))
    assert "Select a valid choice" in " ".join(errors["my_style"])


def test_it_keeps_uploaded_styles_in_my_styles_for_reuse(clients, owner):
    first = _post(clients["owner"], style=upload("waves.png", _paint(), "image/png"))
    assert first.status_code == 302
    style = SourceImage.objects.get(owner=owner, kind=SourceImage.Kind.STYLE)

    page = clients["owner"].get(reverse("gallery:job_new"))
    assert list(page.context["form"].fields["my_style"].queryset) == [style]
    assert reverse("gallery:source_image", args=[style.pk]) in page.content.decode()

    again = _post(clients["owner"], my_style=style.pk, strength="0.6", style_scale="320")
    assert again.status_code == 302
    assert SourceImage.objects.filter(kind=SourceImage.Kind.STYLE).count() == 1
    job = StyleJob.objects.get(pk=again["Location"].rstrip("/").split("/")[-1])
    assert (job.style_image_id, job.method, job.strength, job.style_scale) == (style.pk, "arbitrary", 0.6, 320)


def test_it_stores_a_blend_with_a_preset_in_the_preset_slot(clients, preset, my_style):
    response = _post(clients["owner"], my_style=my_style.pk, blend_with=f"preset:{preset.name}", blend_weight="0.3")
    assert response.status_code == 302
    job = StyleJob.objects.latest("created_at")
    # 70 % my style + 30 % preset, stored as the preset blended with 70 % of my style.
    assert (job.preset_id, job.style_image_id, job.blend_style_id) == (preset.pk, None, my_style.pk)
    assert job.blend_weight == pytest.approx(0.7)


def _finish(job) -> Artwork:
    job.mark_running("w")
    return services.save_artwork(job, Image.new("RGB", (64, 48), (90, 90, 200)))


def test_it_keeps_a_style_that_another_job_blends_when_an_artwork_is_deleted(owner, preset):
    first = services.create_job(owner, _request(style=clean(_paint())))
    style = first.style_image
    blending = services.create_job(owner, _request(preset=preset, blend_style=style, blend_weight=0.5))

    services.delete_artwork(_finish(first))
    assert SourceImage.objects.filter(pk=style.pk).exists()

    services.delete_artwork(_finish(blending))
    assert not SourceImage.objects.filter(pk=style.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_it_runs_an_uploaded_style_with_the_any_style_network(clients, owner, arbitrary_weights, run_worker):
    response = _post(clients["owner"], style=upload("waves.png", _paint(), "image/png"), method="fast",
                     strength="0.8", preserve_color="on", style_scale="768")
    assert response.status_code == 200, "an uploaded style with the fast method is refused"
    response = _post(clients["owner"], style=upload("waves.png", _paint(), "image/png"), strength="0.8",
                     preserve_color="on", style_scale="768")
    assert response.status_code == 302

    run_worker()

    job = StyleJob.objects.get(owner=owner)
    assert (job.status, job.error) == (StyleJob.Status.DONE, "")
    assert (job.method, job.strength, job.preserve_color, job.style_scale) == ("arbitrary", 0.8, True, 768)
    with Artwork.objects.get(job=job).image.open("rb") as handle, Image.open(handle) as result:
        assert max(result.size) == 64


def _result(job) -> Image.Image:
    job.refresh_from_db()
    assert (job.status, job.error) == (StyleJob.Status.DONE, "")
    with job.artwork.image.open("rb") as handle, Image.open(handle) as result:
        return result.convert("RGB")


@pytest.mark.django_db(transaction=True)
def test_it_runs_blends_of_two_own_styles_and_of_a_preset_with_an_own_style(owner, preset, arbitrary_weights,
                                                                            run_worker, settings):
    settings.JOB_QUOTA_ACTIVE = 4  # four jobs wait at once here; the default quota is three
    # The test network is trained for three steps only: too little for a blend to look different, so this checks
    # that blends of every stored shape reach the engine as valid style lists with matching weights.
    warm = services.create_job(owner, _request(style=clean(_paint(((230, 60, 20), (250, 200, 30))))))
    cool = services.create_job(owner, _request(style=clean(_paint(((20, 40, 160), (30, 200, 220))))))
    two_own = services.create_job(owner, _request(style_source=warm.style_image, blend_style=cool.style_image,
                                                  blend_weight=0.5, style_scale=320))
    with_preset = services.create_job(owner, _request(preset=preset, blend_style=warm.style_image, blend_weight=0.4))

    run_worker()

    for job in (warm, cool, two_own, with_preset):
        assert max(_result(job).size) == 64
