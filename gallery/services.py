"""Every write that spans models, every file written to storage, and every enqueue."""

from dataclasses import dataclass
from functools import partial

import django_rq
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import models, transaction
from PIL import Image
from rq.exceptions import NoSuchJobError
from rq.job import Job

from gallery import fairqueue, images, provenance, quotas
from gallery.storage import STORAGE_ERRORS
from gallery.models import Artwork, ArtworkVersion, JobStyle, Preset, Profile, SourceImage, StyleJob

AVATAR_SIDE = 256
DEVICE_WORKER = "visitor's device"  # the worker_id of a job painted in the visitor's browser


@dataclass(frozen=True)
class StyleChoice:
    """One style of a job: a preset, a stored style image, or a new upload (exactly one), and its weight.

    A stored image is the owner's own, or one another user shows on a public artwork that is being remixed.
    Weights are relative: the job stores them as shares that sum to 1.
    """

    preset: Preset | None = None
    image: SourceImage | None = None
    upload: images.CleanImage | None = None
    upload_name: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class JobRequest:
    content: images.CleanImage | SourceImage  # a new upload, or the owner's stored photo (a re-render)
    content_name: str
    styles: tuple[StyleChoice, ...]  # one to JobStyle.MAX_PER_JOB
    method: str
    strength: float
    preserve_color: bool
    max_side: int
    style_scale: int = 512


@dataclass(frozen=True)
class PreviewRequest:
    content: Image.Image  # RGB, at most PREVIEW_SIDE px a side
    styles: tuple[Preset | SourceImage | Image.Image, ...]
    weights: tuple[float, ...]
    strength: float
    preserve_color: bool
    style_scale: int


class PreviewError(Exception):
    """A preview the engine could not render; the message is shown to the user."""


class RedialError(Exception):
    """An artwork that cannot be re-dialed or re-rendered as asked; the message is shown to the user."""


class StorageUnavailableError(Exception):
    """The file storage refused a write (a full or read-only disk, a storage service out of reach). Nothing of the
    write is kept: no row, no file. The message is shown to the user."""


STORAGE_UNAVAILABLE_MESSAGE = (
    "We could not store your pictures just now: our file storage is full or out of reach. Nothing was saved; "
    "please try again in a few minutes."
)


def _queue_name(method: str) -> str:
    # Optimize jobs take minutes, so they have their own queue.
    return settings.OPTIMIZE_QUEUE if method == StyleJob.Method.OPTIMIZE else settings.STYLE_QUEUE


def queue_for(method: str):
    """The RQ queue a job of ``method`` runs on."""
    return django_rq.get_queue(_queue_name(method))


def all_queues() -> list:
    return [django_rq.get_queue(name) for name in (settings.STYLE_QUEUE, settings.OPTIMIZE_QUEUE)]


def enqueue_job(job: StyleJob) -> None:
    """Give the row's RQ job to its queue, in its owner's turn (gallery/fairqueue.py). Call only once the row is
    committed.

    The RQ job id is the row id, so the row alone is enough to find, cancel or re-run it. An earlier RQ job of the
    row (failed, or a stale id left in the list) is deleted first, so the id is never waiting twice. The function is
    named by path so web processes never import the engine.
    """
    queue = queue_for(job.method)
    forget_rq_job(job.pk)
    queue.remove(str(job.pk))
    fairqueue.release_stale_slot(queue, job.owner_id, str(job.pk))
    queue.enqueue(
        "gallery.jobs.run_style_job",
        job.pk,
        job_id=str(job.pk),
        job_timeout=settings.STYLE_JOB_TIMEOUT,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        rate_limit=fairqueue.share(queue, job.owner_id),
    )


def queue_position(job: StyleJob) -> int | None:
    """1 for the next job to start, None when the job is not waiting.

    A job in the RQ list has its place there; the fair queue holds the others back and they come after it.
    """
    if job.status != StyleJob.Status.QUEUED:
        return None
    queue = queue_for(job.method)
    listed = queue.get_job_ids()
    if str(job.pk) in listed:
        return listed.index(str(job.pk)) + 1
    methods = [method for method in StyleJob.Method.values if _queue_name(method) == queue.name]
    return fairqueue.held_back_position(job, queue, listed, methods)


def forget_rq_job(job_id: int) -> None:
    queue = queue_for(StyleJob.Method.FAST)  # any queue: a job is fetched by id alone
    try:
        rq_job = Job.fetch(str(job_id), connection=queue.connection, serializer=queue.serializer)
    except NoSuchJobError:
        return
    # The row says no run of it goes on. A run whose worker was killed leaves its execution behind until it expires,
    # and RQ would keep the owner's slot for it until then.
    with queue.connection.pipeline() as pipeline:
        rq_job.execution_registry.delete(job=rq_job, pipeline=pipeline)
        pipeline.execute()
    rq_job.delete()


