from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gallery import access, community, images, provenance, services
from gallery.forms import PreviewForm, ProfileForm, SignUpForm, StyleJobForm
from gallery.models import IllegalTransitionError, Preset


def serve_file(field, *, download_name: str | None = None) -> FileResponse:
    """Stream a stored file after the caller checked access. Works with any Django storage."""
    if not field:
        raise Http404
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=bool(download_name), filename=download_name or field.name)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def home(request):
    presets = Preset.objects.filter(is_active=True)
    return render(request, "gallery/home.html", {"presets": presets})


def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        services.ensure_profile(user)
        login(request, user)
        messages.success(request, "Welcome to Atelier. Upload a photo to paint your first picture.")
        return redirect("gallery:job_new")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def gallery(request):
    page = Paginator(access.artworks_of(request.user), settings.GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    jobs = access.open_jobs_of(request.user)[:12]
    return render(request, "gallery/gallery.html", {"page": page, "jobs": jobs})


@login_required
def job_new(request):
    # ?remix=<artwork id>: start from the style and settings of an artwork the user may see.
    initial = community.remix_initial(request.user, request.GET.get("remix"))
    form = StyleJobForm(request.POST or None, request.FILES or None, initial=initial, owner=request.user)
    if request.method == "POST" and form.is_valid():
        job = services.create_job(request.user, form.to_request())
        return redirect("gallery:job_detail", job_id=job.pk)
    limits = {
        "upload_limit_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "upload_limit_mp": settings.UPLOAD_MAX_PIXELS // 1_000_000,
        "preview_side": settings.PREVIEW_SIDE,
    }
    return render(request, "gallery/job_new.html", {"form": form, **limits})


@login_required
@require_POST
def job_preview(request):
    """A 256 px any-style render of the job form's current choices, as a JPEG. JSON errors otherwise."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.PREVIEW_MAX_BYTES:
        return JsonResponse({"error": "The preview images are too large."}, status=413)
    form = PreviewForm(request.POST, request.FILES, owner=request.user)
    if not form.is_valid():
        return JsonResponse({"error": " ".join(msg for errors in form.errors.values() for msg in errors)}, status=400)
    try:
        if form.cleaned_data.get("style"):
            provenance.check_style_allowed(form.cleaned_data["style"].clean_image.image)
        preview = services.render_preview(form.to_preview())
    except (provenance.BlockedStyleError, services.PreviewError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    response = HttpResponse(images.encode_jpeg(preview), content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


@login_required
def job_detail(request, job_id: int):
    job = access.get_job_for_user(request.user, job_id)
    return render(request, "gallery/job_detail.html", {"job": job, "status": _job_status(job)})


def _job_status(job) -> dict:
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
            "gallery_url": reverse("gallery:gallery"),
        }
    return status


@login_required
@require_GET
def job_status(request, job_id: int):
    return JsonResponse(_job_status(access.get_job_for_user(request.user, job_id)))


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


@login_required
@require_POST
def artwork_delete(request, artwork_id: int):
    services.delete_artwork(access.get_artwork_for_user(request.user, artwork_id))
    messages.info(request, "The artwork and its files were deleted.")
    return redirect("gallery:gallery")


@login_required
def source_image(request, source_id: int):
    return serve_file(access.get_source_image_for_user(request.user, source_id).file)


def preset_preview(request, name: str):
    return serve_file(access.get_preset(name).preview)


def avatar(request, user_id: int):
    return serve_file(access.get_profile_with_avatar(user_id).avatar)


@login_required
def profile(request):
    return render(request, "gallery/profile.html", {"profile": services.ensure_profile(request.user)})


@login_required
def profile_edit(request):
    current = services.ensure_profile(request.user)
    form = ProfileForm(request.POST or None, request.FILES or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.update_profile(current, form.cleaned_data["display_name"], form.avatar_image)
        messages.success(request, "Profile saved.")
        return redirect("gallery:profile")
    return render(request, "gallery/profile_edit.html", {"form": form})
