"""Pillow helpers: prove an upload is an image, clean it, and derive stored copies.

Nothing here touches the database or Django's storage; forms and services call in.
"""

import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError
from pillow_heif import register_heif_opener

# Phones save HEIC by default; pillow-heif's opener reports those files as "HEIF".
register_heif_opener()
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}
ACCEPTED_DESCRIPTION = "a JPEG, PNG, WebP or HEIC image"
# The one unit of every byte limit a user reads: "20 MB" is 20 × 1024² bytes, as UPLOAD_MAX_BYTES's default.
MB = 1024 * 1024


def megabytes(count: int, *, round_up: bool = False) -> str:
    """``count`` bytes in MB with at most one decimal: "20", "20.5". Round a file's size up, a limit down."""
    tenths = (math.ceil if round_up else math.floor)(count * 10 / MB)
    return f"{tenths / 10:.1f}".removesuffix(".0")


class UploadError(ValueError):
    """The upload is not an image we accept; the message is shown to the user."""


@dataclass(frozen=True)
class CleanImage:
    image: Image.Image  # RGB, orientation applied, no metadata
    source_format: str
    perceptual_hash: str = ""  # set once a style upload was checked against the blocklist, so it is hashed once


def _flatten_onto_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return _flatten_onto_white(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        return image.point(lambda value: value / 256).convert("L").convert("RGB")
    return image.convert("RGB")


def clean_upload(
    data: io.BufferedIOBase,
    *,
    size: int,
    max_bytes: int,
    max_pixels: int,
    max_side: int | None = None,
    fit_within: int | None = None,
) -> CleanImage:
    """Decode an uploaded file once and return an RGB copy with orientation applied.

    The byte size, the format and the dimensions (``max_pixels`` in area, ``max_side`` px a side) are checked from
    the file's header, which Pillow reads without decoding, so an image over a limit is never decoded. An image
    larger than ``fit_within`` px a side comes back shrunk to it; a JPEG then decodes at a reduced scale (1/2 to 1/8,
    never below ``fit_within``), which is several times faster than decoding every pixel. Raises
    UploadError for anything too large, not an image, not an accepted format, or corrupt. Pillow's own
    decompression-bomb guard stays active too.
    """
    if size > max_bytes:
        raise UploadError(
            f"The file is {megabytes(size, round_up=True)} MB; the limit is {megabytes(max_bytes)} MB."
        )
    if size == 0:
        raise UploadError("The file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(data) as opened:
                source_format = opened.format or ""
                if source_format not in ACCEPTED_FORMATS:
                    raise UploadError(f"{source_format or 'This'} files are not accepted; upload {ACCEPTED_DESCRIPTION}.")
                _check_dimensions(*opened.size, max_pixels=max_pixels, max_side=max_side)
                if fit_within:
                    opened.draft(None, (fit_within, fit_within))
                opened.load()
                oriented = ImageOps.exif_transpose(opened)
                rgb = _to_rgb(oriented)
                if fit_within:
                    rgb.thumbnail((fit_within, fit_within), Image.Resampling.LANCZOS)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError("The image is too large to process safely.") from None
    except UnidentifiedImageError:
        raise UploadError("The file is not an image we can read.") from None
    except (OSError, SyntaxError, ValueError):
        raise UploadError("The image file is damaged or incomplete.") from None
    # A fresh image carries no info dict, so EXIF, GPS, XMP and ICC data cannot leak on save.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return CleanImage(image=clean, source_format=source_format)


def _check_dimensions(width: int, height: int, *, max_pixels: int, max_side: int | None) -> None:
    if max_side is not None and max(width, height) > max_side:
        raise UploadError(f"The image is {width} × {height} px; it must be at most {max_side} px a side.")
    if width * height > max_pixels:
        raise UploadError(
            f"The image is {width} × {height} px ({width * height / 1e6:.1f} megapixels); the limit is "
            f"{max_pixels / 1e6:g} megapixels. Upload a smaller copy."
        )


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def encode_png(image: Image.Image) -> bytes:
    # zlib's fastest level: a 4096 x 4014 result took 20.5 s at Pillow's default (6) and 4.7 s at 1, for a file 9 %
    # larger (21.9 MB against 20.1), on the two busy cores of this machine; a job stores two (result and render).
    return encode(image, "PNG", compress_level=1)


def encode_jpeg(image: Image.Image, quality: int = 88) -> bytes:
    return encode(image.convert("RGB"), "JPEG", quality=quality, optimize=True)


def make_thumbnail(image: Image.Image, side: int) -> Image.Image:
    thumbnail = image.copy()
    thumbnail.thumbnail((side, side), Image.Resampling.LANCZOS)
    return thumbnail


def load_rgb(data: bytes | io.BufferedIOBase) -> Image.Image:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    with Image.open(stream) as opened:
        return opened.convert("RGB")


def is_flat(image: Image.Image, max_std: float = 2.5) -> bool:
    """True when every channel is one colour (standard deviation in 0-255 below ``max_std``): no style to copy."""
    sample = make_thumbnail(image, 256)
    return max(ImageStat.Stat(sample).stddev) < max_std


def load_rgb_within(data: io.BufferedIOBase, side: int) -> Image.Image:
    """Decode an image no larger than ``side`` px a side; JPEGs decode at a reduced scale, which is much faster."""
    with Image.open(data) as opened:
        opened.draft("RGB", (side, side))
        rgb = opened.convert("RGB")
    rgb.thumbnail((side, side), Image.Resampling.LANCZOS)
    return rgb
