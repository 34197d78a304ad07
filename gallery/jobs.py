"""RQ entry points. The only module in the site that imports stylecore.

Jobs receive row ids, never model instances: the StyleJob row is the source of truth.
"""

import logging
import time
from functools import lru_cache

from django.conf import settings
from django.db import close_old_connections
from rq import get_current_job
from rq.timeouts import JobTimeoutException
from PIL import Image
from stylecore import Engine, OptimizeConfig, StyleCoreError, get_preset

from gallery import images, services
from gallery.models import IllegalTransitionError, StyleJob

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
# Stylization fills 0-95 %; storing the result and thumbnail is the last stretch.
STYLIZE_SHARE = 95
UNEXPECTED_MESSAGE = "Something went wrong on our side while painting this picture. Please try again."
TIMEOUT_MESSAGE = "This picture took longer than allowed. Try a smaller size or the fast method."


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """One engine per worker process; it loads its networks lazily and keeps them."""
    overrides = {
        key: tuple(value) if isinstance(value, list) else value for key, value in settings.STYLECORE_OPTIMIZE.items()
    }
    return Engine.load(settings.STYLECORE_WEIGHTS, optimize=OptimizeConfig(**overrides))


@lru_cache(maxsize=1)
def get_preview_engine() -> Engine:
    """The web process's engine for live previews. One thread: a preview must not take the CPU from the workers."""
    return Engine.load(settings.STYLECORE_WEIGHTS, threads=1)


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
        self.job.record_progress(STYLIZE_SHARE * done // total)


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


def _stylize(job: StyleJob):
    engine = get_engine()
    return engine.stylize(
        _open_rgb(job.content.file),
        method=job.method,
        strength=job.strength,
        preserve_color=job.preserve_color,
        max_side=job.max_side,
        progress=ProgressReporter(job),
        **_style_options(engine, job),
    )


def render_preview(preview: services.PreviewRequest) -> Image.Image:
    """A synchronous any-style render of a small photo. Raises services.PreviewError with a message for the user."""
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


def run_style_job(job_id: int) -> int | None:
    """Stylize one StyleJob row and store its Artwork. Returns the artwork id, or None if skipped or failed."""
    close_old_connections()
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
    try:
        artwork = services.save_artwork(job, _stylize(job))
    except StyleCoreError as exc:
        job.mark_failed(str(exc))
        return None
    except JobTimeoutException:
        job.mark_failed(TIMEOUT_MESSAGE)
        raise
    except Exception:
        log.exception("Job %s failed unexpectedly", job_id)
        job.mark_failed(UNEXPECTED_MESSAGE)
        raise
    finally:
        close_old_connections()
    return artwork.pk
