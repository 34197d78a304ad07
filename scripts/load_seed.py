"""The data of a load run: public artworks, users, likes, each user signed in once. Bulk inserts, one shared image.

Called by scripts/load.py once Django is set up on the load database.
"""

import json
import random
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from PIL import Image

from gallery import images
from gallery.models import Artwork, ArtworkVersion, JobStyle, Like, Preset, Profile, SourceImage, StyleJob

BATCH = 5000
SPAN_DAYS = 365  # artworks are spread over a year, likes over the time since each artwork appeared


def _shared_files() -> dict[str, str]:
    """One tiny picture under each name the rows point at: the pages are measured, not the file serving."""
    picture = Image.new("RGB", (48, 36), (200, 90, 40))
    files = {"content": ("load/content.jpg", images.encode_jpeg(picture)),
             "image": ("load/artwork.png", images.encode_png(picture)),
             "thumbnail": ("load/thumbnail.jpg", images.encode_jpeg(picture))}
    names = {}
    for kind, (name, data) in files.items():
        default_storage.delete(name)
        names[kind] = default_storage.save(name, ContentFile(data))
    return names


def _sign_in(user) -> str:
    """A session as a login makes one, so the load clients do not each pay a password hash."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def seed(*, artworks: int, users: int, likes: int, accounts_file: Path, seed_value: int = 27) -> dict:
    """Insert the rows into an empty, migrated database; write the accounts the load clients use. Returns counts."""
    rng = random.Random(seed_value)
    now = timezone.now()
    files = _shared_files()
    User = get_user_model()
    people = User.objects.bulk_create(
        [User(username=f"painter{index:04d}", password="!", date_joined=now - timedelta(days=SPAN_DAYS))
         for index in range(users)]
    )
    Profile.objects.bulk_create([Profile(user=person, display_name=f"Painter {person.pk}") for person in people])
    preset, _ = Preset.objects.get_or_create(name="load-bands", defaults={"title": "Bands", "artist": "Load Test"})
    contents = SourceImage.objects.bulk_create(
        [SourceImage(owner=person, kind=SourceImage.Kind.CONTENT, file=files["content"], width=48, height=36)
         for person in people]
    )
    made = sorted(now - timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400)) for _ in range(artworks))
    owners = [rng.randrange(users) for _ in range(artworks)]
    jobs = StyleJob.objects.bulk_create(
        [StyleJob(owner=people[owner], content=contents[owner], status=StyleJob.Status.DONE, progress=100,
                  created_at=when, started_at=when, finished_at=when, queued_at=when)
         for owner, when in zip(owners, made, strict=True)],
        batch_size=BATCH,
    )
    JobStyle.objects.bulk_create([JobStyle(job=job, position=0, preset=preset) for job in jobs], batch_size=BATCH)
    pieces = Artwork.objects.bulk_create(
        [Artwork(owner_id=job.owner_id, job=job, image=files["image"], thumbnail=files["thumbnail"], width=48,
                 height=36, created_at=job.created_at, visibility=Artwork.Visibility.PUBLIC)
         for job in jobs],
        batch_size=BATCH,
    )
    versions = ArtworkVersion.objects.bulk_create(
        [ArtworkVersion(artwork=piece, number=1, image=piece.image.name, thumbnail=piece.thumbnail.name, strength=1.0,
                        preserve_color=False, created_at=piece.created_at) for piece in pieces],
        batch_size=BATCH,
    )
    for piece, version in zip(pieces, versions, strict=True):
        piece.current_version = version
    Artwork.objects.bulk_update(pieces, ["current_version"], batch_size=BATCH)
    # Popularity is skewed, as on real sites: a few artworks collect many likes, most a handful or none.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(artworks)]
    ranked = rng.sample(range(artworks), artworks)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < likes:
        for index in rng.choices(ranked, weights=weights, k=likes - len(pairs)):
            pairs.add((rng.randrange(users), index))
    Like.objects.bulk_create(
        [Like(user=people[user], artwork=pieces[index],
              created_at=pieces[index].created_at + (now - pieces[index].created_at) * rng.random())
         for user, index in pairs],
        batch_size=BATCH,
    )  # the like-count trigger counts them as they go in
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    first_job = {job.owner_id: job.pk for job in reversed(jobs)}
    accounts = [{"session": _sign_in(person), "job": first_job[person.pk]} for person in people if person.pk in first_job]
    accounts_file.write_text(json.dumps({
        "accounts": accounts,
        "usernames": [person.username for person in people],
        "artworks": [piece.pk for piece in pieces],
        "owners": [people[owner].username for owner in owners],
        "preset": preset.pk,
    }))
    return {"artworks": artworks, "users": users, "likes": Like.objects.count()}
