"""The access matrix: every URL that shows an artwork, its files or its uploads, for every role and every state.

A "leak" is any 2xx answer, or any listing that mentions the artwork, where the rules say it must not be seen.
"""

import pytest
from django.urls import reverse
from PIL import Image

from gallery import moderation
from gallery.models import Report
from tests.gallery.factories import clean

pytestmark = pytest.mark.django_db
ROLES = ["owner", "other", "moderator", "anonymous"]
STATES = ["private", "unlisted", "public", "hidden", "reported-private", "owner-banned"]


@pytest.fixture
def artwork(request, owner, other, moderator, make_artwork):
    state = request.param
    visibility = {"private": "private", "reported-private": "private", "unlisted": "unlisted"}.get(state, "public")
    artwork = make_artwork(owner, visibility, preset=None, style=clean(), render=Image.new("RGB", (64, 48), "navy"))
    artwork.set_visibility("unlisted")  # every state gets a share token, which must then not leak
    artwork.set_visibility(visibility)
    if state == "hidden":
        moderation.file_report(other, artwork, Report.Reason.SPAM, "")
        moderation.hide_item(moderator, artwork, "Spam")
    if state == "reported-private":
        # Only possible through a race (reported while public, then made private): moderators may look at it.
        Report.objects.create(reporter=other, artwork=artwork, reason=Report.Reason.OTHER)
    if state == "owner-banned":
        moderation.ban_user(moderator, owner, "Spam account")
    artwork.refresh_from_db()
    artwork.state = state
    return artwork


def _surfaces(artwork) -> dict[str, tuple[str, str]]:
    """name -> (method, url)."""
    pk, token, style = artwork.pk, artwork.share_token, artwork.job.styles.get().image_id
    version = artwork.current_version_id
    urls = {
        "page": ("get", reverse("gallery:artwork_detail", args=[pk])),
        **{f"file-{kind}": ("get", reverse(f"gallery:artwork_{kind}", args=[pk])) for kind in
           ("image", "thumbnail", "download", "content", "render")},
        "file-style": ("get", reverse("gallery:artwork_style", args=[pk, 0])),
        "shared-page": ("get", reverse("gallery:shared_artwork", args=[token])),
        **{f"shared-{kind}": ("get", reverse("gallery:shared_file", args=[token, kind])) for kind in
           ("image", "thumbnail", "download", "content", "render")},
        "shared-style": ("get", reverse("gallery:shared_style", args=[token, 0])),
        "like": ("post", reverse("gallery:artwork_like", args=[pk])),
        "report": ("get", reverse("gallery:report", args=["artwork", pk])),
        "remix": ("get", reverse("gallery:job_new") + f"?remix={pk}"),
        "job": ("get", reverse("gallery:job_detail", args=[artwork.job_id])),
        "upload-content": ("get", reverse("gallery:source_image", args=[artwork.job.content_id])),
        "upload-style": ("get", reverse("gallery:source_image", args=[style])),
        "upload-style-thumbnail": ("get", reverse("gallery:source_thumbnail", args=[style])),
        "style-credit": ("get", reverse("gallery:style_credit", args=[style])),
        "redial-photo": ("get", reverse("gallery:artwork_redial_photo", args=[pk])),
        "version-thumbnail": ("get", reverse("gallery:artwork_version_thumbnail", args=[pk, version])),
        "moderation-thumbnail": ("get", reverse("gallery:moderation_artwork_thumbnail", args=[pk])),
        "moderation-style": ("get", reverse("gallery:moderation_style", args=[style])),
    }
    return urls


def _may_see(role: str, state: str, surface: str) -> bool:
    owner_active = state != "owner-banned"
    public = state == "public"
    shared = state in ("unlisted", "public")
    if surface.startswith("moderation-"):
        return role == "moderator" and state in ("hidden", "reported-private", "owner-banned") and (
            surface != "moderation-style" or state == "owner-banned"
        )
    if role == "owner":
        if not owner_active:
            return False  # a banned account is signed out
        if surface.startswith("shared-"):
            return shared
        return not (surface == "like" and not public) and not (surface == "report")
    if surface in ("redial-photo", "version-thumbnail"):
        return False  # the re-dial control's own files: for the owner alone
    own_only = ("job", "upload-content", "upload-style", "upload-style-thumbnail", "style-credit")
    if role == "anonymous" and surface in ("like", "report", "remix", *own_only):
        return False
    if surface.startswith("shared-"):
        return shared
    if surface in own_only:
        return False
    return public


@pytest.mark.parametrize("artwork", STATES, indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_it_shows_an_artwork_exactly_to_those_allowed(role, artwork, clients):
    leaks, blocked = [], []
    for surface, (method, url) in _surfaces(artwork).items():
        if method == "post":
            response = clients[role].post(url, {"liked": True}, content_type="application/json")
        else:
            response = clients[role].get(url)
        seen = 200 <= response.status_code < 300
        expected = _may_see(role, artwork.state, surface)
        if seen and not expected:
            leaks.append(f"{surface} {url} -> {response.status_code}")
        if expected and not seen:
            blocked.append(f"{surface} {url} -> {response.status_code}")
        if not seen:
            assert response.status_code in (302, 403, 404), f"{surface}: {response.status_code}"
    assert leaks == [] and blocked == []


@pytest.mark.parametrize("artwork", STATES, indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_it_lists_an_artwork_only_on_public_surfaces_when_public(role, artwork, clients, owner):
    listed = artwork.state == "public"
    link = reverse("gallery:artwork_detail", args=[artwork.pk])
    explore = clients[role].get(reverse("gallery:explore"))
    profile = clients[role].get(reverse("gallery:public_profile", args=[owner.username]))
    top = clients[role].get(reverse("gallery:explore"), {"sort": "top"})
    for response in (explore, top):
        assert (link in response.content.decode()) == listed
    if artwork.state == "owner-banned":
        assert profile.status_code == 404
    else:
        assert (link in profile.content.decode()) == listed
