"""The new-picture form, its live preview, and the pages that follow a job."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gallery import access, community, images, networks, printsizes, ratelimit, services
from gallery.forms import DevicePaintForm, PreviewForm, StyleJobForm
from gallery.models import IllegalTransitionError, JobStyle
from gallery.quotas import QuotaError
from gallery.ratelimit import limit_posts
from gallery.views.helpers import job_status_data


@login_required
def job_new(request):
    # ?remix=<artwork id>: start from the styles and settings of an artwork the user may see.
    remix = community.remix(request.user, request.GET.get("remix"))
    if request.method != "POST":
        for note in remix.notes:
            messages.info(request, note)
    elif not ratelimit.allow(request, "upload", "user_or_ip"):
        # Refused before the form is read, so no upload is decoded; the page keeps the choices as they were sent.
        form = StyleJobForm.as_sent(request.POST, owner=request.user, shared_styles=remix.shared)
        return _job_form_page(request, form, remix, status=429, refusal=ratelimit.limit_message("upload"))
    form = StyleJobForm(request.POST or None, request.FILES or None, initial=remix.settings, style_rows=remix.rows,
                        shared_styles=remix.shared, owner=request.user)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_job(request.user, form.to_request())
        except QuotaError as exc:
            form.add_error(None, str(exc))
        except services.StorageUnavailableError as exc:
            form.add_error(None, str(exc))
            status = 503
        else:
            return redirect("gallery:job_detail", job_id=job.pk)
    return _job_form_page(request, form, remix, status=status)


def _job_form_page(request, form: StyleJobForm, remix, *, status: int, refusal: str = ""):
    """The new-picture page; ``refusal`` is shown above the form, for a submission refused before it was read."""
    limits = {
        "upload_limit_mb": images.megabytes(settings.UPLOAD_MAX_BYTES),
        "upload_limit_mp": f"{settings.UPLOAD_MAX_PIXELS / 1e6:g}",
        "preview_side": settings.PREVIEW_SIDE,
    }
    context = {"form": form, "refusal": refusal, "remix": remix.artwork, "max_styles": JobStyle.MAX_PER_JOB,
               "device_presets": networks.device_presets(), "device_paintings": networks.device_paintings(),
               "arbitrary_on_device": networks.arbitrary_on_device(), "device_max_pixels": networks.device_max_pixels(),
               "device_budget_ms": settings.DEVICE_PREVIEW_BUDGET_MS,
               **limits, **_size_context(form)}
    return render(request, "gallery/job_new.html", context, status=status)


def _size_context(form: StyleJobForm) -> dict:
    """The size choices with their expected times, and what static/gallery/sizes.js needs to redo them for the
    photo the visitor picks."""
    timings = printsizes.read_timings()
    limits = {"max_side": settings.JOB_MAX_SIDE, "max_pixels": settings.JOB_MAX_PIXELS,
              "optimize_max_side": settings.JOB_OPTIMIZE_MAX_SIDE}
    return {
        "size_options": printsizes.size_options(form["max_side"], timings),
        "size_limits": {**limits, "max_megapixels": f"{settings.JOB_MAX_PIXELS / 1e6:g}"},
        "size_table": {**limits, "own_size": printsizes.OWN_SIZE, "seconds": timings.for_page() if timings else {}},
        "timings": timings,
    }


@limit_posts("preview", key="user_or_ip", json=True)
@login_required
@require_POST
def job_preview(request):
    """A 256 px any-style render of the job form's current choices, as a JPEG. JSON errors otherwise."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.PREVIEW_MAX_BYTES:
        return JsonResponse({"error": "The preview images are too large."}, status=413)
    # The page passes its ?remix=<artwork id> on, so a remixed artwork's style previews too.
    remix = community.remix(request.user, request.GET.get("remix"))
    form = PreviewForm(request.POST, request.FILES, owner=request.user, shared_styles=remix.shared)
    if not form.is_valid():
        return JsonResponse({"error": " ".join(form.all_errors())}, status=400)
    # Imported here: the engine (and PyTorch) loads into a web process only when it renders its first preview.
    from gallery import jobs

    try:
        preview = jobs.render_preview(form.to_preview())
    except services.PreviewError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    response = HttpResponse(images.encode_jpeg(preview), content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


@limit_posts("upload", key="user_or_ip", json=True)
@login_required
@require_POST
def job_device(request):
    """The job form with the picture the visitor's browser painted: stored as an artwork, no worker involved.
    Answers the artwork's address as JSON, or the form's errors."""
    remix = community.remix(request.user, request.GET.get("remix"))
    form = DevicePaintForm(request.POST, request.FILES, owner=request.user, shared_styles=remix.shared)
    if not form.is_valid():
        return JsonResponse({"error": " ".join(form.all_errors())}, status=400)
    try:
        result = form.cleaned_data["result"].clean_image.image
        artwork = services.create_device_artwork(request.user, form.to_request(), result)
    except QuotaError as exc:
        return JsonResponse({"error": str(exc)}, status=429)
    except services.StorageUnavailableError as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    return JsonResponse({"url": reverse("gallery:artwork_detail", args=[artwork.pk])})


@login_required
def job_detail(request, job_id: int):
    job = access.get_job_for_user(request.user, job_id)
    return render(request, "gallery/job_detail.html", {"job": job, "status": job_status_data(job)})


@login_required
@require_GET
def job_status(request, job_id: int):
    return JsonResponse(job_status_data(access.get_job_for_user(request.user, job_id)))


@login_required
@require_POST
def job_cancel(request, job_id: int):
    job = access.get_job_for_user(request.user, job_id)
    try:
        services.cancel_job(job)
        messages.info(request, "The job was canceled.")
    except IllegalTransitionError:
        messages.error(request, "This job has already started, so it can no longer be canceled.")
    return redirect("gallery:job_detail", job_id=job.pk)
