"""Pages and endpoints of the social layer: explore, artwork pages, share links, profiles, likes."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gallery import access, accounts, community
from gallery.forms_community import RedialForm, StyleCreditForm
from gallery.models import Artwork
from gallery.pagination import cursor_page
from gallery.ratelimit import limit_posts
from gallery.views.helpers import safe_next, serve_file

EXPLORE_SORTS = {"new": "Newest", "top": "Most liked"}
ARTWORK_FILES = ("image", "thumbnail", "download", "content", "render")


def _file_of(artwork: Artwork, kind: str):
    if kind == "image":
        return serve_file(artwork.image)
    if kind == "thumbnail":
        return serve_file(artwork.thumbnail)
    if kind == "download":
        return serve_file(artwork.image, download_name=accounts.artwork_file_name(artwork))
    if kind == "content":
        return serve_file(artwork.job.content.file)
    if kind == "render":
        return serve_file(artwork.render)  # the full-strength render: the photo's rules (404 when none was kept)
    raise Http404


def _file_urls(artwork: Artwork, token: str | None = None) -> dict:
    """Where the page finds an artwork's files: by id, or by share token for a link's anonymous visitors."""
    if token:
        return {kind: reverse("gallery:shared_file", args=[token, kind]) for kind in ARTWORK_FILES}
    return {kind: reverse(f"gallery:artwork_{kind}", args=[artwork.pk]) for kind in ARTWORK_FILES}


def _style_url(artwork: Artwork, style, token: str | None) -> str:
    if style.preset_id:
        return reverse("gallery:preset_preview", args=[style.preset.name])
    if token:
        return reverse("gallery:shared_style", args=[token, style.position])
    return reverse("gallery:artwork_style", args=[artwork.pk, style.position])


def explore(request):
    sort = request.GET.get("sort") if request.GET.get("sort") in EXPLORE_SORTS else "new"
    artworks = access.explore_artworks(request.user, sort)
    page = cursor_page(artworks, request.GET, settings.GALLERY_PAGE_SIZE)
    return render(request, "gallery/community/explore.html", {"page": page, "sort": sort, "sorts": EXPLORE_SORTS})


def _redial_context(artwork: Artwork) -> dict:
    """The owner's re-dial control: the current version's settings, every version, the preview's inputs."""
    current = artwork.current_version
    initial = {"strength": current.strength, "preserve_color": current.preserve_color}
    return {
        "versions": list(artwork.versions.all()),
        "redial_form": RedialForm(initial=initial),
        "redial_photo_url": reverse("gallery:artwork_redial_photo", args=[artwork.pk]),
    }


def _artwork_page(request, artwork: Artwork, token: str | None = None):
    urls = _file_urls(artwork, token)
    page_url = reverse("gallery:shared_artwork", args=[token]) if token else reverse(
        "gallery:artwork_detail", args=[artwork.pk]
    )
    is_owner = artwork.owner_id == request.user.pk
    context = {
        "artwork": artwork,
        "job": artwork.job,
        "version": artwork.current_version,
        "urls": urls,
        "styles": [(style, _style_url(artwork, style, token)) for style in artwork.job.styles.all()],
        # The report form takes the artwork's first uploaded style (access.get_report_target).
        "reportable_style": next((style.image for style in artwork.job.styles.all() if style.image_id), None),
        "is_owner": is_owner,
        "og_image": request.build_absolute_uri(urls["image"]),
        "og_url": request.build_absolute_uri(page_url),
        "share_url": request.build_absolute_uri(reverse("gallery:shared_artwork", args=[artwork.share_token]))
        if artwork.share_token
        else "",
        "visibilities": Artwork.Visibility.choices,
        **(_redial_context(artwork) if is_owner else {}),
    }
    return render(request, "gallery/community/artwork.html", context)


def artwork_detail(request, artwork_id: int):
    return _artwork_page(request, access.get_artwork_for_viewer(request.user, artwork_id))


@never_cache  # a revoked link must stop working at once, also for a visitor who is not signed in
def shared_artwork(request, token: str):
    return _artwork_page(request, access.get_shared_artwork(request.user, token), token=token)


def artwork_file(request, artwork_id: int, kind: str):
    return _file_of(access.get_artwork_for_viewer(request.user, artwork_id), kind)


def shared_file(request, token: str, kind: str):
    return _file_of(access.get_shared_artwork(request.user, token), kind)


def artwork_style(request, artwork_id: int, position: int):
    artwork = access.get_artwork_for_viewer(request.user, artwork_id)
    return serve_file(access.get_style_source(artwork, request.user, position).file)


def shared_style(request, token: str, position: int):
    artwork = access.get_shared_artwork(request.user, token)
    return serve_file(access.get_style_source(artwork, request.user, position).file)


def public_profile(request, username: str):
    person = access.get_public_profile(username)
    artworks = access.with_my_likes(access.public_artworks().filter(owner=person), request.user)
    page = cursor_page(artworks.order_by("-created_at", "-pk"), request.GET, settings.GALLERY_PAGE_SIZE)
    context = {"person": person, "page": page, "public_count": artworks.count()}
    return render(request, "gallery/community/profile.html", context)


@login_required
@require_POST
def artwork_visibility(request, artwork_id: int):
    artwork = access.get_artwork_for_user(request.user, artwork_id)
    visibility = request.POST.get("visibility")
    if visibility not in Artwork.Visibility.values:
        messages.error(request, "Pick private, unlisted or public.")
    else:
        artwork.set_visibility(visibility)
        messages.success(request, f"Visibility: {artwork.get_visibility_display()}.")
    return redirect("gallery:artwork_detail", artwork_id=artwork.pk)


@login_required
@require_POST
def artwork_share(request, artwork_id: int):
    artwork = access.get_artwork_for_user(request.user, artwork_id)
    try:
        community.change_sharing(artwork, request.POST.get("action", ""))
    except ValueError:
        raise Http404 from None
    messages.success(request, "New share link made." if artwork.share_token else "Share link revoked.")
    return redirect("gallery:artwork_detail", artwork_id=artwork.pk)


@login_required
@require_POST
@limit_posts("like", key="user_or_ip", json=True)
def artwork_like(request, artwork_id: int):
    """Body: JSON ``{"liked": true}`` or ``{"liked": false}``; anything else is a 400, never a silent unlike."""
    artwork = access.get_public_artwork(request.user, artwork_id)
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    if not isinstance(body, dict) or set(body) != {"liked"} or not isinstance(body["liked"], bool):
        return JsonResponse({"error": 'Send a JSON body {"liked": true} or {"liked": false}.'}, status=400)
    count = community.set_like(request.user, artwork, body["liked"])
    return JsonResponse({"liked": body["liked"], "count": count})


@login_required
def style_credit(request, source_id: int):
    style = access.get_source_image_for_user(request.user, source_id)
    if style.kind != style.Kind.STYLE:
        raise Http404
    form = StyleCreditForm(request.POST or None, instance=style)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Style credit saved. Public pages show it beside your pictures.")
        return redirect(safe_next(request) or "gallery:gallery")
    return render(request, "gallery/community/style_credit.html", {"form": form, "style": style})
