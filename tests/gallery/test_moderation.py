"""Reports, the moderation queue on Django admin, moderator actions and the audit log."""

import pytest
from django.urls import reverse

from gallery import moderation
from gallery.models import Artwork, ModerationAction, Report
from tests.gallery.factories import clean

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(owner, other, make_artwork):
    artwork = make_artwork(owner, "public")
    moderation.file_report(other, artwork, Report.Reason.SPAM, "Advert for a shop")
    return artwork


def _act(client, kind, pk, action, reason="Breaks the rules"):
    return client.post(reverse("admin:gallery_report_act", args=[kind, pk]), {"action": action, "reason": reason})


def test_it_files_a_report_from_the_form(owner, make_artwork, clients):
    artwork = make_artwork(owner, "public")
    url = reverse("gallery:report", args=["artwork", artwork.pk])
    assert clients["other"].get(url).status_code == 200
    response = clients["other"].post(url, {"reason": "copyright", "details": "My photo", "next": "/explore/"})
    assert response.status_code == 302 and response["Location"] == "/explore/"
    report = Report.objects.get()
    assert (report.artwork, report.reason, report.details) == (artwork, "copyright", "My photo")


def test_it_keeps_one_open_report_per_reporter_and_item(owner, other, moderator, reported, clients):
    response = clients["other"].post(
        reverse("gallery:report", args=["artwork", reported.pk]), {"reason": "other"}, follow=True
    )
    assert "You already reported this" in response.content.decode()
    moderation.file_report(moderator, reported, Report.Reason.OTHER, "")
    assert Report.objects.filter(artwork=reported).count() == 2
    moderation.dismiss_report(moderator, Report.objects.get(reporter=other), "Fine")
    moderation.file_report(other, reported, Report.Reason.OTHER, "It is back")
    assert Report.objects.filter(reporter=other, status="open").count() == 1


def test_it_reports_style_images_and_users(owner, other, make_artwork, clients):
    artwork = make_artwork(owner, "public", preset=None, style=clean(), method="optimize")
    clients["other"].post(reverse("gallery:report", args=["style", artwork.pk]), {"reason": "copyright"})
    clients["other"].post(reverse("gallery:report", args=["user", owner.username]), {"reason": "harassment"})
    assert Report.objects.get(style_image__isnull=False).style_image == artwork.job.styles.get().image
    assert Report.objects.get(reported_user__isnull=False).reported_user == owner


def test_it_does_not_take_reports_about_things_the_reporter_cannot_see(owner, make_artwork, clients):
    artwork = make_artwork(owner, "private")
    assert clients["other"].get(reverse("gallery:report", args=["artwork", artwork.pk])).status_code == 404
    assert clients["anonymous"].get(reverse("gallery:report", args=["artwork", artwork.pk])).status_code == 302


def test_it_groups_open_reports_by_item_in_the_queue(owner, other, moderator, reported, clients):
    moderation.file_report(moderator, reported, Report.Reason.SEXUAL, "")
    moderation.file_report(other, owner, Report.Reason.HARASSMENT, "")
    page = clients["moderator"].get(reverse("admin:gallery_report_queue"))
    groups = page.context["groups"]
    assert [(group.kind, len(group.reports)) for group in groups] == [("artwork", 2), ("reported_user", 1)]
    html = page.content.decode()
    thumbnail = reverse("gallery:moderation_artwork_thumbnail", args=[reported.pk])
    assert thumbnail in html and clients["moderator"].get(thumbnail).status_code == 200


@pytest.mark.parametrize("role", ["owner", "other", "anonymous"])
def test_it_keeps_the_queue_from_non_moderators(role, clients, reported, owner):
    owner.is_staff = True  # staff without the moderate permission is not enough
    owner.save()
    assert clients[role].get(reverse("admin:gallery_report_queue")).status_code in (302, 403)
    assert _act(clients[role], "artwork", reported.pk, "hide").status_code in (302, 403)
    assert not Artwork.objects.get(pk=reported.pk).is_hidden


