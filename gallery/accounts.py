"""Export of one's artworks as a zip (account deletion is services.delete_account)."""

import json
import tempfile
import zipfile

from gallery.models import Artwork

# Spooled to disk past this size, so an export of hundreds of full-size PNGs never sits in memory.
EXPORT_SPOOL_BYTES = 16 * 1024 * 1024


def export_artworks(user) -> tempfile.SpooledTemporaryFile:
    """A zip of the user's artworks (full-size PNGs) and a manifest.json of their settings, rewound."""
    archive = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)
    manifest = []
    artworks = Artwork.objects.filter(owner=user).prefetch_related("job__styles__preset", "job__styles__image").order_by("created_at", "pk")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for artwork in artworks:
            name = f"artworks/atelier-{artwork.pk}.png"
            with artwork.image.open("rb") as image:
                bundle.writestr(name, image.read())
            job = artwork.job
            manifest.append(
                {
                    "file": name,
                    "created_at": artwork.created_at.isoformat(),
                    "visibility": artwork.visibility,
                    "style": job.style_label,
                    "styles": [{"style": style.label, "weight": style.weight} for style in job.styles.all()],
                    "method": job.method,
                    "strength": job.strength,
                    "preserve_color": job.preserve_color,
                    "width": artwork.width,
                    "height": artwork.height,
                }
            )
        bundle.writestr("manifest.json", json.dumps({"user": user.get_username(), "artworks": manifest}, indent=2))
    archive.seek(0)
    return archive
