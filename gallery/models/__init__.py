"""Atelier's state. Models own their state changes; cross-model writes live in services.py."""

from gallery.models.accounts import Profile
from gallery.models.artworks import Artwork, ArtworkVersion, Like
from gallery.models.base import (
    Hideable,
    artwork_image_path,
    artwork_render_path,
    artwork_thumbnail_path,
    avatar_path,
    preset_preview_path,
    source_image_path,
    source_thumbnail_path,
)
from gallery.models.jobs import MAX_STYLES_PER_JOB, IllegalTransitionError, JobStyle, Preset, SourceImage, StyleJob
from gallery.models.moderation import REPORT_TARGETS, BlockedStyle, ModerationAction, Report, target_label

__all__ = [
    "MAX_STYLES_PER_JOB",
    "REPORT_TARGETS",
    "Artwork",
    "ArtworkVersion",
    "BlockedStyle",
    "Hideable",
    "IllegalTransitionError",
    "JobStyle",
    "Like",
    "ModerationAction",
    "Preset",
    "Profile",
    "Report",
    "SourceImage",
    "StyleJob",
    "artwork_image_path",
    "artwork_render_path",
    "artwork_thumbnail_path",
    "avatar_path",
    "preset_preview_path",
    "source_image_path",
    "source_thumbnail_path",
    "target_label",
]
