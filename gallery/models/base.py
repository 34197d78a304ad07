"""What several models share: random upload paths and moderator hiding."""

import uuid

from django.db import models
from django.utils import timezone


def _upload_path(folder: str, extension: str) -> str:
    # Random names: a stored file's name must reveal nothing about its owner or content.
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


def source_image_path(instance: models.Model, filename: str) -> str:
    return _upload_path(f"sources/{instance.kind}", "jpg")


def source_thumbnail_path(instance: models.Model, filename: str) -> str:
    return _upload_path(f"sources/{instance.kind}/thumbnails", "jpg")


def avatar_path(instance: models.Model, filename: str) -> str:
    return _upload_path("avatars", "jpg")


def artwork_image_path(instance: models.Model, filename: str) -> str:
    return _upload_path("artworks", "png")


def artwork_render_path(instance: models.Model, filename: str) -> str:
    return _upload_path("renders", "png")


def artwork_thumbnail_path(instance: models.Model, filename: str) -> str:
    return _upload_path("thumbnails", "jpg")


def preset_preview_path(instance: models.Model, filename: str) -> str:
    return f"presets/{instance.name}.jpg"


class Hideable(models.Model):
    """Something a moderator can take off every public surface. Its owner still sees it, with the reason."""

    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    def hide(self, reason: str) -> None:
        self.hidden_at, self.hidden_reason = timezone.now(), reason
        self.save(update_fields=["hidden_at", "hidden_reason"])

    def restore(self) -> None:
        self.hidden_at, self.hidden_reason = None, ""
        self.save(update_fields=["hidden_at", "hidden_reason"])
