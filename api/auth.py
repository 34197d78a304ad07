"""Bearer-token authentication for the API: ``Authorization: Bearer <token>``."""

from ninja.security import HttpBearer

from api.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        # A banned (deactivated) account's tokens stop working, as its sessions do.
        return ApiToken.find_user(token)
