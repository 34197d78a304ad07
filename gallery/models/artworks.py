"""Finished pictures, their versions and their likes."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from gallery.models.base import Hideable, artwork_image_path, artwork_render_path, artwork_thumbnail_path
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
    # The current version's picture and thumbnail (the same stored files as current_version's), so every page, the
    # API and the export show it without a join; show_version() moves all three together.
    image = models.FileField(upload_to=artwork_image_path)
    thumbnail = models.FileField(upload_to=artwork_thumbnail_path)
    current_version = models.ForeignKey(
        "ArtworkVersion", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    # The network's full-strength render, before the photo's colours are kept and before the strength blend, from
    # which versions are re-dialed; empty for pictures made before it was kept and for those painted on a device.
    render = models.FileField(upload_to=artwork_render_path, blank=True)
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

    @property
    def can_redial(self) -> bool:
        return bool(self.render)

    def show_version(self, version: "ArtworkVersion") -> None:
        """Make ``version`` (one of this artwork's) the picture every page shows."""
        if version.artwork_id != self.pk:
            raise ValueError(f"Version #{version.pk} belongs to another artwork than #{self.pk}.")
        self.current_version, self.image, self.thumbnail = version, version.image.name, version.thumbnail.name
        self.save(update_fields=["current_version", "image", "thumbnail"])

    def stored_files(self) -> list:
        """Every stored file of the artwork: each version's picture and thumbnail (the current ones among them) and
        the full-strength render; reads the prefetched versions when there are any."""
        fields = [self.image, self.thumbnail, self.render]
        fields += [field for version in self.versions.all() for field in (version.image, version.thumbnail)]
        unique = {field.name: field for field in fields if field}
        return list(unique.values())


class ArtworkVersion(models.Model):
    """One picture of an artwork with its settings: the worker's first, then each re-dial the owner saved."""

    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    image = models.FileField(upload_to=artwork_image_path)
    thumbnail = models.FileField(upload_to=artwork_thumbnail_path)
    strength = models.FloatField()
    preserve_color = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["artwork", "number"], name="artworkversion_one_per_number"),
            models.CheckConstraint(
                condition=models.Q(strength__gte=0, strength__lte=1), name="artworkversion_strength_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} of artwork #{self.artwork_id}"

    @property
    def settings_label(self) -> str:
        return f"strength {self.strength:.2f}, photo colours {'kept' if self.preserve_color else 'repainted'}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "artwork"], name="like_once_per_user")]
