"""Writes of the social layer: visibility and share links, likes, remix look-ups."""

from gallery import access
from gallery.models import Artwork, Like

REMIXED_SETTINGS = ("method", "strength", "preserve_color", "max_side", "style_scale")


def set_like(user, artwork: Artwork, liked: bool) -> int:
    """Like or unlike, idempotently, and return the artwork's like count.

    Concurrent clicks cannot double-count: the unique constraint makes a second INSERT a no-op
    (ON CONFLICT DO NOTHING), and the count is an aggregate over rows, never a stored number.
    """
    if liked:
        Like.objects.bulk_create([Like(user=user, artwork=artwork)], ignore_conflicts=True)
    else:
        Like.objects.filter(user=user, artwork=artwork).delete()
    return Like.objects.filter(artwork=artwork).count()


def change_sharing(artwork: Artwork, action: str) -> None:
    if action == "regenerate":
        artwork.regenerate_share_token()
    elif action == "revoke":
        artwork.revoke_share_token()
    else:
        raise ValueError(f"Unknown sharing action {action!r}.")


def remix_initial(user, artwork_id: str | None) -> dict:
    """Initial values for the new-picture form: the style and settings of an artwork the user may see."""
    pk = access.parse_id(artwork_id)
    if pk is None:
        return {}
    artwork = access.get_artwork_for_viewer(user, pk)
    initial = {name: getattr(artwork.job, name) for name in REMIXED_SETTINGS}
    if artwork.job.preset_id and artwork.job.preset.is_active:
        initial["preset"] = artwork.job.preset_id
    elif artwork.owner_id == user.pk and not artwork.job.style_image.is_hidden:
        # Uploaded style images stay their uploader's ("My styles"); others remix the settings only.
        initial["my_style"] = artwork.job.style_image_id
    return initial
