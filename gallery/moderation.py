"""Reports and moderator actions. Every action is written to the audit log in the same transaction."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from gallery.models import REPORT_TARGETS, Artwork, ModerationAction, Report, SourceImage, target_label

MODERATE_PERMISSION = "gallery.moderate"


class DuplicateReportError(Exception):
    """The reporter already has an open report about this item."""


def can_moderate(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(MODERATE_PERMISSION)


def _target_field(item) -> str:
    if isinstance(item, Artwork):
        return "artwork"
    if isinstance(item, SourceImage):
        return "style_image"
    return "reported_user"


def file_report(reporter, item, reason: str, details: str) -> Report:
    try:
        with transaction.atomic():
            return Report.objects.create(
                reporter=reporter, reason=reason, details=details, **{_target_field(item): item}
            )
    except IntegrityError:
        # The partial unique constraint is the guard: two quick submits cannot both get in.
        raise DuplicateReportError("You already reported this. A moderator will look at it soon.") from None


def _log(moderator, kind: str, item, reason: str, report: Report | None = None) -> ModerationAction:
    return ModerationAction.objects.create(
        moderator=moderator,
        moderator_name=moderator.get_username(),
        kind=kind,
        target=target_label(item),
        reason=reason,
        report=report,
    )


def _close_reports(item, status: str) -> None:
    Report.objects.filter(status=Report.Status.OPEN, **{_target_field(item): item}).update(
        status=status, resolved_at=timezone.now()
    )


@transaction.atomic
def hide_item(moderator, item: Artwork | SourceImage, reason: str) -> None:
    item.hide(reason)
    _close_reports(item, Report.Status.ACTIONED)
    _log(moderator, ModerationAction.Kind.HIDE, item, reason)


@transaction.atomic
def restore_item(moderator, item, reason: str) -> None:
    """Un-hide an artwork or style image, or lift a user's ban (their hidden items stay hidden)."""
    if isinstance(item, (Artwork, SourceImage)):
        item.restore()
    else:
        item.is_active = True
        item.save(update_fields=["is_active"])
    _log(moderator, ModerationAction.Kind.RESTORE, item, reason)


@transaction.atomic
def dismiss_report(moderator, report: Report, reason: str) -> None:
    Report.objects.filter(pk=report.pk).update(status=Report.Status.DISMISSED, resolved_at=timezone.now())
    _log(moderator, ModerationAction.Kind.DISMISS, report.target, reason, report=report)


@transaction.atomic
def ban_user(moderator, user, reason: str) -> None:
    """Deactivate the account (its sessions stop working) and hide everything it shared or uploaded as a style."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    now = timezone.now()
    hidden_reason = f"Account banned: {reason}"
    Artwork.objects.filter(owner=user, hidden_at__isnull=True).exclude(
        visibility=Artwork.Visibility.PRIVATE
    ).update(hidden_at=now, hidden_reason=hidden_reason)
    SourceImage.objects.filter(owner=user, kind=SourceImage.Kind.STYLE, hidden_at__isnull=True).update(
        hidden_at=now, hidden_reason=hidden_reason
    )
    Report.objects.filter(
        Q(reported_user=user) | Q(artwork__owner=user) | Q(style_image__owner=user), status=Report.Status.OPEN
    ).update(status=Report.Status.ACTIONED, resolved_at=now)
    _log(moderator, ModerationAction.Kind.BAN, user, reason)


class ModerationError(Exception):
    """A moderator asked for an action that does not apply to the item."""


def apply_action(moderator, item, action: str, reason: str) -> None:
    """Run one queue action on an item: an Artwork, a style SourceImage or a user."""
    is_content = isinstance(item, (Artwork, SourceImage))
    if action == "hide" and is_content:
        hide_item(moderator, item, reason)
    elif action == "restore":
        restore_item(moderator, item, reason)
    elif action == "dismiss":
        for report in Report.objects.filter(status=Report.Status.OPEN, **{_target_field(item): item}):
            dismiss_report(moderator, report, reason)
    elif action == "ban":
        ban_user(moderator, item.owner if is_content else item, reason)
    else:
        raise ModerationError(f"“{action}” does not apply to {target_label(item)}.")


@dataclass
class ReportGroup:
    """All open reports about one item, for the moderation queue."""

    item: object
    kind: str
    reports: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return target_label(self.item)

    @property
    def owner(self):
        return self.item if self.kind == "reported_user" else self.item.owner

    @property
    def reasons(self) -> list[str]:
        return sorted({report.get_reason_display() for report in self.reports})


def open_report_groups() -> list[ReportGroup]:
    """Open reports grouped by item, the most reported first, in one query whatever the queue's length."""
    reports = Report.objects.filter(status=Report.Status.OPEN).select_related(
        "reporter", "artwork__owner", "style_image__owner", "reported_user"
    )
    groups: dict[tuple[str, int], ReportGroup] = {}
    for report in reports:
        kind = next(name for name in REPORT_TARGETS if getattr(report, f"{name}_id"))
        item = getattr(report, kind)
        groups.setdefault((kind, item.pk), ReportGroup(item=item, kind=kind)).reports.append(report)
    return sorted(groups.values(), key=lambda group: (-len(group.reports), group.reports[0].created_at))


def recently_hidden(limit: int = 30) -> dict:
    """Hidden items and banned users, newest first, so a moderator can restore them from the queue page."""
    return {
        "artwork": Artwork.objects.filter(hidden_at__isnull=False).select_related("owner").order_by("-hidden_at")[
            :limit
        ],
        "style_image": SourceImage.objects.filter(hidden_at__isnull=False)
        .select_related("owner")
        .order_by("-hidden_at")[:limit],
        "reported_user": get_user_model().objects.filter(is_active=False).order_by("-date_joined")[:limit],
    }
