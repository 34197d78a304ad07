"""Data migrations: a job's style slots (preset or style image, blend image and share) to its style rows; the stored
like counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.db.migrations.executor import MigrationExecutor

SLOTS = [("gallery", "0006_audit_log_names")]
ROWS = [("gallery", "0009_remove_style_slots")]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    """The other tests share this database: leave it at the newest migrations, whatever a test migrated to."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _old_jobs(apps) -> dict:
    """Jobs of every shape the old schema allowed, made with the old models."""
    user = apps.get_model("auth", "User").objects.create(username="olive")
    preset = apps.get_model("gallery", "Preset").objects.create(name="bands", title="Bands")
    SourceImage = apps.get_model("gallery", "SourceImage")

    def source(kind):
        return SourceImage.objects.create(owner=user, kind=kind, file=f"sources/{kind}.jpg", width=64, height=48)

    content, first, second = source("content"), source("style"), source("style")
    StyleJob = apps.get_model("gallery", "StyleJob")

    def job(**slots):
        return StyleJob.objects.create(owner=user, content=content, method="arbitrary", strength=0.7, **slots).pk

    return {
        "ids": {"preset": preset.pk, "first": first.pk, "second": second.pk},
        "preset only": job(preset=preset),
        "image only": job(style_image=first),
        "preset and image": job(preset=preset, blend_style=second, blend_weight=0.3),
        "two images": job(style_image=first, blend_style=second, blend_weight=0.25),
    }


def _slots(apps, pk) -> tuple:
    job = apps.get_model("gallery", "StyleJob").objects.get(pk=pk)
    return job.preset_id, job.style_image_id, job.blend_style_id, job.blend_weight, job.strength


def test_it_turns_every_jobs_style_slots_into_rows_and_back():
    old = _migrate(SLOTS)
    made = _old_jobs(old)
    before = {name: _slots(old, pk) for name, pk in made.items() if name != "ids"}
    ids = made["ids"]

    new = _migrate(ROWS)
    JobStyle = new.get_model("gallery", "JobStyle")

    def rows(name):
        styles = JobStyle.objects.filter(job_id=made[name]).order_by("position")
        return [(style.position, style.preset_id, style.image_id, pytest.approx(style.weight)) for style in styles]

    assert rows("preset only") == [(0, ids["preset"], None, 1.0)]
    assert rows("image only") == [(0, None, ids["first"], 1.0)]
    assert rows("preset and image") == [(0, ids["preset"], None, 0.7), (1, None, ids["second"], 0.3)]
    assert rows("two images") == [(0, None, ids["first"], 0.75), (1, None, ids["second"], 0.25)]
    assert set(new.get_model("gallery", "StyleJob").objects.values_list("strength", flat=True)) == {0.7}

    old = _migrate(SLOTS)
    after = {name: _slots(old, pk) for name, pk in made.items() if name != "ids"}
    for name in before:
        assert after[name][:3] == before[name][:3] and after[name][3:] == pytest.approx(before[name][3:])
    _migrate(ROWS)


def test_it_fills_the_stored_like_counts_and_keeps_them_after_the_migration():
    old = _migrate([("gallery", "0010_job_recovery_bookkeeping")])
    User = old.get_model("auth", "User")
    owner, *fans = (User.objects.create(username=name) for name in ("olive", "fan0", "fan1", "fan2"))
    content = old.get_model("gallery", "SourceImage").objects.create(
        owner=owner, kind="content", file="sources/content.jpg", width=64, height=48
    )

    def artwork():
        job = old.get_model("gallery", "StyleJob").objects.create(owner=owner, content=content, status="done")
        return old.get_model("gallery", "Artwork").objects.create(
            owner=owner, job=job, image="a.png", thumbnail="a.jpg", width=64, height=48, visibility="public"
        )

    liked, unliked = artwork(), artwork()
    OldLike = old.get_model("gallery", "Like")
    OldLike.objects.bulk_create([OldLike(user=fan, artwork=liked) for fan in fans])

    new = _migrate([("gallery", "0011_artwork_like_count")])
    Artwork, Like = new.get_model("gallery", "Artwork"), new.get_model("gallery", "Like")
    assert dict(Artwork.objects.values_list("pk", "like_count")) == {liked.pk: 3, unliked.pk: 0}
    Like.objects.create(user_id=owner.pk, artwork_id=unliked.pk)
    Like.objects.filter(user_id=fans[0].pk).delete()
    assert dict(Artwork.objects.values_list("pk", "like_count")) == {liked.pk: 2, unliked.pk: 1}

    # Back down, the trigger goes with the column: likes can still be made.
    back = _migrate([("gallery", "0010_job_recovery_bookkeeping")])
    back.get_model("gallery", "Like").objects.create(user_id=fans[0].pk, artwork_id=liked.pk)


