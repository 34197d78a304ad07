"""Reports, the moderators' audit log, and artists' opt-outs."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from gallery.models.artworks import Artwork
from gallery.models.jobs import SourceImage


REPORT_TARGETS = ("artwork", "style_image", "reported_user")


class Report(models.Model):
    """A user's complaint about one artwork, style image or user. Exactly one target is set."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        OFFENSIVE = "offensive", "Offensive, hateful or violent"
        SEXUAL = "sexual", "Sexual content"
        HARASSMENT = "harassment", "Harassment or impersonation"
        COPYRIGHT = "copyright", "Copyright, or an artist who opted out"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        ACTIONED = "actioned", "Acted on"

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made")
    artwork = models.ForeignKey(Artwork, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    style_image = models.ForeignKey(
        SourceImage, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="reports_received"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    details = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        permissions = [("moderate", "Can moderate: hide and restore content, dismiss reports, ban users")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(artwork__isnull=False, style_image__isnull=True, reported_user__isnull=True)
                    | models.Q(artwork__isnull=True, style_image__isnull=False, reported_user__isnull=True)
                    | models.Q(artwork__isnull=True, style_image__isnull=True, reported_user__isnull=False)
                ),
                name="report_exactly_one_target",
            ),
            *(
                models.UniqueConstraint(
                    fields=["reporter", target],
                    condition=models.Q(status="open"),
                    name=f"report_one_open_per_{target}",
                )
                for target in REPORT_TARGETS
            ),
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk}: {self.target_label}"

    @property
    def target(self):
        return self.artwork or self.style_image or self.reported_user

    @property
    def target_label(self) -> str:
        return target_label(self.target)


def target_label(item) -> str:
    if isinstance(item, Artwork):
        return f"Artwork #{item.pk}"
    if isinstance(item, SourceImage):
        return f"Style image #{item.pk}"
    return f"User {item.get_username()}"


class ModerationAction(models.Model):
    """The audit log: one row per moderator action, never edited."""

    class Kind(models.TextChoices):
        HIDE = "hide", "Hid item"
        RESTORE = "restore", "Restored item"
        DISMISS = "dismiss", "Dismissed report"
        BAN = "ban", "Banned user"

    # SET_NULL plus a copy of the name: the log outlives a moderator's account.
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    moderator_name = models.CharField(max_length=150)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=200)
    reason = models.TextField()
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.moderator_name}: {self.get_kind_display()} {self.target}"


class BlockedStyle(models.Model):
    """An artist's opt-out: style uploads whose perceptual hash is within a small distance of this one are refused."""

    perceptual_hash = models.CharField(max_length=16, unique=True)
    note = models.CharField(max_length=300, help_text="Whose work this is and who asked, for other moderators.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.perceptual_hash} ({self.note})"
