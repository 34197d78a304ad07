"""Style provenance: perceptual hashes of style images, and the artists' opt-out blocklist."""

import imagehash
from django.conf import settings
from django.utils import timezone
from PIL import Image

from gallery.models import BlockedStyle, SourceImage

BLOCKED_MESSAGE = (
    "This style image matches a work whose artist asked not to be used as a style on Atelier. Please pick another."
)


class BlockedStyleError(Exception):
    """A style image matches, or nearly matches, a blocked work."""


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit DCT hash (pHash) as 16 hex digits: stable under resizing, re-encoding and small edits."""
    return str(imagehash.phash(image))


def hash_distance(first: str, second: str) -> int:
    """Hamming distance between two hashes: how many of the 64 bits differ."""
    return (int(first, 16) ^ int(second, 16)).bit_count()


def check_style_allowed(image: Image.Image) -> str:
    """Return the image's hash, or raise BlockedStyleError when it is within STYLE_HASH_DISTANCE of a blocked one."""
    found = perceptual_hash(image)
    for blocked in BlockedStyle.objects.values_list("perceptual_hash", flat=True):
        if hash_distance(found, blocked) <= settings.STYLE_HASH_DISTANCE:
            raise BlockedStyleError(BLOCKED_MESSAGE)
    return found


def hide_matching_styles(blocked: BlockedStyle) -> int:
    """Hide stored style images that match a newly blocked work, so they leave public pages and "My styles"."""
    matching = [
        source.pk
        for source in SourceImage.objects.filter(kind=SourceImage.Kind.STYLE, hidden_at__isnull=True)
        .exclude(perceptual_hash="")
        .only("pk", "perceptual_hash")
        if hash_distance(source.perceptual_hash, blocked.perceptual_hash) <= settings.STYLE_HASH_DISTANCE
    ]
    return SourceImage.objects.filter(pk__in=matching).update(
        hidden_at=timezone.now(), hidden_reason=f"The artist opted out: {blocked.note}"
    )
