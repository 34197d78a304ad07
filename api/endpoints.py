"""The JSON API, /api/v1/: presets, jobs, and one's artworks. Token-authenticated; the site's rules apply.

Views stay thin: access rules come from gallery.access, writes from gallery.services, validation from the web form.
"""

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.urls import reverse
from ninja import File, Form, NinjaAPI, Status, UploadedFile
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger

from api.auth import TokenAuth
from api.jobform import JobFields, JobFieldsError, build_form
from api.schemas import ArtworkOut, ArtworkPage, Error, InputError, JobOut, PresetOut, VisibilityIn
from gallery import access, ratelimit, services
from gallery.models import Artwork, Preset
from gallery.quotas import QuotaError
from gallery.views.helpers import job_status_data, serve_file

NO_TOKEN = "Send a valid API token as 'Authorization: Bearer <token>'. Create one on your profile page."

api = NinjaAPI(
    title="Atelier API",
    version="1",
    auth=TokenAuth(),
    # Swagger UI's bundle and styles come from django-ninja's own static files (no CDN); the validator badge is off,
    # as it would send the schema to an outside service.
    docs=Swagger(settings={"validatorUrl": None}),
    urls_namespace="api",
)


@api.exception_handler(AuthenticationError)
def _no_token(request, exc):
    return api.create_response(request, {"detail": NO_TOKEN}, status=401)


@api.exception_handler(ValidationError)
def _bad_fields(request, exc):
    # The same shape as the job form's errors: {"detail": "...", "errors": {field: [messages]}}.
    errors = {}
    for error in exc.errors:
        errors.setdefault(str(error["loc"][-1]), []).append(error["msg"])
    return api.create_response(request, _input_error(errors), status=400)


def _input_error(errors: dict[str, list[str]]) -> dict:
    return {"detail": " ".join(f"{field}: {msg}" for field, msgs in errors.items() for msg in msgs), "errors": errors}


def _job(job) -> dict:
    artwork = getattr(job, "artwork", None) if job.status == job.Status.DONE else None
    return {**job_status_data(job), "artwork_id": artwork.pk if artwork else None}


def _artwork(request, artwork: Artwork) -> dict:
    job = artwork.job
    share = reverse("gallery:shared_artwork", args=[artwork.share_token]) if artwork.share_token else None
    return {
        "id": artwork.pk,
        "job_id": job.pk,
        "created_at": artwork.created_at,
        "width": artwork.width,
        "height": artwork.height,
        "visibility": artwork.visibility,
        "share_url": request.build_absolute_uri(share) if share else None,
        "hidden_reason": artwork.hidden_reason if artwork.is_hidden else None,
        "method": job.method,
        "version": artwork.current_version.number,
        "strength": artwork.current_version.strength,
        "preserve_color": artwork.current_version.preserve_color,
        "size": job.max_side,
        "style_scale": job.style_scale,
        "styles": [{"label": style.label, "weight": style.weight} for style in job.styles.all()],
        "download_url": reverse("api:artwork_download", args=[artwork.pk]),
    }


@api.get("/presets", response=list[PresetOut], url_name="presets")
def list_presets(request):
    return [
        {
            "name": preset.name,
            "title": preset.title,
            "artist": preset.artist,
            "year": preset.year,
            "preview_url": reverse("gallery:preset_preview", args=[preset.name]) if preset.preview else None,
        }
        for preset in Preset.objects.filter(is_active=True)
    ]


@api.post("/jobs", response={201: JobOut, 400: InputError, 429: Error, 503: Error}, url_name="jobs")
def create_job(
    request,
    fields: Form[JobFields],
    photo: File[UploadedFile],
    image1: File[UploadedFile] = None,
    image2: File[UploadedFile] = None,
    image3: File[UploadedFile] = None,
    image4: File[UploadedFile] = None,
):
    """A new picture: a photo, one to four styles (row i is a preset name preset<i> or a style image image<i>, with
    an optional weight<i>) and the web form's options. Answers the job's status; poll GET /jobs/{id}."""
    # The key's value is what the web form's "user_or_ip" gives a signed-in user, so both count against one limit.
    if not ratelimit.allow(request, "upload", key=lambda scope, req: str(req.auth.pk)):
        return Status(429, {"detail": ratelimit.limit_message("upload")})
    try:
        form = build_form(request.auth, fields, photo, dict(enumerate([image1, image2, image3, image4], start=1)))
        job = services.create_job(request.auth, form.to_request())
    except JobFieldsError as exc:
        return Status(400, _input_error(exc.errors))
    except QuotaError as exc:
        return Status(429, {"detail": str(exc)})
    except services.StorageUnavailableError as exc:
        return Status(503, {"detail": str(exc)})
    return Status(201, _job(job))


@api.get("/jobs/{job_id}", response=JobOut, url_name="job")
def get_job(request, job_id: int):
    return _job(access.get_job_for_user(request.auth, job_id))


@api.get("/artworks", response=ArtworkPage, url_name="artworks")
def list_artworks(request, page: int = 1):
    """One's artworks, newest first, GALLERY_PAGE_SIZE a page."""
    paginator = Paginator(access.artworks_of(request.auth), settings.GALLERY_PAGE_SIZE)
    try:
        current = paginator.page(page)
    except InvalidPage:
        raise HttpError(404, f"There is no page {page}; there are {paginator.num_pages}.") from None
    items = [_artwork(request, artwork) for artwork in current]
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages, "items": items}


@api.get("/artworks/{artwork_id}", response=ArtworkOut, url_name="artwork")
def get_artwork(request, artwork_id: int):
    return _artwork(request, access.get_artwork_for_user(request.auth, artwork_id))


@api.patch("/artworks/{artwork_id}", response=ArtworkOut, url_name="artwork_update")
def update_artwork(request, artwork_id: int, change: VisibilityIn):
    """Change the visibility: private, unlisted (makes a share link) or public."""
    artwork = access.get_artwork_for_user(request.auth, artwork_id)
    artwork.set_visibility(change.visibility)
    return _artwork(request, artwork)


@api.delete("/artworks/{artwork_id}", response={204: None}, url_name="artwork_delete")
def delete_artwork(request, artwork_id: int):
    """Delete the artwork, its job, the uploads no other job uses, and their files."""
    services.delete_artwork(access.get_artwork_for_user(request.auth, artwork_id))
    return Status(204, None)


@api.get("/artworks/{artwork_id}/download", response={200: None}, url_name="artwork_download")
def download_artwork(request, artwork_id: int):
    """The full-size PNG, as an attachment."""
    artwork = access.get_artwork_for_user(request.auth, artwork_id)
    return serve_file(artwork.image, download_name=f"atelier-{artwork.pk}.png")
