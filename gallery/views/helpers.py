"""Helpers shared by the view modules."""

from django.http import FileResponse, Http404
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme


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
