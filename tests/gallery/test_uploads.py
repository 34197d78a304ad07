"""Uploads: every rejection is a form error with nothing stored; accepted images are cleaned."""

import functools
import io

import pytest
from django.urls import reverse
from PIL import Image

from gallery.models import BlockedStyle, SourceImage, StyleJob
from tests.gallery.factories import clean, image_bytes, job_form, stored_files, upload

pytestmark = pytest.mark.django_db


def _post_job(client, preset, content, **extra):
    return client.post(reverse("gallery:job_new"), job_form({"preset": preset.pk}, content=content, **extra))


def _bomb_png() -> bytes:
    # 1-bit PNGs compress to almost nothing: 12000 x 12000 is 144 MP in a few kB.
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, format="PNG")
    return buffer.getvalue()


REJECTIONS = {
    "not an image": (b"%PDF-1.4 definitely not a picture", "not an image we can read"),
    "empty": (b"", "empty"),
    "truncated": (image_bytes(size=(200, 200))[:300], "damaged or incomplete"),
    "gif": (image_bytes("GIF", mode="P", color=3), "GIF files are not accepted"),
    "bmp": (image_bytes("BMP"), "BMP files are not accepted"),
    "tiff": (image_bytes("TIFF"), "TIFF files are not accepted"),
    "too many pixels": (image_bytes("PNG", size=(300, 200), mode="L", color=5), "megapixels"),
    # Refused by the header's size: a decode would fail as "damaged or incomplete".
    "too many pixels, header only": (image_bytes("PNG", size=(300, 200), mode="L", color=5)[:64], "megapixels"),
    "decompression bomb": (_bomb_png(), "too large to process safely"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_it_rejects_bad_uploads_with_a_form_error_and_stores_nothing(case, clients, preset, settings):
    settings.UPLOAD_MAX_PIXELS = 50_000
    data, message = REJECTIONS[case]
    before = stored_files()

    response = _post_job(clients["owner"], preset, upload("photo.jpg", data))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["content"])
    assert not StyleJob.objects.exists() and not SourceImage.objects.exists()
    assert stored_files() == before


def test_it_rejects_a_file_over_the_byte_limit(clients, preset, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    big = image_bytes("PNG", size=(300, 300), mode="RGB")
    assert len(big) > 1000

    response = _post_job(clients["owner"], preset, upload("big.png", big, "image/png"))

    assert "the limit is" in " ".join(response.context["form"].errors["content"])
    assert not SourceImage.objects.exists()


@functools.cache
def _huge_png() -> bytes:
    """6300 x 6300 px (39.7 megapixels) of one colour in about 130 KB: small on disk, huge once decoded."""
    buffer = io.BytesIO()
    Image.new("RGB", (6300, 6300), (40, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


HUGE_MESSAGE = "The image is 6300 × 6300 px (39.7 megapixels); the limit is 26 megapixels. Upload a smaller copy."


def test_it_refuses_a_png_huge_in_pixels_by_its_header_without_decoding_it(clients, preset, decoded_sizes):
    assert len(_huge_png()) < 200_000
    before = stored_files()

    response = _post_job(clients["owner"], preset, upload("huge.png", _huge_png(), "image/png"))

    assert response.status_code == 200
    assert response.context["form"].errors["content"] == [HUGE_MESSAGE]
    assert HUGE_MESSAGE in response.content.decode()
    assert (6300, 6300) not in decoded_sizes
    assert not StyleJob.objects.exists() and not SourceImage.objects.exists()
    assert stored_files() == before


def test_the_admin_blocklist_refuses_a_png_huge_in_pixels_with_the_same_message(client, django_user_model,
                                                                                decoded_sizes):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    before = stored_files()

    response = client.post(reverse("admin:gallery_blockedstyle_add"),
                           {"note": "The artist wrote in", "image": upload("work.png", _huge_png(), "image/png")})

    assert response.status_code == 200
    assert HUGE_MESSAGE in response.content.decode()
    assert (6300, 6300) not in decoded_sizes
    assert not BlockedStyle.objects.exists()
    assert stored_files() == before


def test_it_decodes_each_upload_of_the_form_once(clients, preset, decoded_sizes):
    # A photo and a style upload of different sizes, so each decode is told apart; the style is checked against the
    # blocklist and hashed, tested for texture and stored, all from the one decoded copy.
    photo = upload("photo.png", image_bytes("PNG", size=(300, 200)), "image/png")
    style = upload("style.png", image_bytes("PNG", size=(120, 90)), "image/png")
    BlockedStyle.objects.create(perceptual_hash="0" * 16, note="an unrelated work")

    response = clients["owner"].post(reverse("gallery:job_new"), job_form({"upload": style}, content=photo,
                                                                        method="arbitrary"))

    assert response.status_code == 302
    assert sorted(decoded_sizes) == [(120, 90), (300, 200)]


def test_it_states_the_byte_limit_in_one_unit_in_the_help_and_the_error(clients, preset, settings):
    settings.UPLOAD_MAX_BYTES = 5 * 1024 * 1024 // 2
    help_text = clients["owner"].get(reverse("gallery:job_new")).content.decode()
    assert "up to 2.5 MB" in help_text

    response = _post_job(clients["owner"], preset, upload("big.jpg", b"\xff" * 3_000_000))

    assert "The file is 2.9 MB; the limit is 2.5 MB." in response.context["form"].errors["content"]


def _heic(size=(64, 48)) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return image_bytes("HEIF", size=size, quality=90)


def test_it_accepts_a_heic_photo_as_the_file_input_promises(clients, preset):
    page = clients["owner"].get(reverse("gallery:job_new")).content.decode()
    assert "image/heic" in page
    data = _heic()
    assert data[4:12] == b"ftypheic"

    source, stored, raw = _stored_content(clients["owner"], preset, data, "IMG_0001.HEIC")

    assert stored.format == "JPEG" and stored.size == (64, 48) and (source.width, source.height) == (64, 48)
    assert source.original_name == "IMG_0001.HEIC"


def test_it_rejects_a_bad_style_image_too(clients, preset):
    response = clients["owner"].post(reverse("gallery:job_new"), job_form({"upload": upload("style.jpg", b"nope")}))
    assert "not an image we can read" in " ".join(response.context["form"].styles[0].errors["upload"])
    assert not SourceImage.objects.exists()


def test_it_requires_exactly_one_style(clients, preset):
    both = clients["owner"].post(reverse("gallery:job_new"), job_form({"preset": preset.pk, "upload": upload("s.jpg")}))
    neither = clients["owner"].post(reverse("gallery:job_new"), job_form({}))
    for response in (both, neither):
        assert "Pick exactly one style" in str(response.context["form"].styles[0].non_field_errors())
    assert not StyleJob.objects.exists()


def test_it_refuses_the_fast_method_without_a_preset(clients, preset):
    response = clients["owner"].post(reverse("gallery:job_new"), job_form({"upload": upload("s.jpg")}, method="fast"))
    assert "one preset style" in " ".join(response.context["form"].errors["method"])


def _stored_content(client, preset, data, name="photo"):
    response = _post_job(client, preset, upload(name, data))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    source = SourceImage.objects.get(kind=SourceImage.Kind.CONTENT)
    with source.file.open("rb") as handle:
        raw = handle.read()
    return source, Image.open(io.BytesIO(raw)), raw


def test_it_applies_exif_orientation_and_strips_exif_and_gps(clients, preset):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    exif[0x010F] = "SecretCam"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPS latitude
    data = image_bytes("JPEG", size=(120, 60), exif=exif.tobytes())

    source, stored, raw = _stored_content(clients["owner"], preset, data)

    assert stored.size == (60, 120) and (source.width, source.height) == (60, 120)
    assert not stored.getexif()
    assert b"Exif" not in raw and b"SecretCam" not in raw


def test_it_flattens_transparency_onto_white(clients, preset):
    data = image_bytes("PNG", size=(40, 40), mode="RGBA", color=(255, 0, 0, 0))

    _, stored, _ = _stored_content(clients["owner"], preset, data, "clear.png")

    assert stored.mode == "RGB"
    red, green, blue = stored.getpixel((20, 20))
    assert min(red, green, blue) > 245


@pytest.mark.parametrize(
    ("fmt", "mode", "color"),
    [("JPEG", "CMYK", (0, 255, 255, 0)), ("PNG", "I;16", 40000), ("PNG", "P", 7), ("WEBP", "RGB", (10, 200, 30)),
     ("PNG", "LA", (128, 255))],
    ids=["cmyk-jpeg", "16-bit-png", "palette-png", "webp", "grey-alpha-png"],
)
def test_it_converts_other_modes_to_rgb(fmt, mode, color, clients, preset):
    data = image_bytes(fmt, size=(32, 24), mode=mode, color=color)

    source, stored, _ = _stored_content(clients["owner"], preset, data)

    assert stored.mode == "RGB" and stored.size == (32, 24)
    if mode == "I;16":
        # 40000 of 65535 is about 156 of 255: scaled, not clipped to white.
        assert 140 < stored.getpixel((5, 5))[0] < 170
    if mode == "CMYK":
        red, green, blue = stored.getpixel((5, 5))
        assert red > 200 and green < 80 and blue < 80


def test_it_offers_the_any_style_method_first_and_by_default_with_presets_too(clients, preset):
    page = clients["owner"].get(reverse("gallery:job_new"))
    form = page.context["form"]
    assert form["method"].value() == StyleJob.Method.ARBITRARY
    assert [value for value, _ in form.fields["method"].choices][0] == StyleJob.Method.ARBITRARY
    assert b'<option value="arbitrary" selected>' in page.content


def test_it_refuses_photos_and_styles_under_16_px_a_side(clients, preset):
    tiny = image_bytes("PNG", size=(12, 40))
    photo = _post_job(clients["owner"], preset, upload("tiny.png", tiny, "image/png"))
    assert "at least 16 px a side" in " ".join(photo.context["form"].errors["content"])
    style = clients["owner"].post(reverse("gallery:job_new"), job_form({"upload": upload("tiny.png", tiny, "image/png")}))
    assert "at least 16 px a side" in " ".join(style.context["form"].styles[0].errors["upload"])
    assert not StyleJob.objects.exists() and not SourceImage.objects.exists()


def test_it_leaves_a_stored_style_too_small_to_run_out_of_my_styles(clients, owner, make_job):
    make_job(owner, preset=None, style=clean(image_bytes(size=(200, 12))))
    form = clients["owner"].get(reverse("gallery:job_new")).context["form"]
    assert not form.styles[0].fields["my_style"].queryset.exists()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_it_stores_a_photo_larger_than_any_job_at_the_largest_side_a_job_paints(fmt, clients, preset, settings):
    settings.JOB_MAX_SIDE = 512
    # Left half red, right half blue, turned by EXIF: the stored copy is shrunk, upright, and the same picture.
    picture = Image.new("RGB", (2000, 1000), (220, 20, 20))
    picture.paste((20, 20, 220), (1000, 0, 2000, 1000))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": the left half ends up on top
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, exif=exif.tobytes())

    source, stored, _ = _stored_content(clients["owner"], preset, buffer.getvalue())

    largest = settings.JOB_MAX_SIDE
    assert stored.size == (largest // 2, largest) == (source.width, source.height)
    top, bottom = stored.getpixel((largest // 4, largest // 4)), stored.getpixel((largest // 4, 3 * largest // 4))
    assert top[0] > 180 > top[2] and bottom[2] > 180 > bottom[0]