def ensure_profile(user) -> Profile:
    return Profile.objects.get_or_create(user=user)[0]


def open_unconfirmed_account(user) -> Profile:
    """A signed-up account's profile, awaiting the confirmation of its e-mail address (verification.py)."""
    return Profile.objects.update_or_create(user=user, defaults={"awaiting_confirmation": True})[0]


def _store_source(owner, kind: str, clean: images.CleanImage, original_name: str) -> SourceImage:
    source = SourceImage(
        owner=owner,
        kind=kind,
        width=clean.image.width,
        height=clean.image.height,
        original_name=original_name[:255],
    )
    source.file.save("upload.jpg", ContentFile(images.encode_jpeg(clean.image, quality=95)), save=False)
    try:
        if kind == SourceImage.Kind.STYLE:
            source.perceptual_hash = clean.perceptual_hash or provenance.perceptual_hash(clean.image)
            thumbnail = images.make_thumbnail(clean.image, settings.THUMBNAIL_SIDE)
            source.thumbnail.save("thumb.jpg", ContentFile(images.encode_jpeg(thumbnail)), save=False)
        source.save()
    except Exception:
        _delete_files(*source.stored_files())
        raise
    return source


def _copy_style(owner, style: SourceImage) -> SourceImage:
    """The owner's own copy of another user's style image, with its hash and credit.

    A remix keeps working when the uploader deletes the original or their account, and the copy stays under the
    blocklist, which matches by hash.
    """
    copy = SourceImage(
        owner=owner,
        kind=SourceImage.Kind.STYLE,
        width=style.width,
        height=style.height,
        original_name=style.original_name,
        perceptual_hash=style.perceptual_hash,
        title=style.title,
        artist=style.artist,
        source=style.source,
        licence=style.licence,
    )
    try:
        with style.file.open("rb") as handle:
            copy.file.save("upload.jpg", ContentFile(handle.read()), save=False)
        if style.thumbnail:  # none only where migration 0016 could not read the file
            with style.thumbnail.open("rb") as handle:
                copy.thumbnail.save("thumb.jpg", ContentFile(handle.read()), save=False)
        copy.save()
    except Exception:
        _delete_files(*copy.stored_files())
        raise
    return copy


def _delete_files(*fields) -> None:
    for field in fields:
        if field:
            field.storage.delete(field.name)


def create_job(owner, request: JobRequest) -> StyleJob:
    """Store the uploads, create the row, and enqueue it once the row is committed.

    Raises quotas.QuotaError when the owner is over a job quota.
    """
    return _create_job(owner, request, lambda job: transaction.on_commit(partial(enqueue_job, job)))


def create_device_artwork(owner, request: JobRequest, result: Image.Image) -> Artwork:
    """A picture the visitor's browser painted (a fast preset, or any style): its job stored as create_job stores one,
    under the same quotas, and finished with ``result`` (already through the upload checks) instead of enqueued.

    Raises quotas.QuotaError when the owner is over a job quota.
    """

    def finish(job: StyleJob) -> None:
        job.mark_running(DEVICE_WORKER)
        save_artwork(job, result)

    return _create_job(owner, request, finish).artwork


def _create_job(owner, request: JobRequest, finish) -> StyleJob:
    """The rows and files of a job, in one transaction; ``finish(job)`` runs last inside it."""
    stored = []
    try:
        with transaction.atomic():
            # Locking the owner's row serialises their submissions, so two at once cannot both pass the quota.
            get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
            quotas.check_job_quota(owner)
            if isinstance(request.content, SourceImage):
                content = request.content
            else:
                content = _store_source(owner, SourceImage.Kind.CONTENT, request.content, request.content_name)
                stored.extend(content.stored_files())
            job = StyleJob.objects.create(
                owner=owner,
                content=content,
                method=request.method,
                strength=request.strength,
                preserve_color=request.preserve_color,
                max_side=request.max_side,
                style_scale=request.style_scale,
            )
            total = sum(choice.weight for choice in request.styles)
            for position, choice in enumerate(request.styles):
                image = choice.image
                if choice.upload is not None:
                    image = _store_source(owner, SourceImage.Kind.STYLE, choice.upload, choice.upload_name)
                    stored.extend(image.stored_files())
                elif image is not None and image.owner_id != owner.pk:
                    image = _copy_style(owner, image)
                    stored.extend(image.stored_files())
                # Shares, as the engine normalises weights anyway (AdaIN sec. 7): pages can show them as they are.
                JobStyle.objects.create(
                    job=job, position=position, preset=choice.preset, image=image, weight=choice.weight / total
                )
            finish(job)
    except STORAGE_ERRORS as exc:
        _delete_files(*stored)
        raise StorageUnavailableError(STORAGE_UNAVAILABLE_MESSAGE) from exc
    except Exception:
        _delete_files(*stored)
        raise
    return job


