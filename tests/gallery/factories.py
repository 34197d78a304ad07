"""Image and upload builders for gallery tests."""

import io
import os

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gallery import images

PASSWORD = "correct-horse-battery-staple"
TEST_PRESET = "test-bands"  # written by tests/conftest.py


def image_bytes(fmt="JPEG", size=(96, 72), mode="RGB", color=(30, 120, 200), **save_options) -> bytes:
    buffer = io.BytesIO()
    image = Image.new(mode, size, color)
    if mode == "RGB":
        # A gradient gives the optimizer something to work with and makes orientation visible.
        for x in range(size[0]):
            for y in range(0, size[1], 4):
                image.putpixel((x, y), (x * 255 // size[0], y * 255 // size[1], 90))
    image.save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def upload(name="photo.jpg", data=None, content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), content_type=content_type)


def clean(data=None) -> images.CleanImage:
    raw = data if data is not None else image_bytes()
    return images.clean_upload(io.BytesIO(raw), size=len(raw), max_bytes=10**8, max_pixels=10**8)


def stored_files(root=None) -> set[str]:
    base = str(root or settings.MEDIA_ROOT)
    return {
        os.path.relpath(os.path.join(folder, name), base)
        for folder, _, names in os.walk(base)
        for name in names
    }


def job_form(*rows: dict, **fields) -> dict:
    """POST data for the new-picture form: its fields, and one style row per dict, e.g. {"preset": preset.pk}."""
    data = {"content": upload(), "method": "optimize", "strength": "1", "max_side": "64",
            "styles-TOTAL_FORMS": str(len(rows)), "styles-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data[f"styles-{index}-weight"] = "1"
        data.update({f"styles-{index}-{name}": value for name, value in row.items()})
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}
