from django.contrib import admin

from gallery.models import Artwork, Preset, Profile, SourceImage, StyleJob


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
    list_display = ("id", "owner", "kind", "width", "height", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("owner",)


@admin.register(StyleJob)
class StyleJobAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "method", "preset", "progress", "attempts", "worker_id", "created_at")
    list_filter = ("status", "method")
    raw_id_fields = ("owner", "content", "style_image")
    # Status only changes through the model's mark_* methods, never by hand.
    readonly_fields = ("status", "progress", "error", "worker_id", "attempts", "started_at", "finished_at")


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "job", "width", "height", "created_at")
    raw_id_fields = ("owner", "job")