def test_it_hides_an_item_everywhere_and_logs_it(reported, owner, moderator, clients):
    _act(clients["moderator"], "artwork", reported.pk, "hide", "Spam")
    reported.refresh_from_db()
    assert reported.is_hidden and reported.hidden_reason == "Spam"
    assert Report.objects.get().status == Report.Status.ACTIONED
    log = ModerationAction.objects.get()
    assert (log.moderator, log.kind, log.target, log.reason) == (moderator, "hide", f"Artwork #{reported.pk}", "Spam")
    for url in (reverse("gallery:explore"), reverse("gallery:public_profile", args=[owner.username])):
        assert f"/artworks/{reported.pk}/" not in clients["other"].get(url).content.decode()


def test_it_restores_a_hidden_item(reported, moderator, clients):
    moderation.hide_item(moderator, reported, "Spam")
    _act(clients["moderator"], "artwork", reported.pk, "restore", "Appeal upheld")
    assert not Artwork.objects.get(pk=reported.pk).is_hidden
    assert clients["other"].get(reverse("gallery:artwork_detail", args=[reported.pk])).status_code == 200
    assert list(ModerationAction.objects.values_list("kind", flat=True)) == ["restore", "hide"]


def test_it_dismisses_reports_without_touching_the_item(reported, clients):
    _act(clients["moderator"], "artwork", reported.pk, "dismiss", "Not spam")
    assert Report.objects.get().status == Report.Status.DISMISSED
    assert not Artwork.objects.get(pk=reported.pk).is_hidden
    assert ModerationAction.objects.get().report == Report.objects.get()


def test_it_bans_a_user_and_hides_all_their_public_content(reported, owner, make_artwork, clients):
    unlisted = make_artwork(owner, "unlisted")
    private = make_artwork(owner, "private")
    _act(clients["moderator"], "artwork", reported.pk, "ban", "Spam account")
    owner.refresh_from_db()
    assert not owner.is_active
    assert Artwork.objects.get(pk=reported.pk).is_hidden and Artwork.objects.get(pk=unlisted.pk).is_hidden
    assert not Artwork.objects.get(pk=private.pk).is_hidden
    assert clients["owner"].get(reverse("gallery:gallery")).status_code == 302  # signed out
    assert clients["anonymous"].get(reverse("gallery:shared_artwork", args=[unlisted.share_token])).status_code == 404
    assert ModerationAction.objects.get().kind == "ban"


def test_it_requires_a_reason_for_every_action(reported, clients):
    _act(clients["moderator"], "artwork", reported.pk, "hide", reason="")
    assert not Artwork.objects.get(pk=reported.pk).is_hidden and not ModerationAction.objects.exists()


def test_it_keeps_the_audit_log_read_only(reported, moderator, clients):
    moderation.hide_item(moderator, reported, "Spam")
    entry = ModerationAction.objects.get()
    assert clients["moderator"].get(reverse("admin:gallery_moderationaction_changelist")).status_code == 200
    change = clients["moderator"].post(reverse("admin:gallery_moderationaction_change", args=[entry.pk]), {"reason": "x"})
    delete = clients["moderator"].post(reverse("admin:gallery_moderationaction_delete", args=[entry.pk]), {"post": "yes"})
    assert change.status_code in (302, 403) and delete.status_code == 403
    assert ModerationAction.objects.get().reason == "Spam"


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "x")


def test_it_lets_staff_retry_failed_jobs_and_cancel_queued_ones(
    owner, make_job, redis_queue, superuser, client, django_capture_on_commit_callbacks
):
    failed, waiting = make_job(owner), make_job(owner)
    failed.mark_running("w")
    failed.mark_failed("The worker died")
    client.force_login(superuser)
    changelist = reverse("admin:gallery_stylejob_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "retry_failed", "_selected_action": [failed.pk, waiting.pk]})
    client.post(changelist, {"action": "cancel_queued", "_selected_action": [waiting.pk]})
    failed.refresh_from_db()
    waiting.refresh_from_db()
    assert (failed.status, failed.error, waiting.status) == ("queued", "", "canceled")
    assert redis_queue.get_job_ids() == [str(failed.pk)]
