"""Writes of the social layer: visibility and share links, likes, remix look-ups."""

from dataclasses import dataclass, field

from django.db.models import F, QuerySet
from django.http import Http404

from gallery import access
from gallery.forms import blend_sliders
from gallery.models import Artwork, Like, SourceImage

REMIXED_SETTINGS = ("method", "strength", "preserve_color", "max_side", "style_scale")


def set_like(user, artwork: Artwork, liked: bool) -> int:
    """Like or unlike, idempotently, and return the artwork's like count.

    Concurrent clicks cannot double-count: the unique constraint makes a second INSERT a no-op
    (ON CONFLICT DO NOTHING), and the stored count moves only with a row inserted or deleted (a trigger, in the same
    transaction as the row).
    """
    if liked:
        Like.objects.bulk_create([Like(user=user, artwork=artwork)], ignore_conflicts=True)
    else:
        Like.objects.filter(user=user, artwork=artwork).delete()
    return Artwork.objects.values_list("like_count", flat=True).get(pk=artwork.pk)


def change_sharing(artwork: Artwork, action: str) -> None:
    if action == "regenerate":
        artwork.regenerate_share_token()
    elif action == "revoke":
        artwork.revoke_share_token()
    else:
        raise ValueError(f"Unknown sharing action {action!r}.")


@dataclass(frozen=True)
class Remix:
    """What the new-picture form starts from when remixing an artwork, and why a style was left out."""

    artwork: Artwork | None = None
    settings: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)  # initial values of the form's style rows
    shared: QuerySet[SourceImage] = field(default_factory=SourceImage.objects.none)
    notes: list[str] = field(default_factory=list)


def remix(user, artwork_id: str | None) -> Remix:
    """The style rows and settings of an artwork the user may see; Http404 for any other id.

    Another user's uploaded style is offered too: the public artwork shows it. The form lists it as a shared style,
    and the new job gets its own copy.
    """
    if not artwork_id:
        return Remix()
    pk = access.parse_id(artwork_id)
    if pk is None:
        raise Http404
    artwork = access.get_artwork_for_viewer(user, pk)
    rows, shared, notes = [], [], []
    for style in artwork.job.styles.select_related("preset", "image"):
        if style.preset_id and not style.preset.is_active:
            notes.append(f"{style.preset.title} is no longer offered, so the remix leaves it out.")
        elif style.preset_id:
            rows.append({"preset": style.preset_id, "weight": style.weight})
        elif style.image.is_hidden:
            notes.append("A moderator removed a style image of that picture, so the remix leaves it out.")
        elif style.image.owner_id == user.pk:
            rows.append({"my_style": style.image_id, "weight": style.weight})
        else:
            shared.append(style.image_id)
            rows.append({"shared_style": style.image_id, "weight": style.weight})
    if not rows:
        notes.append("Pick a style for your picture.")
    else:
        # The rows store shares; the form's sliders that give them back.
        for row, slider in zip(rows, blend_sliders([row["weight"] for row in rows])):
            row["weight"] = slider
    # remix_position: where the artwork's page serves each shared style, for the form's thumbnails.
    offered = SourceImage.objects.filter(pk__in=shared, job_styles__job=artwork.job).annotate(
        remix_position=F("job_styles__position")
    )
    settings = {name: getattr(artwork.job, name) for name in REMIXED_SETTINGS}
    return Remix(artwork=artwork, settings=settings, rows=rows, shared=offered, notes=notes)
