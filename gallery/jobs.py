"""RQ entry points. The only module in the site that imports stylecore.

Jobs receive row ids, never model instances: the StyleJob row is the source of truth.
"""

import logging
import time
from functools import lru_cache

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from rq import get_current_job
from rq.timeouts import JobTimeoutException
from PIL import Image
from stylecore import Engine, OptimizeConfig, Render, StyleCoreError, check_weights, get_preset, prepare_photo, redial

from gallery import images, services
from gallery.models import Artwork, IllegalTransitionError, StyleJob

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
# Stylization fills 0-95 %; storing the result and thumbnail is the last stretch.
STYLIZE_SHARE = 95
UNEXPECTED_MESSAGE = "Something went wrong on our side while painting this picture. Please try again."
TIMEOUT_MESSAGE = "This picture took longer than allowed. Try a smaller size or the fast method."
BROKEN_PRESET_MESSAGE = (
    "The network for this style is damaged on this server, and our staff have been told. Please pick another style "
    "or another method for now."
)
STORAGE_MESSAGE = (
    "The finished picture could not be stored: our file storage is full or out of reach, and our staff have been "
    "told. Please try again later."
)
BROKEN_ARBITRARY_MESSAGE = (
    "The any-style network is damaged on this server, and our staff have been told. Please choose the fast method "
    "with a preset, or optimisation, for now."
)
# Errors of a database out of reach (a restart, a network cut), as opposed to errors in a query.
DATABASE_DOWN = (OperationalError, InterfaceError)


class DatabaseUnavailableError(Exception):
    """The database stayed out of reach for JOB_DATABASE_WAIT_SECONDS; the row is untouched and recovery re-runs it."""


