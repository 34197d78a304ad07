"""The home page, one's gallery and profile, and the files behind them."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import condition, require_GET, require_POST

from gallery import access, networks, services
from gallery.forms import ProfileForm
from gallery.models import Preset
from gallery.ratelimit import limit_posts
from gallery.views.helpers import serve_file


def home(request):
    presets = Preset.objects.filter(is_active=True)
    return render(request, "gallery/home.html", {"presets": presets})


@login_required
def gallery(request):
    page = Paginator(access.artworks_of(request.user), settings.GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    jobs = access.open_jobs_of(request.user)[:12]
    return render(request, "gallery/gallery.html", {"page": page, "jobs": jobs})


@login_required
@require_POST
def artwork_delete(request, artwork_id: int):
    services.delete_artwork(access.get_artwork_for_user(request.user, artwork_id))
    messages.info(request, "The artwork and its files were deleted.")
    return redirect("gallery:gallery")


@login_required
def source_image(request, source_id: int):
    return serve_file(access.get_source_image_for_user(request.user, source_id).file)


@login_required
def source_thumbnail(request, source_id: int):
    return serve_file(access.get_source_image_for_user(request.user, source_id).thumbnail)


def preset_preview(request, name: str):
    return serve_file(access.get_preset(name).preview, public=True)


def _found(path):
    if path is None:
        raise Http404
    return path


def _preset_network(name: str):
    return _found(networks.network_path(access.get_preset(name).name))


def _preset_painting(name: str):
    return _found(networks.painting_path(access.get_preset(name).name))


def _arbitrary_graph(graph: str):
    # Imported here, as the preview imports it: the engine's check of the weights, run once per process. A damaged
    # graph is not handed to browsers, which then leave the preview to the server, which says what is wrong.
    from gallery import jobs

    if jobs.is_arbitrary_broken():
        raise Http404
    return _found(networks.arbitrary_graph_path(graph))


def _public_file(path, content_type: str) -> FileResponse:
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
@condition(etag_func=lambda request, name: networks.file_sha256(_preset_network(name)))
def preset_network(request, name: str):
    """The preset's ONNX network, for onnxruntime-web. The ETag is its sha256: a revalidation costs a 304."""
    return _public_file(_preset_network(name), "application/octet-stream")


@require_GET
@condition(etag_func=lambda request, name: networks.file_sha256(_preset_painting(name)))
def preset_painting(request, name: str):
    """The preset's painting, which the browser encodes with the any-style network; public like its preview."""
    return _public_file(_preset_painting(name), "image/jpeg")


@require_GET
@condition(etag_func=lambda request, graph: networks.file_sha256(_arbitrary_graph(graph)))
def arbitrary_network(request, graph: str):
    """One of the any-style network's four ONNX graphs (networks.ARBITRARY_GRAPHS), for onnxruntime-web."""
    return _public_file(_arbitrary_graph(graph), "application/octet-stream")


def avatar(request, user_id: int):
    return serve_file(access.get_profile_with_avatar(user_id).avatar, public=True)


@login_required
def profile(request):
    return render(request, "gallery/profile.html", {"profile": services.ensure_profile(request.user)})


@limit_posts("upload", key="user_or_ip")
@login_required
def profile_edit(request):
    current = services.ensure_profile(request.user)
    form = ProfileForm(request.POST or None, request.FILES or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.update_profile(current, form.cleaned_data["display_name"], form.avatar_image)
        messages.success(request, "Profile saved.")
        return redirect("gallery:profile")
    return render(request, "gallery/profile_edit.html", {"form": form})
