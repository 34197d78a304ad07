"""Helpers shared by the view modules."""

from django.http import FileResponse, Http404
from django.utils.cache import add_never_cache_headers
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from gallery import services


def serve_file(field, *, download_name: str | None = None, public: bool = False) -> FileResponse:
    """Stream a stored file after the caller checked access. Works with any Django storage.

    Only ``public`` files (preset paintings, avatars) may be cached. Any other file is stored nowhere, so a revoked
    link, a deleted artwork or one made private stops showing at once.
    """
    if not field:
        raise Http404
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=bool(download_name), filename=download_name or field.name)
    if public:
        response["Cache-Control"] = "public, max-age=3600"
    else:
        add_never_cache_headers(response)
    return response


def safe_next(request) -> str:
    """The form's "next" address when it stays on this site, else an empty string."""
    target = request.POST.get("next", "")
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()) else ""


def job_status_data(job) -> dict:
    """What a job's page polls and the API answers: status, progress, place in the queue, the result once done."""
    status = {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": job.progress,
        "queue_position": services.queue_position(job),
        "error": job.error,
        "finished": job.is_finished,
        "result": None,
    }
    artwork = getattr(job, "artwork", None) if job.status == job.Status.DONE else None
    if artwork is not None:
        status["result"] = {
            "image_url": reverse("gallery:artwork_image", args=[artwork.pk]),
            "thumbnail_url": reverse("gallery:artwork_thumbnail", args=[artwork.pk]),
            "download_url": reverse("gallery:artwork_download", args=[artwork.pk]),
            "artwork_url": reverse("gallery:artwork_detail", args=[artwork.pk]),
        }
    return status
