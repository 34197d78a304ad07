"""A test client that signs in to the API with a real token, as a script would."""

from django.test import Client

from api.models import ApiToken

API = "/api/v1"


def token_client(user, name="script") -> Client:
    _, raw = ApiToken.issue(user, name)
    return bearer_client(raw)


def bearer_client(raw: str) -> Client:
    # enforce_csrf_checks: a script has no CSRF cookie, and the token alone must be enough.
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
