"""Reports by users, and the files moderators look at while working the queue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from gallery import access, moderation
from gallery.forms_community import ReportForm
from gallery.models import target_label
from gallery.views.helpers import safe_next, serve_file


@login_required
def report(request, kind: str, key: str):
    item = access.get_report_target(request.user, kind, key)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moderation.file_report(request.user, item, form.cleaned_data["reason"], form.cleaned_data["details"])
            messages.success(request, "Thank you. A moderator will look at your report.")
        except moderation.DuplicateReportError as exc:
            messages.info(request, str(exc))
        return redirect(safe_next(request) or "gallery:explore")
    return render(
        request,
        "gallery/community/report.html",
        {"form": form, "label": target_label(item), "next": request.GET.get("next", "")},
    )


def moderation_artwork_thumbnail(request, artwork_id: int):
    return serve_file(access.get_artwork_for_moderator(request.user, artwork_id).thumbnail)


def moderation_style_image(request, source_id: int):
    return serve_file(access.get_style_image_for_moderator(request.user, source_id).file)
