"""API artworks: one's own only (another user's answer 404), read, download, delete, change visibility."""

import json

import pytest

from PIL import Image

from gallery import access, services
from gallery.models import Artwork, SourceImage, StyleJob
from tests.gallery.apiclient import API, token_client
from tests.gallery.factories import stored_files

pytestmark = pytest.mark.django_db


def _patch(client, artwork, body):
    return client.patch(f"{API}/artworks/{artwork.pk}", json.dumps(body), content_type="application/json")


def test_it_lists_ones_own_artworks_a_page_at_a_time(owner, other, make_artwork, settings):
    settings.GALLERY_PAGE_SIZE = 2
    mine = [make_artwork(owner) for _ in range(3)]
    make_artwork(other)
    client = token_client(owner)
    first = client.get(f"{API}/artworks").json()
    assert (first["count"], first["page"], first["pages"]) == (3, 1, 2)
    second = client.get(f"{API}/artworks", {"page": 2}).json()
    assert [item["id"] for item in first["items"] + second["items"]] == [artwork.pk for artwork in reversed(mine)]
    missing = client.get(f"{API}/artworks", {"page": 3})
    assert missing.status_code == 404 and "no page 3" in missing.json()["detail"]
    assert token_client(other).get(f"{API}/artworks").json()["count"] == 1


def test_it_reads_an_artwork_with_its_settings_and_styles(owner, make_artwork):
    artwork = make_artwork(owner, strength=0.5)
    body = token_client(owner).get(f"{API}/artworks/{artwork.pk}").json()
    assert body["id"] == artwork.pk and body["job_id"] == artwork.job_id
    assert (body["width"], body["height"], body["visibility"], body["share_url"]) == (64, 48, "private", None)
    assert (body["method"], body["strength"], body["size"]) == ("optimize", 0.5, 64)
    assert body["styles"] == [{"label": "Bands (Test Painter)", "weight": 1.0}]
    assert body["download_url"] == f"{API}/artworks/{artwork.pk}/download" and body["hidden_reason"] is None


def test_it_reports_the_settings_of_the_shown_version(owner, make_artwork):
    artwork = make_artwork(owner, strength=0.5)
    services.save_version(artwork, Image.new("RGB", (64, 48), "teal"), 0.3, True)
    body = token_client(owner).get(f"{API}/artworks/{artwork.pk}").json()
    assert (body["version"], body["strength"], body["preserve_color"]) == (2, 0.3, True)
    artwork.show_version(artwork.versions.get(number=1))
    body = token_client(owner).get(f"{API}/artworks").json()["items"][0]
    assert (body["version"], body["strength"], body["preserve_color"]) == (1, 0.5, False)


def test_it_tells_the_owner_why_a_moderator_hid_an_artwork(owner, make_artwork):
    artwork = make_artwork(owner, visibility="public")
    artwork.hide("Copyright claim")
    assert token_client(owner).get(f"{API}/artworks/{artwork.pk}").json()["hidden_reason"] == "Copyright claim"


def test_it_downloads_the_full_size_png(owner, make_artwork):
    artwork = make_artwork(owner)
    response = token_client(owner).get(f"{API}/artworks/{artwork.pk}/download")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="atelier-{artwork.pk}.png"'
    with artwork.image.open("rb") as handle:
        assert b"".join(response.streaming_content) == handle.read()


def test_it_deletes_an_artwork_with_its_job_uploads_and_files(owner, make_artwork, django_capture_on_commit_callbacks):
    artwork = make_artwork(owner)
    files = {artwork.image.name, artwork.thumbnail.name, artwork.job.content.file.name}
    assert files <= stored_files()
    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion is committed
        response = token_client(owner).delete(f"{API}/artworks/{artwork.pk}")
    assert response.status_code == 204 and response.content == b""
    assert not Artwork.objects.exists() and not StyleJob.objects.exists() and not SourceImage.objects.exists()
    assert not files & stored_files()


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private"])
def test_it_changes_the_visibility(visibility, owner, make_artwork):
    artwork = make_artwork(owner)
    body = _patch(token_client(owner), artwork, {"visibility": visibility}).json()
    artwork.refresh_from_db()
    assert body["visibility"] == artwork.visibility == visibility
    assert access.public_artworks().filter(pk=artwork.pk).exists() == (visibility == "public")
    if visibility == "unlisted":
        assert body["share_url"] == f"http://testserver/s/{artwork.share_token}/"


@pytest.mark.parametrize("body", [{"visibility": "friends"}, {}, {"visibility": None}], ids=["unknown", "missing", "null"])
def test_it_refuses_a_bad_visibility_and_changes_nothing(body, owner, make_artwork):
    artwork = make_artwork(owner)
    response = _patch(token_client(owner), artwork, body)
    assert response.status_code == 400 and "visibility" in response.json()["errors"], response.json()
    artwork.refresh_from_db()
    assert artwork.visibility == "private" and artwork.share_token == ""


def test_it_refuses_a_body_that_is_not_json(owner, make_artwork):
    artwork = make_artwork(owner)
    response = token_client(owner).patch(f"{API}/artworks/{artwork.pk}", "visibility=public",
                                         content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]
    artwork.refresh_from_db()
    assert artwork.visibility == "private"


def test_another_users_token_finds_none_of_ones_artworks(owner, other, make_artwork):
    artwork = make_artwork(owner, visibility="public")  # public on the site, still not theirs to manage
    files = stored_files()
    client = token_client(other)
    for response in (
        client.get(f"{API}/artworks/{artwork.pk}"),
        client.get(f"{API}/artworks/{artwork.pk}/download"),
        client.delete(f"{API}/artworks/{artwork.pk}"),
        _patch(client, artwork, {"visibility": "private"}),
        client.get(f"{API}/jobs/{artwork.job_id}"),
    ):
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
    artwork.refresh_from_db()
    assert artwork.visibility == "public" and stored_files() == files
    assert token_client(owner).get(f"{API}/artworks/{artwork.pk + 1000}").status_code == 404