def cancel_job(job: StyleJob) -> None:
    """Cancel a queued job. Raises IllegalTransitionError once a worker has picked it up."""
    job.mark_canceled()
    forget_rq_job(job.pk)


def retry_job(job: StyleJob) -> None:
    """Re-run a failed job. Raises IllegalTransitionError unless it failed."""
    with transaction.atomic():
        job.mark_retried()
        transaction.on_commit(partial(enqueue_job, job))


def _store_picture(picture: Artwork | ArtworkVersion, image: Image.Image) -> None:
    picture.image.save("result.png", ContentFile(images.encode_png(image)), save=False)
    thumbnail = images.make_thumbnail(image, settings.THUMBNAIL_SIDE)
    picture.thumbnail.save("thumb.jpg", ContentFile(images.encode_jpeg(thumbnail)), save=False)


def save_artwork(job: StyleJob, result: Image.Image, render: Image.Image | None = None) -> Artwork:
    """Store a finished result and its thumbnail as the artwork's version 1, and mark the job done, atomically.

    ``render`` is the network's full-strength render that ``result`` was dialed from (the worker keeps it, so the
    owner can re-dial later); a picture painted on the visitor's device has none.
    """
    artwork = Artwork(owner_id=job.owner_id, job=job, width=result.width, height=result.height)
    try:
        # Inside the try: a write that fails after others (the thumbnail after the picture) takes them along.
        _store_picture(artwork, result)
        if render is not None:
            artwork.render.save("render.png", ContentFile(images.encode_png(render)), save=False)
        with transaction.atomic():
            artwork.save()
            first = ArtworkVersion.objects.create(
                artwork=artwork,
                number=1,
                image=artwork.image.name,
                thumbnail=artwork.thumbnail.name,
                strength=job.strength,
                preserve_color=job.preserve_color,
                created_at=artwork.created_at,
            )
            artwork.show_version(first)
            job.mark_done()
    except STORAGE_ERRORS as exc:
        _delete_files(artwork.image, artwork.thumbnail, artwork.render)
        raise StorageUnavailableError(STORAGE_UNAVAILABLE_MESSAGE) from exc
    except Exception:
        _delete_files(artwork.image, artwork.thumbnail, artwork.render)
        raise
    return artwork


def save_version(artwork: Artwork, image: Image.Image, strength: float, preserve_color: bool) -> ArtworkVersion:
    """Store ``image`` (re-dialed on the server from the artwork's photo and render, gallery.jobs.redial_artwork)
    as the artwork's next version, with its settings, and make it the one every page shows."""
    if image.size != (artwork.width, artwork.height):
        raise RedialError(f"A version must be {artwork.width} x {artwork.height} px, not {image.width} x {image.height}.")
    version = ArtworkVersion(artwork=artwork, strength=strength, preserve_color=preserve_color)
    try:
        _store_picture(version, image)
        with transaction.atomic():
            # Locking the artwork's row serialises two saves at once, so they cannot take the same number.
            Artwork.objects.select_for_update().filter(pk=artwork.pk).first()
            last = artwork.versions.aggregate(last=models.Max("number"))["last"] or 0
            version.number = last + 1
            version.save()
            artwork.show_version(version)
    except STORAGE_ERRORS as exc:
        _delete_files(version.image, version.thumbnail)
        raise StorageUnavailableError(STORAGE_UNAVAILABLE_MESSAGE) from exc
    except Exception:
        _delete_files(version.image, version.thumbnail)
        raise
    return version


def rerender_artwork(artwork: Artwork, strength: float, preserve_color: bool) -> StyleJob:
    """Queue a new job that paints the artwork's photo again with its styles, method and size, and the new strength
    and colour setting: for pictures whose full-strength render was never kept. The new picture is a new artwork
    (with its render, so it can be re-dialed); the job reuses the stored photo and style images.

    Raises RedialError when a style of the artwork can no longer be used, quotas.QuotaError over a job quota.
    """
    job = artwork.job
    choices = []
    for row in job.styles.select_related("preset", "image"):
        if row.preset_id and not row.preset.is_active:
            raise RedialError(f"{row.preset.title} is no longer offered, so this picture cannot be painted again.")
        if row.image_id and row.image.is_hidden:
            raise RedialError("A moderator removed a style image of this picture, so it cannot be painted again.")
        choices.append(StyleChoice(preset=row.preset, image=row.image, weight=row.weight))
    request = JobRequest(
        content=job.content,
        content_name=job.content.original_name,
        styles=tuple(choices),
        method=job.method,
        strength=strength,
        preserve_color=preserve_color,
        max_side=job.max_side,
        style_scale=job.style_scale,
    )
    return create_job(artwork.owner, request)


