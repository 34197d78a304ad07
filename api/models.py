"""Personal API tokens. Only a token's SHA-256 digest is stored; the token itself is shown once, at creation."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "atl_"


def _digest(raw: str) -> str:
    # A plain hash is enough: the token is 32 random bytes, so there is nothing to brute-force (unlike a password).
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What the token is for, e.g. the script that uses it.")
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The token's first characters, so its owner can tell it apart.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """A new token for ``user``: the row, and the token itself, which is never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, digest=_digest(raw), hint=raw[:12]), raw

    @classmethod
    def find_user(cls, raw: str):
        """The active user a token belongs to, or None; records when the token was used."""
        token = cls.objects.select_related("user").filter(digest=_digest(raw), user__is_active=True).first()
        if token is None:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user
