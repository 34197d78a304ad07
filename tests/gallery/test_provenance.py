"""Style provenance: perceptual hashes, the artists' opt-out blocklist and style credits."""

import io

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw

from gallery import provenance
from gallery.models import BlockedStyle, SourceImage, StyleJob
from tests.gallery.factories import clean, image_bytes, job_form, upload

pytestmark = pytest.mark.django_db


def _stripes(size=(200, 160), quality=95) -> bytes:
    image = Image.new("RGB", size, (240, 230, 200))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], size[0] // 8):
        draw.rectangle([x, 0, x + size[0] // 16, size[1]], fill=(20, 40, 120))
    draw.ellipse([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _post_style(client, data):
    return client.post(
        reverse("gallery:job_new"),
        job_form({"upload": upload("style.jpg", data)}),
        follow=True,
    )


def test_it_stores_a_perceptual_hash_with_each_style_upload(owner, make_job):
    job = make_job(owner, preset=None, style=clean(_stripes()))
    stored = job.styles.get().image
    assert len(stored.perceptual_hash) == 16 and stored.owner == owner
    assert stored.perceptual_hash == provenance.perceptual_hash(clean(_stripes()).image)
    assert job.content.perceptual_hash == ""


def test_it_measures_near_duplicates_as_close_and_other_images_as_far():
    original = provenance.perceptual_hash(clean(_stripes()).image)
    resized = provenance.perceptual_hash(clean(_stripes(size=(400, 320), quality=60)).image)
    other = provenance.perceptual_hash(clean(image_bytes(size=(200, 160))).image)
    assert provenance.hash_distance(original, resized) <= 6 < provenance.hash_distance(original, other)


def test_it_refuses_a_blocked_style_and_its_near_duplicates_with_a_message(clients, preset):
    BlockedStyle.objects.create(perceptual_hash=provenance.perceptual_hash(clean(_stripes()).image), note="opt-out")
    for data in (_stripes(), _stripes(size=(400, 320), quality=60)):
        response = _post_style(clients["owner"], data)
        assert "asked not to be used as a style" in response.content.decode()
    assert not StyleJob.objects.exists() and not SourceImage.objects.exists()


def test_it_blocks_a_work_from_the_admin_by_image(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    response = client.post(
        reverse("admin:gallery_blockedstyle_add"),
        {"note": "The artist wrote in", "image": upload("work.jpg", _stripes()), "perceptual_hash": ""},
    )
    assert response.status_code == 302
    assert BlockedStyle.objects.get().perceptual_hash == provenance.perceptual_hash(clean(_stripes()).image)


def test_it_hides_stored_copies_of_a_work_once_it_is_blocked(owner, make_artwork, client, django_user_model):
    copy = make_artwork(owner, "public", preset=None, style=clean(_stripes(size=(400, 320), quality=60)))
    other = make_artwork(owner, "public", preset=None, style=clean(image_bytes(size=(200, 160))))
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    client.post(reverse("admin:gallery_blockedstyle_add"), {"note": "Ada Painter", "image": upload("w.jpg", _stripes())})
    copy.job.styles.get().image.refresh_from_db()
    other.job.styles.get().image.refresh_from_db()
    assert copy.job.styles.get().image.is_hidden and "Ada Painter" in copy.job.styles.get().image.hidden_reason
    assert not other.job.styles.get().image.is_hidden
    style_url = reverse("gallery:artwork_style", args=[copy.pk, 0])
    assert client.get(style_url).status_code == 404


def test_it_credits_the_style_on_public_pages(owner, make_artwork, clients):
    artwork = make_artwork(owner, "public", preset=None, style=clean(_stripes()))
    url = reverse("gallery:style_credit", args=[artwork.job.styles.get().image_id])
    assert clients["other"].get(url).status_code == 404
    clients["owner"].post(url, {"artist": "Ada Painter", "source": "https://example.org/work", "licence": "CC BY 4.0"})
    page = clients["anonymous"].get(reverse("gallery:artwork_detail", args=[artwork.pk])).content.decode()
    assert "After <em>Ada Painter</em>" in page and "https://example.org/work" in page and "CC BY 4.0" in page


def test_it_keeps_every_other_choice_when_it_refuses_a_blocked_style(clients, preset):
    BlockedStyle.objects.create(perceptual_hash=provenance.perceptual_hash(clean(_stripes()).image), note="opt-out")
    response = clients["owner"].post(
        reverse("gallery:job_new"),
        job_form({"preset": preset.pk}, {"upload": upload("style.jpg", _stripes())}, method="arbitrary",
                 max_side="512", style_scale="352"),
    )
    page = response.content.decode()
    assert "asked not to be used as a style" in page
    assert f'name="styles-0-preset" value="{preset.pk}" id="id_styles-0-preset_0" checked' in page
    assert 'name="styles-TOTAL_FORMS" value="2"' in page, "the blend's second row is still there"
    assert '<option value="arbitrary" selected>' in page
    assert 'name="max_side" value="512" id="id_max_side_1" required checked' in page  # the sizes are radios
    assert '<option value="352" selected>' in page