def delete_artwork(artwork: Artwork) -> None:
    """Delete an artwork with its versions, its job, the uploads no other job uses, and all of their files."""
    job = artwork.job
    doomed_files = artwork.stored_files()
    with transaction.atomic():
        sources = {job.content_id: job.content}
        sources.update((style.image_id, style.image) for style in job.styles.select_related("image") if style.image_id)
        artwork.delete()
        job.delete()
        for source in sources.values():
            if not (source.content_jobs.exists() or source.job_styles.exists()):
                doomed_files.extend(source.stored_files())
                source.delete()
        transaction.on_commit(partial(_delete_files, *doomed_files))


def _preview_style(style: Preset | SourceImage | Image.Image, side: int) -> str | Image.Image:
    if isinstance(style, Preset):
        return style.name
    if isinstance(style, SourceImage):
        with style.file.open("rb") as handle:
            return images.load_rgb_within(handle, side)
    return style


def preview_styles(preview: PreviewRequest) -> tuple[list[str | Image.Image], list[float] | None]:
    """The preview's styles as preset names or RGB images, and their weights (None for a single style)."""
    styles = [_preview_style(style, preview.style_scale) for style in preview.styles]
    return styles, list(preview.weights) if len(styles) > 1 else None


def delete_account(user) -> None:
    """Delete the user, every row that belongs to them, and (once committed) every file they own."""
    profile = Profile.objects.filter(user=user).first()
    artworks = Artwork.objects.filter(owner=user).prefetch_related("versions")
    files = [field for artwork in artworks for field in artwork.stored_files()]
    files += [field for source in SourceImage.objects.filter(owner=user) for field in source.stored_files()]
    if profile is not None:
        files.append(profile.avatar)
    waiting = list(user.style_jobs.filter(status=StyleJob.Status.QUEUED).values_list("pk", flat=True))
    with transaction.atomic():
        # Jobs PROTECT their uploads, so rows go in dependency order before the user's cascade.
        Artwork.objects.filter(owner=user).delete()
        StyleJob.objects.filter(owner=user).delete()
        SourceImage.objects.filter(owner=user).delete()
        user.delete()
        transaction.on_commit(partial(_delete_files, *files))
        for job_id in waiting:
            transaction.on_commit(partial(forget_rq_job, job_id))


def update_profile(profile: Profile, display_name: str, avatar: images.CleanImage | None) -> Profile:
    old_avatar = profile.avatar.name if profile.avatar else ""
    profile.display_name = display_name
    if avatar is not None:
        square = images.make_thumbnail(avatar.image, AVATAR_SIDE)
        profile.avatar.save("avatar.jpg", ContentFile(images.encode_jpeg(square)), save=False)
    profile.save()
    if avatar is not None and old_avatar:
        profile.avatar.storage.delete(old_avatar)
    return profile


def seed_presets(entries: list[dict]) -> list[Preset]:
    """Mirror the engine's presets. Presets the engine no longer offers are deactivated, not deleted."""
    seeded = []
    with transaction.atomic():
        for entry in entries:
            preset, _ = Preset.objects.update_or_create(
                name=entry["name"],
                defaults={
                    "title": entry["title"],
                    "artist": entry["artist"],
                    "year": entry["year"],
                    "source": entry["source"],
                    "is_active": True,
                },
            )
            if entry["preview"] is not None:
                if preset.preview:
                    preset.preview.storage.delete(preset.preview.name)
                preset.preview.save(f"{preset.name}.jpg", ContentFile(entry["preview"]), save=True)
            seeded.append(preset)
        Preset.objects.exclude(name__in=[entry["name"] for entry in entries]).update(is_active=False)
    return seeded


def hide_presets(names: set[str]) -> list[str]:
    """Take presets off the form (their weights are damaged). Returns the names of those that were shown."""
    shown = Preset.objects.filter(name__in=names, is_active=True)
    hidden = sorted(shown.values_list("name", flat=True))
    shown.update(is_active=False)
    return hidden


def ensure_demo_user(username: str, password: str, email: str):
    """Create the demo account, or reset its password, so the login `make run` prints always works."""
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.save(update_fields=["password"])
    profile = ensure_profile(user)
    if not profile.display_name:
        profile.display_name = "Demo Artist"
        profile.save(update_fields=["display_name"])
    return user
