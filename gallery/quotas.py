"""Per-user job quotas: how many pictures may wait or run at once, and how many may start per day."""

from django.conf import settings
from django.utils import timezone

from gallery.models import StyleJob


class QuotaError(Exception):
    """The user is over a quota; the message says which one and what to do."""


def check_job_quota(user) -> None:
    jobs = StyleJob.objects.filter(owner_id=user.pk)
    active = jobs.filter(status__in=[StyleJob.Status.QUEUED, StyleJob.Status.RUNNING]).count()
    if active >= settings.JOB_QUOTA_ACTIVE:
        raise QuotaError(
            f"You already have {active} pictures waiting or being painted, the most you can have at once. "
            "Wait for one to finish, or cancel one, then try again."
        )
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    today = jobs.filter(created_at__gte=midnight).exclude(status=StyleJob.Status.CANCELED).count()
    if today >= settings.JOB_QUOTA_DAILY:
        raise QuotaError(
            f"You have painted {today} pictures today, the daily limit. You can paint again after midnight (UTC)."
        )
