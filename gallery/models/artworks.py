"""Finished pictures and their likes."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from gallery.models.base import Hideable, artwork_image_path, artwork_thumbnail_path
from gallery.models.jobs import StyleJob


# Public, and not hidden by a moderator (a banned owner is checked by the query, through the user row).
ON_PUBLIC_PAGES = models.Q(visibility="public", hidden_at__isnull=True)


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
    # Kept by a database trigger on the like table (migration 0011), so it is exact under concurrent clicks and
    # after cascading deletes (an account deleted takes its likes along); the pages sort and show it without
    # counting likes.
    like_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["visibility", "-created_at"], name="artwork_visibility_newest"),
            # One per public ordering (explore newest and top, a profile), in its order with the id as tie-break,
            # so a page is an index seek at the cursor whatever the number of artworks.
            models.Index(fields=["-created_at", "-id"], name="artwork_public_newest", condition=ON_PUBLIC_PAGES),
            models.Index(
                fields=["-like_count", "-created_at", "-id"], name="artwork_public_top", condition=ON_PUBLIC_PAGES
            ),
            models.Index(
                fields=["owner", "-created_at", "-id"], name="artwork_public_by_owner", condition=ON_PUBLIC_PAGES
            ),
        ]

    def __str__(self) -> str:
        return f"Artwork #{self.pk}"

    def save(self, *args, **kwargs):
        # The trigger owns like_count: a full save of a copy read before a like must not write the old count back.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name for field in self._meta.concrete_fields if not field.primary_key and field.name != "like_count"
            ]
        super().save(*args, **kwargs)

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
