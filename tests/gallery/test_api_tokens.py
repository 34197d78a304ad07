"""API tokens: made and revoked on the profile page, stored as a hash, and the only way into the API."""

import hashlib

import pytest
from django.test import Client

from api.models import ApiToken
from tests.gallery.apiclient import API, bearer_client, token_client
from tests.gallery.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _endpoints(artwork, job):
    return [
        ("get", f"{API}/presets"),
        ("post", f"{API}/jobs"),
        ("get", f"{API}/jobs/{job.pk}"),
        ("get", f"{API}/artworks"),
        ("get", f"{API}/artworks/{artwork.pk}"),
        ("patch", f"{API}/artworks/{artwork.pk}"),
        ("delete", f"{API}/artworks/{artwork.pk}"),
        ("get", f"{API}/artworks/{artwork.pk}/download"),
    ]


def test_it_shows_a_new_token_once_and_stores_only_its_hash(clients, owner):
    response = clients["owner"].post("/profile/tokens/", {"name": "batch script"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = response.context["raw"]
    assert raw in response.content.decode()
    token = ApiToken.objects.get(user=owner)
    assert token.name == "batch script" and token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.name, token.digest, token.hint} and raw.startswith(token.hint)
    profile = clients["owner"].get("/profile/").content.decode()
    assert "batch script" in profile and token.hint in profile and raw not in profile
    assert bearer_client(raw).get(f"{API}/presets").status_code == 200


def test_it_refuses_a_token_without_a_name(clients, owner):
    response = clients["owner"].post("/profile/tokens/", {"name": ""}, follow=True)
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_it_makes_tokens_for_signed_in_users_only(clients):
    response = clients["anonymous"].post("/profile/tokens/", {"name": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not ApiToken.objects.exists()


def test_a_revoked_token_stops_working(clients, owner):
    token, raw = ApiToken.issue(owner, "old laptop")
    assert bearer_client(raw).get(f"{API}/artworks").status_code == 200
    response = clients["owner"].post(f"/profile/tokens/{token.pk}/revoke/", follow=True)
    assert "was revoked" in response.content.decode()
    assert not ApiToken.objects.exists()
    refused = bearer_client(raw).get(f"{API}/artworks")
    assert refused.status_code == 401 and "Bearer" in refused.json()["detail"]


def test_only_its_owner_revokes_a_token(clients, owner):
    token, raw = ApiToken.issue(owner, "mine")
    assert clients["other"].post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    assert clients["anonymous"].post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert bearer_client(raw).get(f"{API}/artworks").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer atl_not-a-real-token"}, {"Authorization": "Token atl_x"}, {"Authorization": ""}],
    ids=["no token", "unknown token", "wrong scheme", "empty header"],
)
def test_every_endpoint_but_the_docs_needs_a_valid_token(headers, owner, make_artwork, clients):
    artwork = make_artwork(owner)
    client = Client(headers=headers)
    for method, url in _endpoints(artwork, artwork.job):
        response = getattr(client, method)(url)
        assert response.status_code == 401, (method, url)
        assert "Authorization: Bearer" in response.json()["detail"]
    # A browser's session cookie is not a token either, so the API has no CSRF to guard.
    assert clients["owner"].get(f"{API}/artworks").status_code == 401
    assert artwork.__class__.objects.filter(pk=artwork.pk, visibility="private").exists()


def test_a_banned_users_token_stops_working(owner):
    client = token_client(owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert client.get(f"{API}/presets").status_code == 401


def test_it_records_when_a_token_was_last_used(owner):
    token, raw = ApiToken.issue(owner, "cron")
    assert token.last_used_at is None
    bearer_client(raw).get(f"{API}/presets")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_creates_a_token_in_the_browser_that_then_opens_the_api(page, live_server, owner):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}/profile/")
    page.fill("#token-name", "my script")
    page.click("button:has-text('Create token')")
    raw = page.inner_text("#new-token")
    assert bearer_client(raw).get(f"{API}/artworks").json()["count"] == 0
    page.click("text=Back to my profile")
    page.click("#api-tokens button:has-text('Revoke')")
    assert "was revoked" in page.content()
    assert bearer_client(raw).get(f"{API}/artworks").status_code == 401