def wait_for_database() -> None:
    """Return once the database answers, retrying with back-off for up to JOB_DATABASE_WAIT_SECONDS."""
    deadline = time.monotonic() + settings.JOB_DATABASE_WAIT_SECONDS
    delay = 0.5
    while True:
        try:
            connection.ensure_connection()
            return
        except DATABASE_DOWN as exc:
            connection.close()  # a broken connection is not reused
            if time.monotonic() + delay > deadline:
                raise DatabaseUnavailableError(f"the database stayed out of reach: {exc}") from exc
            log.warning("Database out of reach (%s); retrying in %.1f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 8)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """One engine per worker process; it loads its networks lazily and keeps them."""
    overrides = {
        key: tuple(value) if isinstance(value, list) else value for key, value in settings.STYLECORE_OPTIMIZE.items()
    }
    return Engine.load(settings.STYLECORE_WEIGHTS, optimize=OptimizeConfig(**overrides),
                       optimize_max_side=settings.JOB_OPTIMIZE_MAX_SIDE)


@lru_cache(maxsize=1)
def get_preview_engine() -> Engine:
    """The web process's engine for live previews. One thread: a preview must not take the CPU from the workers."""
    return Engine.load(settings.STYLECORE_WEIGHTS, threads=1)


@lru_cache(maxsize=1)
def read_weights_problems() -> dict[str, str]:
    """What is wrong with the weights files, against their folders' manifests; read once per process."""
    return check_weights(settings.STYLECORE_WEIGHTS)


def broken_presets() -> set[str]:
    """Presets whose own network (``presets/<name>.pt`` or ``.onnx``) does not match the manifest."""
    return {key.split("/")[1].split(".")[0] for key in read_weights_problems() if key.startswith("presets/")}


def is_arbitrary_broken() -> bool:
    return any(key.startswith("arbitrary/") for key in read_weights_problems())


def check_weights_at_start() -> None:
    """Tell the operator about damaged weights files, and hide the presets they belong to from the form."""
    for key, problem in read_weights_problems().items():
        log.error("Weights file %s is damaged (%s): restore it from the release", key, problem)
    hidden = services.hide_presets(broken_presets())
    if hidden:
        log.error("Hidden from the form until their weights are restored: %s", ", ".join(hidden))
    if is_arbitrary_broken():
        log.error("The any-style method is refused until weights/arbitrary is restored")


def _refusal(job: StyleJob) -> str | None:
    presets = job.styles.filter(preset__isnull=False).values_list("preset__name", flat=True)
    if job.method == StyleJob.Method.FAST and set(presets) & set(broken_presets()):
        return BROKEN_PRESET_MESSAGE
    if job.method == StyleJob.Method.ARBITRARY and is_arbitrary_broken():
        return BROKEN_ARBITRARY_MESSAGE
    return None


def read_engine_presets() -> list[dict]:
    """The engine's presets as plain values, with preview JPEG bytes, for services.seed_presets."""
    return [
        {
            "name": preset.name,
            "title": preset.title,
            "artist": preset.artist or "",
            "year": str(preset.year or ""),
            "source": preset.source or "",
            "preview": preset.preview_path.read_bytes() if preset.preview_path.is_file() else None,
        }
        for preset in get_engine().presets()
    ]


class ProgressReporter:
    """Writes progress into the row, at most every PROGRESS_INTERVAL_SECONDS, so the DB is not flooded."""

    def __init__(self, job: StyleJob):
        self.job = job
        self.last_write = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last_write < PROGRESS_INTERVAL_SECONDS or total <= 0:
            return
        self.last_write = now
        try:
            self.job.record_progress(STYLIZE_SHARE * done // total)
        except DATABASE_DOWN as exc:
            # Progress is for show: the picture goes on, and the result is saved once the database is back.
            connection.close()
            log.warning("Progress of job %s not recorded: %s", self.job.pk, exc)


def _open_rgb(field):
    with field.open("rb") as handle:
        return images.load_rgb(handle)


def _painting(engine: Engine, style: str | Image.Image) -> Image.Image:
    """A style given as a preset name becomes that preset's painting."""
    if isinstance(style, Image.Image):
        return style
    with Image.open(get_preset({p.name: p for p in engine.presets()}, style).style_path) as painting:
        return painting.convert("RGB")


def _style_options(engine: Engine, job: StyleJob) -> dict:
    rows = list(job.styles.select_related("preset", "image"))
    if job.method != StyleJob.Method.ARBITRARY and len(rows) == 1:
        (row,) = rows
        return {
            "preset": row.preset.name if row.preset_id else None,
            "style": _open_rgb(row.image.file) if row.image_id else None,
        }
    # The any-style network blends the rows by weight; the other methods refuse a list with a StyleCoreError.
    return {
        "style": [_painting(engine, row.preset.name) if row.preset_id else _open_rgb(row.image.file) for row in rows],
        "style_weights": [row.weight for row in rows] if len(rows) > 1 else None,
        "style_scale": job.style_scale,
    }


def _render(job: StyleJob) -> Render:
    engine = get_engine()
    return engine.render(
        _open_rgb(job.content.file),
        method=job.method,
        max_side=job.max_side,
        progress=ProgressReporter(job),
        **_style_options(engine, job),
    )


def _paint(job: StyleJob) -> tuple[Image.Image, Image.Image]:
    """The job's result and the full-strength render it was dialed from. The result is re-dialed from the 8-bit
    render the artwork keeps, so a later re-dial with the job's own settings gives back the very same pixels."""
    render = _render(job)
    return redial(render.photo, render.full, strength=job.strength, preserve_color=job.preserve_color), render.full


def redial_photo(artwork: Artwork) -> Image.Image:
    """The artwork's photo as the engine painted it: RGB, at the size of its render (the re-dial's other input)."""
    return prepare_photo(_open_rgb(artwork.job.content.file), artwork.job.max_side)


def redial_artwork(artwork: Artwork, strength: float, preserve_color: bool) -> Image.Image:
    """The artwork with another strength and colour setting, computed here from its stored photo and full-strength
    render with the engine's own functions (never from pixels a browser sent). Raises services.RedialError."""
    if not artwork.can_redial:
        raise services.RedialError(
            "This picture was made before full-strength renders were kept, so it cannot be re-dialed; "
            "paint it again with the new settings instead."
        )
    try:
        return redial(redial_photo(artwork), _open_rgb(artwork.render), strength=strength,
                      preserve_color=preserve_color)
    except StyleCoreError as exc:
        raise services.RedialError(f"This picture cannot be re-dialed: {exc}.") from exc


def render_preview(preview: services.PreviewRequest) -> Image.Image:
    """A synchronous any-style render of a small photo. Raises services.PreviewError with a message for the user."""
    if is_arbitrary_broken():
        raise services.PreviewError(BROKEN_ARBITRARY_MESSAGE)
    engine = get_preview_engine()
    styles, style_weights = services.preview_styles(preview)
    try:
        return engine.stylize(
            preview.content,
            style=[_painting(engine, style) for style in styles],
            style_weights=style_weights,
            method=StyleJob.Method.ARBITRARY,
            strength=preview.strength,
            preserve_color=preview.preserve_color,
            max_side=settings.PREVIEW_SIDE,
            style_scale=preview.style_scale,
        )
    except StyleCoreError as exc:
        raise services.PreviewError(str(exc)) from exc


def _save_artwork(job: StyleJob, result: Image.Image, render: Image.Image):
    try:
        return services.save_artwork(job, result, render)
    except DATABASE_DOWN:
        wait_for_database()
        return services.save_artwork(job, result, render)


def run_style_job(job_id: int) -> int | None:
    """Stylize one StyleJob row and store its Artwork. Returns the artwork id, or None if skipped or failed.

    A job that cannot reach the database leaves its row as it was (queued, or running for gallery.recovery to re-queue
    without counting the attempt); a cold shutdown re-queues its row at once, without counting the attempt either.
    """
    close_old_connections()
    wait_for_database()
    job = StyleJob.objects.select_related("content").filter(pk=job_id).first()
    if job is None:
        log.info("Job %s no longer exists; skipping", job_id)
        return None
    rq_job = get_current_job()
    try:
        job.mark_running(rq_job.worker_name if rq_job and rq_job.worker_name else "")
    except IllegalTransitionError as exc:
        log.info("Skipping job %s: %s", job_id, exc)
        return None
    refusal = _refusal(job)
    if refusal:
        job.mark_failed(refusal)
        return None
    try:
        artwork = _save_artwork(job, *_paint(job))
    except StyleCoreError as exc:
        job.mark_failed(str(exc))
        return None
    except JobTimeoutException:
        job.mark_failed(TIMEOUT_MESSAGE)
        raise
    except services.StorageUnavailableError:
        log.exception("Job %s: the result could not be stored; check the media storage", job_id)
        job.mark_failed(STORAGE_MESSAGE)
        raise
    except (DatabaseUnavailableError, *DATABASE_DOWN):
        log.exception("Job %s could not reach the database; recovery will re-queue it", job_id)
        raise
    except SystemExit:
        # RQ's cold shutdown (a second SIGTERM once the grace period is over) raises this in the job.
        log.warning("Job %s interrupted by a shutdown; re-queued", job_id)
        job.mark_requeued(refund_attempt=True)
        raise
    except Exception:
        log.exception("Job %s failed unexpectedly", job_id)
        job.mark_failed(UNEXPECTED_MESSAGE)
        raise
    finally:
        close_old_connections()
    return artwork.pk
