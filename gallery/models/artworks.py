"""Finished pictures and their likes."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from gallery.models.base import Hideable, artwork_image_path, artwork_thumbnail_path
from gallery.models.jobs import StyleJob


class Artwork(Hideable):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private: only you"
        UNLISTED = "unlisted", "Unlisted: anyone with the link"
        PUBLIC = "public", "Public: in explore and on your profile"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artworks")
    job = models.OneToOneField(StyleJob, on_delete=models.CASCADE, related_name="artwork")
    image = models.FileField(upload_to=artwork_image_path)
    thumbnail = models.FileField(upload_to=artwork_thumbnail_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    # Empty when no share link exists; otherwise 32 random bytes, so links cannot be guessed or enumerated.
    share_token = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["visibility", "-created_at"], name="artwork_visibility_newest")]

    def __str__(self) -> str:
        return f"Artwork #{self.pk}"

    def set_visibility(self, visibility: str) -> None:
        self.visibility = visibility
        if visibility == self.Visibility.UNLISTED and not self.share_token:
            self.share_token = secrets.token_urlsafe(32)
        self.save(update_fields=["visibility", "share_token"])

    def regenerate_share_token(self) -> None:
        self.share_token = secrets.token_urlsafe(32)
        self.save(update_fields=["share_token"])

    def revoke_share_token(self) -> None:
        self.share_token = ""
        self.save(update_fields=["share_token"])

    def delete_files(self) -> None:
        for field in (self.image, self.thumbnail):
            if field:
                field.storage.delete(field.name)


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "artwork"], name="like_once_per_user")]
