from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path

from gallery import moderation, provenance, services
from gallery.forms_community import AdminLoginForm, AdminUserChangeForm, BlockedStyleForm, ModerationForm
from gallery.models import (
    Artwork,
    BlockedStyle,
    IllegalTransitionError,
    JobStyle,
    ModerationAction,
    Preset,
    Profile,
    Report,
    SourceImage,
    StyleJob,
)


admin.site.site_header = "Atelier administration"
admin.site.site_title = "Atelier admin"
admin.site.login_form = AdminLoginForm  # counts failures against the log-in rate limits (config/urls.py)


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AtelierUserAdmin(UserAdmin):
    form = AdminUserChangeForm  # one account per e-mail address, as a form error rather than the database's refusal


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name")
    search_fields = ("user__username", "display_name")


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "artist", "year", "is_active")
    list_filter = ("is_active",)


@admin.register(SourceImage)
class SourceImageAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "artist", "licence", "perceptual_hash", "hidden_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("perceptual_hash", "artist", "owner__username")
    raw_id_fields = ("owner",)
    readonly_fields = ("perceptual_hash", "hidden_at", "hidden_reason")
    actions = ["block_styles"]

    @admin.action(description="Block these works as style images (artist opt-out)")
    def block_styles(self, request, queryset):
        hashes = set(queryset.exclude(perceptual_hash="").values_list("perceptual_hash", flat=True))
        for found in hashes:
            blocked, _ = BlockedStyle.objects.get_or_create(
                perceptual_hash=found, defaults={"note": f"Blocked by {request.user}"}
            )
            provenance.hide_matching_styles(blocked)
        self.message_user(request, f"{len(hashes)} hash{'es' if len(hashes) != 1 else ''} on the blocklist.")


@admin.register(BlockedStyle)
class BlockedStyleAdmin(admin.ModelAdmin):
    form = BlockedStyleForm
    list_display = ("perceptual_hash", "note", "created_at")
    search_fields = ("perceptual_hash", "note")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        hidden = provenance.hide_matching_styles(obj)
        if hidden:
            self.message_user(request, f"{hidden} matching style image{'s' if hidden != 1 else ''} hidden.")


class JobStyleInline(admin.TabularInline):
    model = JobStyle
    fields = ("position", "preset", "image", "weight")
    raw_id_fields = ("image",)
    extra = 0
    max_num = JobStyle.MAX_PER_JOB


@admin.register(StyleJob)
class StyleJobAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "method", "style_label", "progress", "attempts", "worker_id", "created_at")
    list_filter = ("status", "method")
    raw_id_fields = ("owner", "content")
    inlines = [JobStyleInline]
    # Status only changes through the model's mark_* methods, never by hand.
    readonly_fields = ("status", "progress", "error", "worker_id", "attempts", "started_at", "finished_at")
    actions = ["retry_failed", "cancel_queued"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("styles__preset", "styles__image")

    @admin.action(description="Retry the selected failed jobs")
    def retry_failed(self, request, queryset):
        self._apply(request, queryset.filter(status=StyleJob.Status.FAILED), services.retry_job, "re-queued")

    @admin.action(description="Cancel the selected queued jobs")
    def cancel_queued(self, request, queryset):
        self._apply(request, queryset.filter(status=StyleJob.Status.QUEUED), services.cancel_job, "canceled")

    def _apply(self, request, jobs, change, done: str) -> None:
        changed = 0
        for job in jobs:
            try:
                change(job)
                changed += 1
            except IllegalTransitionError:
                continue  # a worker moved it on meanwhile
        self.message_user(request, f"{changed} job{'s' if changed != 1 else ''} {done}.", messages.SUCCESS)


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "job", "visibility", "hidden_at", "width", "height", "created_at")
    list_filter = ("visibility",)
    raw_id_fields = ("owner", "job")
    # Hiding goes through the moderation queue, so it is always in the audit log.
    readonly_fields = ("hidden_at", "hidden_reason", "share_token")


class ModeratorOnly:
    """Moderators (staff with the moderate permission) may look; nobody may add, edit or delete here."""

    def has_module_permission(self, request):
        return moderation.can_moderate(request.user)

    def has_view_permission(self, request, obj=None):
        return moderation.can_moderate(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(ModeratorOnly, admin.ModelAdmin):
    list_display = ("id", "target_label", "reason", "reporter", "status", "created_at")
    list_filter = ("status", "reason")
    list_select_related = ("reporter", "artwork", "style_image", "reported_user")
    change_list_template = "admin/gallery/report/change_list.html"

    def get_urls(self):
        queue = self.admin_site.admin_view(self.queue_view)
        act = self.admin_site.admin_view(self.act_view)
        return [
            path("queue/", queue, name="gallery_report_queue"),
            path("queue/<str:kind>/<int:pk>/", act, name="gallery_report_act"),
            *super().get_urls(),
        ]

    def _check(self, request) -> None:
        if not moderation.can_moderate(request.user):
            raise PermissionDenied

    def queue_view(self, request):
        self._check(request)
        context = {
            **self.admin_site.each_context(request),
            "title": "Moderation queue",
            "opts": self.model._meta,
            "groups": moderation.open_report_groups(),
            "hidden": moderation.recently_hidden(),
            "form": ModerationForm(),
        }
        return TemplateResponse(request, "admin/gallery/moderation_queue.html", context)

    def act_view(self, request, kind: str, pk: int):
        self._check(request)
        if request.method != "POST":
            return redirect("admin:gallery_report_queue")
        item = get_object_or_404(QUEUE_ITEMS[kind](), pk=pk) if kind in QUEUE_ITEMS else None
        form = ModerationForm(request.POST)
        if item is None or not form.is_valid():
            messages.error(request, "Choose an action and write a reason: it goes into the audit log.")
            return redirect("admin:gallery_report_queue")
        try:
            moderation.apply_action(request.user, item, form.cleaned_data["action"], form.cleaned_data["reason"])
            messages.success(request, f"{dict(form.ACTIONS)[form.cleaned_data['action']]}: done.")
        except moderation.ModerationError as exc:
            messages.error(request, str(exc))
        return redirect("admin:gallery_report_queue")


QUEUE_ITEMS = {
    "artwork": Artwork.objects.all,
    "style_image": lambda: SourceImage.objects.filter(kind=SourceImage.Kind.STYLE),
    "reported_user": get_user_model().objects.all,
}


@admin.register(ModerationAction)
class ModerationActionAdmin(ModeratorOnly, admin.ModelAdmin):
    list_display = ("created_at", "moderator_name", "kind", "target", "reason")
    list_filter = ("kind",)
    search_fields = ("moderator_name", "target", "reason")