def test_it_makes_every_artworks_picture_its_first_and_shown_version():
    old = _migrate([("gallery", "0012_profile_awaiting_confirmation")])
    owner = old.get_model("auth", "User").objects.create(username="olive")
    content = old.get_model("gallery", "SourceImage").objects.create(
        owner=owner, kind="content", file="sources/content.jpg", width=64, height=48
    )
    job = old.get_model("gallery", "StyleJob").objects.create(
        owner=owner, content=content, status="done", strength=0.6, preserve_color=True
    )
    made = old.get_model("gallery", "Artwork").objects.create(
        owner=owner, job=job, image="artworks/a.png", thumbnail="thumbnails/a.jpg", width=64, height=48
    )

    new = _migrate([("gallery", "0013_artwork_versions")])
    artwork = new.get_model("gallery", "Artwork").objects.get(pk=made.pk)
    (version,) = new.get_model("gallery", "ArtworkVersion").objects.filter(artwork=artwork)
    assert artwork.current_version_id == version.pk and not artwork.render
    assert (version.number, version.strength, version.preserve_color) == (1, 0.6, True)
    assert (version.image.name, version.thumbnail.name) == ("artworks/a.png", "thumbnails/a.jpg")
    assert version.created_at == made.created_at


def test_it_leaves_each_e_mail_address_on_one_account_before_it_makes_addresses_unique():
    old = _migrate([("gallery", "0014_job_method_any_style")])
    User = old.get_model("auth", "User")
    now = timezone.now()

    def user(username, email, days_ago, last_login_days_ago=None, active=True):
        last_login = now - timedelta(days=last_login_days_ago) if last_login_days_ago is not None else None
        return User.objects.create(username=username, email=email, is_active=active,
                                   date_joined=now - timedelta(days=days_ago), last_login=last_login)

    # One address in three cases: the active account that logged in last keeps it, whoever signed up first.
    user("ann-first", "ann@example.com", days_ago=300)
    user("ann-now", "ANN@example.com", days_ago=30, last_login_days_ago=1)
    user("ann-banned", "Ann@Example.com", days_ago=20, last_login_days_ago=0, active=False)
    # Never logged in: the first to sign up keeps it.
    user("bob-first", "bob@example.com", days_ago=10)
    user("bob-second", "Bob@example.com", days_ago=5)
    user("cid", "cid@example.com", days_ago=3)
    user("no-address-1", "", days_ago=2)
    user("no-address-2", "", days_ago=1)

    new = _migrate([("gallery", "0015_user_email_unique")])
    emails = dict(new.get_model("auth", "User").objects.values_list("username", "email"))
    assert emails == {"ann-first": "", "ann-now": "ANN@example.com", "ann-banned": "", "bob-first": "bob@example.com",
                      "bob-second": "", "cid": "cid@example.com", "no-address-1": "", "no-address-2": ""}


def test_it_makes_a_thumbnail_for_each_stored_style_image():
    from django.core.files.base import ContentFile
    from PIL import Image

    from gallery import images

    old = _migrate([("gallery", "0015_user_email_unique")])
    owner = old.get_model("auth", "User").objects.create(username="olive")
    SourceImage = old.get_model("gallery", "SourceImage")

    def stored(kind, name, data):
        source = SourceImage(owner=owner, kind=kind, width=900, height=600)
        source.file.save(name, ContentFile(data), save=False)
        source.save()
        return source.pk

    picture = Image.new("RGB", (900, 600), (200, 60, 30))
    style = stored("style", "s.jpg", images.encode_jpeg(picture, quality=95))
    photo = stored("content", "p.jpg", images.encode_jpeg(picture, quality=95))
    broken = stored("style", "b.jpg", b"not a picture")

    new = _migrate([("gallery", "0016_source_image_thumbnail")])
    sources = new.get_model("gallery", "SourceImage").objects.in_bulk([style, photo, broken])
    with sources[style].thumbnail.open("rb") as handle, Image.open(handle) as thumbnail:
        assert thumbnail.size == (480, 320) and thumbnail.getpixel((240, 160)) == pytest.approx((200, 60, 30), abs=3)
    assert not sources[photo].thumbnail and not sources[broken].thumbnail

    name = sources[style].thumbnail.name
    _migrate([("gallery", "0015_user_email_unique")])
    assert not sources[style].thumbnail.storage.exists(name)
