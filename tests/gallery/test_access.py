"""Every view, tried by the owner, another user, a moderator and an anonymous visitor."""

import pytest
from django.urls import reverse
from PIL import Image

from gallery import services
from gallery.models import Artwork, StyleJob
from tests.gallery.factories import clean

pytestmark = pytest.mark.django_db
ROLES = ["owner", "other", "moderator", "anonymous"]


@pytest.fixture
def world(owner, make_job, preset):
    """The owner's private things: a finished artwork and a job still waiting in the queue."""
    finished = make_job(owner)
    finished.mark_running("w")
    artwork = services.save_artwork(finished, Image.new("RGB", (64, 48), (200, 90, 40)))
    waiting = make_job(owner)
    services.update_profile(owner.profile, "Olive", clean())
    return {"artwork": artwork, "job": finished, "waiting": waiting, "preset": preset, "owner": owner}


PRIVATE_GETS = {
    "job_detail": lambda w: ("gallery:job_detail", [w["job"].pk]),
    "job_status": lambda w: ("gallery:job_status", [w["job"].pk]),
    "content_image": lambda w: ("gallery:source_image", [w["job"].content_id]),
}
# Artworks can be public, so their page and files answer everyone; a private one is a 404 to all but its owner.
PRIVATE_ARTWORK_GETS = ["artwork_detail", "artwork_image", "artwork_thumbnail", "artwork_download", "artwork_content"]
PRIVATE_POSTS = {
    "job_cancel": lambda w: ("gallery:job_cancel", [w["waiting"].pk], {}),
    "artwork_delete": lambda w: ("gallery:artwork_delete", [w["artwork"].pk], {}),
    "artwork_visibility": lambda w: ("gallery:artwork_visibility", [w["artwork"].pk], {"visibility": "public"}),
    "artwork_share": lambda w: ("gallery:artwork_share", [w["artwork"].pk], {"action": "regenerate"}),
}
SIGNED_IN_PAGES = ["gallery:gallery", "gallery:job_new", "gallery:profile", "gallery:profile_edit",
                   "password_change"]
PUBLIC_PAGES = {
    "home": lambda w: ("gallery:home", []),
    "preset_preview": lambda w: ("gallery:preset_preview", [w["preset"].name]),
    "avatar": lambda w: ("gallery:avatar", [w["owner"].pk]),
    "login": lambda w: ("login", []),
    "signup": lambda w: ("gallery:signup", []),
    "password_reset": lambda w: ("password_reset", []),
}


def _url(spec) -> str:
    name, args = spec
    return reverse(name, args=args)


def _assert_login_redirect(response):
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _assert_owner_only(response, role: str, owner_status: int):
    """Owners get through; signed-in strangers (moderators too) get 404; visitors go to log in."""
    if role == "owner":
        assert response.status_code == owner_status
    elif role == "anonymous":
        _assert_login_redirect(response)
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PRIVATE_GETS)
def test_it_shows_private_things_to_their_owner_only(name, role, clients, world):
    _assert_owner_only(clients[role].get(_url(PRIVATE_GETS[name](world))), role, owner_status=200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PRIVATE_ARTWORK_GETS)
def test_it_shows_a_private_artwork_to_its_owner_only(name, role, clients, world):
    response = clients[role].get(reverse(f"gallery:{name}", args=[world["artwork"].pk]))
    assert response.status_code == (200 if role == "owner" else 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PRIVATE_POSTS)
def test_it_lets_only_the_owner_change_private_things(name, role, clients, world):
    url_name, args, data = PRIVATE_POSTS[name](world)
    _assert_owner_only(clients[role].post(reverse(url_name, args=args), data), role, owner_status=302)
    artwork = Artwork.objects.filter(pk=world["artwork"].pk).first()
    changed = (
        artwork is None
        or artwork.visibility != Artwork.Visibility.PRIVATE
        or artwork.share_token != ""
        or StyleJob.objects.get(pk=world["waiting"].pk).status == StyleJob.Status.CANCELED
    )
    assert changed == (role == "owner")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_it_requires_sign_in_for_personal_pages(name, role, clients, world):
    response = clients[role].get(reverse(name))
    if role == "anonymous":
        _assert_login_redirect(response)
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_it_serves_public_pages_to_everyone(name, role, clients, world):
    assert clients[role].get(_url(PUBLIC_PAGES[name](world))).status_code == 200


@pytest.mark.parametrize("role", ["other", "moderator"])
def test_it_keeps_other_peoples_artworks_out_of_a_gallery(role, clients, world):
    response = clients[role].get(reverse("gallery:gallery"))
    assert list(response.context["page"].object_list) == []
    assert list(response.context["jobs"]) == []
    owner_page = clients["owner"].get(reverse("gallery:gallery"))
    assert list(owner_page.context["page"].object_list) == [world["artwork"]]


def test_it_serves_private_files_only_through_views(world, client, settings):
    assert not hasattr(settings, "MEDIA_URL") or settings.MEDIA_URL in ("", "/")
    name = world["artwork"].image.name
    for guess in (f"/media/{name}", f"/{name}", f"/static/{name}"):
        assert client.get(guess).status_code == 404


def test_it_streams_the_full_size_result_as_a_download(clients, world):
    response = clients["owner"].get(reverse("gallery:artwork_download", args=[world["artwork"].pk]))
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_it_reports_job_status_as_json(
    clients, world, owner, make_job, redis_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        waiting = make_job(owner)
    body = clients["owner"].get(reverse("gallery:job_status", args=[waiting.pk])).json()
    assert body["status"] == "queued" and body["queue_position"] == 1 and body["result"] is None
    done = clients["owner"].get(reverse("gallery:job_status", args=[world["job"].pk])).json()
    assert done["status"] == "done" and done["progress"] == 100
    assert done["result"]["image_url"] == reverse("gallery:artwork_image", args=[world["artwork"].pk])


def test_it_explains_that_a_started_job_cannot_be_canceled(clients, world):
    world["waiting"].mark_running("w")
    response = clients["owner"].post(reverse("gallery:job_cancel", args=[world["waiting"].pk]), follow=True)
    assert "can no longer be canceled" in response.content.decode()
    assert StyleJob.objects.get(pk=world["waiting"].pk).status == StyleJob.Status.RUNNING
