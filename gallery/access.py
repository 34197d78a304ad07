"""Look-ups that return an object the user may see, or raise Http404.

Private things answer 404, not 403, so a guessed id reveals nothing about what exists.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from gallery.models import Artwork, Preset, Profile, SourceImage, StyleJob


def get_job_for_user(user, job_id: int) -> StyleJob:
    return get_object_or_404(
        StyleJob.objects.select_related("content", "preset", "style_image"), pk=job_id, owner_id=user.pk
    )


def get_artwork_for_user(user, artwork_id: int) -> Artwork:
    return get_object_or_404(
        Artwork.objects.select_related("job__content", "job__preset", "job__style_image"),
        pk=artwork_id,
        owner_id=user.pk,
    )


def get_source_image_for_user(user, source_id: int) -> SourceImage:
    return get_object_or_404(SourceImage, pk=source_id, owner_id=user.pk)


def get_preset(name: str) -> Preset:
    return get_object_or_404(Preset, name=name, is_active=True)


def get_profile_with_avatar(user_id: int) -> Profile:
    return get_object_or_404(Profile.objects.exclude(avatar=""), user_id=user_id, user__is_active=True)


def artworks_of(user) -> QuerySet[Artwork]:
    return Artwork.objects.filter(owner_id=user.pk).select_related("job__content", "job__preset", "job__style_image")


def open_jobs_of(user) -> QuerySet[StyleJob]:
    """Jobs without an artwork yet: waiting, running, or ended without a result."""
    return (
        StyleJob.objects.filter(owner_id=user.pk, artwork__isnull=True)
        .exclude(status=StyleJob.Status.CANCELED)
        .select_related("preset")
    )
