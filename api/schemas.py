"""What the API answers with."""

from datetime import datetime

from ninja import Schema

from gallery.models import Artwork


class Error(Schema):
    detail: str


class InputError(Error):
    errors: dict[str, list[str]]  # API field name -> messages


class PresetOut(Schema):
    name: str
    title: str
    artist: str
    year: str
    preview_url: str | None


class JobOut(Schema):
    id: int
    status: str
    status_label: str
    progress: int
    queue_position: int | None  # 1 for the next job to start; None unless waiting
    error: str
    finished: bool
    artwork_id: int | None


class StyleOut(Schema):
    label: str
    weight: float  # the style's share of the blend


class ArtworkOut(Schema):
    id: int
    job_id: int
    created_at: datetime
    width: int
    height: int
    visibility: Artwork.Visibility
    share_url: str | None
    hidden_reason: str | None  # set when a moderator hid the artwork from everyone else
    method: str
    version: int  # the shown version (gallery re-dials); strength and preserve_color are its settings
    strength: float
    preserve_color: bool
    size: int
    style_scale: int
    styles: list[StyleOut]
    download_url: str


class ArtworkPage(Schema):
    count: int  # artworks in all pages
    page: int
    pages: int
    items: list[ArtworkOut]


class VisibilityIn(Schema):
    visibility: Artwork.Visibility
