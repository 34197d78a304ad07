"""Export of one's data as a zip, and the names its files carry (account deletion is services.delete_account)."""

import json
import shutil
import tempfile
import zipfile

from django.utils.text import slugify

from gallery.models import Artwork, ArtworkVersion, SourceImage, StyleJob

# Spooled to disk past this size, so an export of hundreds of full-size PNGs never sits in memory.
EXPORT_SPOOL_BYTES = 16 * 1024 * 1024
SOURCE_FOLDERS = {SourceImage.Kind.CONTENT: "photos", SourceImage.Kind.STYLE: "styles"}


def artwork_file_name(artwork: Artwork) -> str:
    """The name a full-size download is saved under: the site, the artwork's id and its styles, e.g.
    ``atelier-12-the-starry-night-van-gogh.png``; the id keeps two pictures in one style apart."""
    label = slugify(artwork.job.style_label)[:60].strip("-")
    return f"atelier-{artwork.pk}-{label}.png" if label else f"atelier-{artwork.pk}.png"


def _source_path(source: SourceImage) -> str:
    return f"{SOURCE_FOLDERS[source.kind]}/{source.kind}-{source.pk}.jpg"


def _copy_into(bundle: zipfile.ZipFile, name: str, field) -> None:
    with field.storage.open(field.name, "rb") as stored, bundle.open(name, "w") as entry:
        shutil.copyfileobj(stored, entry)


def _job_entry(job: StyleJob, paths: dict[int, str], artwork: Artwork | None) -> dict:
    return {
        "id": job.pk,
        "created_at": job.created_at.isoformat(),
        "status": job.status,
        "error": job.error,
        "photo": paths.get(job.content_id),
        "styles": [
            {
                "style": style.label,
                "preset": style.preset.name if style.preset_id else None,
                "file": paths.get(style.image_id) if style.image_id else None,
                "weight": style.weight,
            }
            for style in job.styles.all()
        ],
        "method": job.method,
        "strength": job.strength,
        "preserve_color": job.preserve_color,
        "max_side": job.max_side,
        "style_scale": job.style_scale,
        "artwork": None
        if artwork is None
        else {
            "file": f"artworks/{artwork_file_name(artwork)}",
            "visibility": artwork.visibility,
            "width": artwork.width,
            "height": artwork.height,
            "render": _render_path(artwork) if artwork.render else None,
            "versions": [
                {
                    "number": version.number,
                    "file": _version_path(artwork, version),
                    "strength": version.strength,
                    "preserve_color": version.preserve_color,
                    "created_at": version.created_at.isoformat(),
                    "shown": version.pk == artwork.current_version_id,
                }
                for version in artwork.versions.all()
            ],
        },
    }


def _version_path(artwork: Artwork, version: ArtworkVersion) -> str:
    return f"artworks/versions/{artwork_file_name(artwork).removesuffix('.png')}-v{version.number}.png"


def _render_path(artwork: Artwork) -> str:
    return f"artworks/renders/{artwork_file_name(artwork).removesuffix('.png')}-full-strength.png"


def export_user_data(user) -> tempfile.SpooledTemporaryFile:
    """A zip of everything the user made here, rewound: their photos (photos/), uploaded style images (styles/),
    full-size artworks as shown (artworks/), every version of each (artworks/versions/) and the full-strength render
    it was re-dialed from (artworks/renders/), and jobs.json with every job's settings and the files it used and
    made."""
    archive = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)
    sources = SourceImage.objects.filter(owner=user).order_by("created_at", "pk")
    jobs = (
        StyleJob.objects.filter(owner=user)
        .prefetch_related("styles__preset", "styles__image")
        .order_by("created_at", "pk")
    )
    artworks = {artwork.job_id: artwork for artwork in Artwork.objects.filter(owner=user).prefetch_related("versions")}
    paths: dict[int, str] = {}
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for source in sources:
            paths[source.pk] = _source_path(source)
            _copy_into(bundle, paths[source.pk], source.file)
        entries = []
        for job in jobs:
            artwork = artworks.get(job.pk)
            if artwork is not None:
                artwork.job = job  # its name reads the job's prefetched style rows
                _copy_into(bundle, f"artworks/{artwork_file_name(artwork)}", artwork.image)
                for version in artwork.versions.all():
                    _copy_into(bundle, _version_path(artwork, version), version.image)
                if artwork.render:
                    _copy_into(bundle, _render_path(artwork), artwork.render)
            entries.append(_job_entry(job, paths, artwork))
        bundle.writestr("jobs.json", json.dumps({"user": user.get_username(), "jobs": entries}, indent=2))
    archive.seek(0)
    return archive
