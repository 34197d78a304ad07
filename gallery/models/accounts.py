"""A user's public face."""

from django.conf import settings
from django.db import models

from gallery.models.base import avatar_path


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=80, blank=True)
    avatar = models.FileField(upload_to=avatar_path, blank=True)
    # Set at sign-up, cleared when the mailed link is opened (gallery/verification.py). Only such an account can be
    # activated by a link: one an administrator deactivated is inactive and never logged in too, but not awaiting.
    awaiting_confirmation = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_username()
