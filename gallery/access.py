"""Look-ups that return an object the user may see, or raise Http404.

Private things answer 404, not 403, so a guessed id reveals nothing about what exists.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from gallery.models import Artwork, ArtworkVersion, JobStyle, Like, Preset, Profile, SourceImage, StyleJob
from gallery.moderation import can_moderate

ARTWORK_RELATED = ("owner__profile", "job__content", "current_version")
STYLE_ROWS = ("styles__preset", "styles__image")  # a job's JobStyle rows, prefetched for its labels and pictures
ARTWORK_STYLE_ROWS = tuple(f"job__{name}" for name in STYLE_ROWS)
# The same rows in one query instead of three (a style's preset and image joined), for the pages everyone reads.
ARTWORK_STYLES_JOINED = Prefetch("job__styles", queryset=JobStyle.objects.select_related("preset", "image"))


def get_job_for_user(user, job_id: int) -> StyleJob:
    return get_object_or_404(
        StyleJob.objects.select_related("content").prefetch_related(*STYLE_ROWS), pk=job_id, owner_id=user.pk
    )


def get_artwork_for_user(user, artwork_id: int) -> Artwork:
    return get_object_or_404(
        Artwork.objects.select_related("job__content", "current_version").prefetch_related(*ARTWORK_STYLE_ROWS),
        pk=artwork_id,
        owner_id=user.pk,
    )


def get_version_for_user(user, artwork_id: int, version_id: int) -> ArtworkVersion:
    """A version of one of the user's own artworks, with its artwork."""
    return get_object_or_404(
        ArtworkVersion.objects.select_related("artwork"), pk=version_id, artwork_id=artwork_id,
        artwork__owner_id=user.pk,
    )


def get_source_image_for_user(user, source_id: int) -> SourceImage:
    return get_object_or_404(SourceImage, pk=source_id, owner_id=user.pk)


def get_preset(name: str) -> Preset:
    return get_object_or_404(Preset, name=name, is_active=True)


def get_profile_with_avatar(user_id: int) -> Profile:
    return get_object_or_404(Profile.objects.exclude(avatar=""), user_id=user_id, user__is_active=True)


def artworks_of(user) -> QuerySet[Artwork]:
    return (
        Artwork.objects.filter(owner_id=user.pk)
        .select_related("job__content", "current_version")
        .prefetch_related(*ARTWORK_STYLE_ROWS)
    )


def open_jobs_of(user) -> QuerySet[StyleJob]:
    """Jobs without an artwork yet: waiting, running, or ended without a result."""
    return (
        StyleJob.objects.filter(owner_id=user.pk, artwork__isnull=True)
        .exclude(status=StyleJob.Status.CANCELED)
        .prefetch_related(*STYLE_ROWS)
    )


def public_artworks() -> QuerySet[Artwork]:
    """Artworks on public surfaces: public, not hidden by a moderator, by an account that is not banned."""
    return Artwork.objects.filter(
        visibility=Artwork.Visibility.PUBLIC, hidden_at__isnull=True, owner__is_active=True
    ).select_related(*ARTWORK_RELATED).prefetch_related(ARTWORK_STYLES_JOINED)


def with_my_likes(artworks: QuerySet[Artwork], user) -> QuerySet[Artwork]:
    """Annotate liked_by_me in the same query (the like count is a column), so cards cost no extra queries."""
    liked = Like.objects.filter(artwork=OuterRef("pk"), user_id=user.pk) if user.is_authenticated else Like.objects.none()
    return artworks.annotate(liked_by_me=Exists(liked))


def explore_artworks(user, sort: str) -> QuerySet[Artwork]:
    """Public artworks, newest or most liked first; each order has its index (Artwork.Meta.indexes)."""
    order = ("-like_count", "-created_at", "-pk") if sort == "top" else ("-created_at", "-pk")
    return with_my_likes(public_artworks(), user).order_by(*order)


def get_artwork_for_viewer(user, artwork_id: int) -> Artwork:
    """The owner sees their artwork in every state; everyone else only a public, visible one."""
    artworks = with_my_likes(
        Artwork.objects.select_related(*ARTWORK_RELATED).prefetch_related(*ARTWORK_STYLE_ROWS), user
    )
    artwork = get_object_or_404(artworks, pk=artwork_id)
    if artwork.owner_id == user.pk:
        return artwork
    return get_public_artwork(user, artwork_id)


def get_public_artwork(user, artwork_id: int) -> Artwork:
    """A public, visible artwork: the only kind anyone, its owner included, can like."""
    return get_object_or_404(with_my_likes(public_artworks(), user), pk=artwork_id)


def get_shared_artwork(user, token: str) -> Artwork:
    """An unlisted (or public) artwork through its share link, until the link is revoked or the artwork hidden."""
    shareable = Artwork.objects.filter(
        visibility__in=[Artwork.Visibility.UNLISTED, Artwork.Visibility.PUBLIC],
        hidden_at__isnull=True,
        owner__is_active=True,
    ).exclude(share_token="")
    shareable = shareable.select_related(*ARTWORK_RELATED).prefetch_related(*ARTWORK_STYLE_ROWS)
    return get_object_or_404(with_my_likes(shareable, user), share_token=token)


def get_style_source(artwork: Artwork, viewer, position: int | None = None) -> SourceImage:
    """An uploaded style image of an artwork a viewer may see (the first, or the row at ``position``), unless a
    moderator hid it from others."""
    rows = [row for row in artwork.job.styles.all() if row.image_id and position in (None, row.position)]
    style = rows[0].image if rows else None
    if style is None or (style.is_hidden and artwork.owner_id != viewer.pk):
        raise Http404
    return style


def get_public_profile(username: str):
    return get_object_or_404(get_user_model().objects.select_related("profile"), username=username, is_active=True)


def _moderated(queryset: QuerySet, user) -> QuerySet:
    """What a moderator may look at: items someone reported or a moderator hid, never other private things."""
    if not can_moderate(user):
        return queryset.none()
    return queryset.filter(Q(hidden_at__isnull=False) | Q(reports__isnull=False)).distinct()


def get_artwork_for_moderator(user, artwork_id: int) -> Artwork:
    return get_object_or_404(_moderated(Artwork.objects.all(), user), pk=artwork_id)


def get_style_image_for_moderator(user, source_id: int) -> SourceImage:
    return get_object_or_404(_moderated(SourceImage.objects.filter(kind=SourceImage.Kind.STYLE), user), pk=source_id)


def parse_id(key: str | None) -> int | None:
    """An id from a URL or query string, or None: ASCII digits only ("²".isdigit() is true, int("²") fails)."""
    return int(key) if key and key.isascii() and key.isdigit() else None


def get_report_target(user, kind: str, key: str):
    """The item a signed-in user wants to report: someone else's, and public."""
    item_id = parse_id(key)
    if kind == "artwork" and item_id is not None:
        item = get_public_artwork(user, item_id)
    elif kind == "style" and item_id is not None:
        item = get_style_source(get_public_artwork(user, item_id), user)
    elif kind == "user":
        item = get_public_profile(key)
    else:
        raise Http404
    if getattr(item, "owner_id", item.pk) == user.pk:
        raise Http404
    return item
