"""Re-dialing a finished artwork: its versions, the inputs of the browser's preview, and the re-render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from gallery import access, images, services
from gallery.forms_community import RedialForm
from gallery.quotas import QuotaError
from gallery.ratelimit import limit_posts
from gallery.views.helpers import serve_file


def _settings_or_error(request) -> tuple[float, bool] | None:
    form = RedialForm(request.POST)
    if form.is_valid():
        return form.cleaned_data["strength"], form.cleaned_data["preserve_color"]
    messages.error(request, "Pick a strength between 0.1 and 1.")
    return None


@limit_posts("upload", key="user_or_ip")
@login_required
@require_POST
def artwork_redial(request, artwork_id: int):
    """Save the artwork with new settings as its next version: computed here, never from the browser's pixels."""
    artwork = access.get_artwork_for_user(request.user, artwork_id)
    chosen = _settings_or_error(request)
    if chosen is not None:
        # Imported here: the engine loads into a web process only when it is first needed.
        from gallery import jobs

        try:
            version = services.save_version(artwork, jobs.redial_artwork(artwork, *chosen), *chosen)
        except (services.RedialError, services.StorageUnavailableError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Saved as version {version.number}: {version.settings_label}.")
    return redirect("gallery:artwork_detail", artwork_id=artwork.pk)


@login_required
@require_POST
def artwork_version_show(request, artwork_id: int, version_id: int):
    """Make an earlier (or later) version the one every page shows."""
    version = access.get_version_for_user(request.user, artwork_id, version_id)
    version.artwork.show_version(version)
    messages.success(request, f"Showing version {version.number} again: {version.settings_label}.")
    return redirect("gallery:artwork_detail", artwork_id=artwork_id)


@limit_posts("upload", key="user_or_ip")
@login_required
@require_POST
def artwork_rerender(request, artwork_id: int):
    """Paint an artwork without a kept render again, with new settings, as a new job."""
    artwork = access.get_artwork_for_user(request.user, artwork_id)
    chosen = _settings_or_error(request)
    if chosen is None:
        return redirect("gallery:artwork_detail", artwork_id=artwork.pk)
    try:
        job = services.rerender_artwork(artwork, *chosen)
    except (services.RedialError, services.StorageUnavailableError, QuotaError) as exc:
        messages.error(request, str(exc))
        return redirect("gallery:artwork_detail", artwork_id=artwork.pk)
    return redirect("gallery:job_detail", job_id=job.pk)


@login_required
@require_GET
def artwork_redial_photo(request, artwork_id: int):
    """The owner's photo as the engine painted it, at the render's size (PNG): the preview's other input."""
    artwork = access.get_artwork_for_user(request.user, artwork_id)
    from gallery import jobs

    response = HttpResponse(images.encode_png(jobs.redial_photo(artwork)), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def artwork_version_thumbnail(request, artwork_id: int, version_id: int):
    return serve_file(access.get_version_for_user(request.user, artwork_id, version_id).thumbnail)
