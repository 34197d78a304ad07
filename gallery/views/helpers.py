"""Helpers shared by the view modules."""

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme

from gallery import services


def serve_file(field, *, download_name: str | None = None, public: bool = False):
    """Serve a stored file after the caller checked access. Works with any Django storage.

    A storage that signs its URLs (S3-compatible, ``querystring_auth``) answers a redirect to a URL that expires after
    SIGNED_URL_SECONDS, so the bytes come from the bucket, which stays private; any other storage is streamed through
    this process. Only ``public`` files (preset paintings, avatars) may be cached. Any other file is stored nowhere,
    and its signed URL expires, so a revoked link, a deleted artwork or one made private stops showing at once.
    """
    if not field:
        raise Http404
    if getattr(field.storage, "querystring_auth", False):
        return _signed_redirect(field, download_name)
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


def _signed_redirect(field, download_name: str | None) -> HttpResponseRedirect:
    if not field.storage.exists(field.name):
        raise Http404
    parameters = {"ResponseContentDisposition": content_disposition_header(True, download_name)} if download_name else {}
    response = HttpResponseRedirect(field.storage.url(field.name, parameters=parameters,
                                                      expire=settings.SIGNED_URL_SECONDS))
    add_never_cache_headers(response)  # the redirect must not outlive the signature, nor an access check
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
