from django.urls import path, register_converter

from gallery.views import account, community, moderation, pages, registration, studio, versions


class UsernameConverter:
    """What Django's username validator allows: a crafted name (a NUL byte, a slash) is a 404 before any query."""

    regex = r"[\w.@+-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


class TokenConverter(UsernameConverter):
    """A share token, as secrets.token_urlsafe makes them."""

    regex = r"[\w-]+"


register_converter(UsernameConverter, "username")
register_converter(TokenConverter, "token")

app_name = "gallery"

ARTWORK_FILE_URLS = [
    path(f"artworks/<int:artwork_id>/{kind}/", community.artwork_file, {"kind": kind}, name=f"artwork_{kind}")
    for kind in community.ARTWORK_FILES
]

urlpatterns = [
    path("", pages.home, name="home"),
    path("signup/", registration.signup, name="signup"),
    path("signup/confirm/<str:token>/", registration.verify_email, name="verify_email"),
    path("signup/sent/", registration.verification_sent, name="verification_sent"),
    path("signup/resend/", registration.resend_verification, name="resend_verification"),
    path("gallery/", pages.gallery, name="gallery"),
    path("jobs/new/", studio.job_new, name="job_new"),
    path("jobs/preview/", studio.job_preview, name="job_preview"),
    path("jobs/device/", studio.job_device, name="job_device"),
    path("jobs/<int:job_id>/", studio.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/status/", studio.job_status, name="job_status"),
    path("jobs/<int:job_id>/cancel/", studio.job_cancel, name="job_cancel"),
    path("artworks/<int:artwork_id>/delete/", pages.artwork_delete, name="artwork_delete"),
    *ARTWORK_FILE_URLS,
    path("artworks/<int:artwork_id>/styles/<int:position>/", community.artwork_style, name="artwork_style"),
    path("artworks/<int:artwork_id>/", community.artwork_detail, name="artwork_detail"),
    path("artworks/<int:artwork_id>/visibility/", community.artwork_visibility, name="artwork_visibility"),
    path("artworks/<int:artwork_id>/share/", community.artwork_share, name="artwork_share"),
    path("artworks/<int:artwork_id>/like/", community.artwork_like, name="artwork_like"),
    path("artworks/<int:artwork_id>/redial/", versions.artwork_redial, name="artwork_redial"),
    path("artworks/<int:artwork_id>/redial/photo/", versions.artwork_redial_photo, name="artwork_redial_photo"),
    path("artworks/<int:artwork_id>/rerender/", versions.artwork_rerender, name="artwork_rerender"),
    path(
        "artworks/<int:artwork_id>/versions/<int:version_id>/show/",
        versions.artwork_version_show,
        name="artwork_version_show",
    ),
    path(
        "artworks/<int:artwork_id>/versions/<int:version_id>/thumbnail/",
        versions.artwork_version_thumbnail,
        name="artwork_version_thumbnail",
    ),
    path("s/<token:token>/", community.shared_artwork, name="shared_artwork"),
    path("s/<token:token>/styles/<int:position>/", community.shared_style, name="shared_style"),
    path("s/<token:token>/<slug:kind>/", community.shared_file, name="shared_file"),
    path("explore/", community.explore, name="explore"),
    path("u/<username:username>/", community.public_profile, name="public_profile"),
    path("styles/<int:source_id>/credit/", community.style_credit, name="style_credit"),
    path("report/<slug:kind>/<username:key>/", moderation.report, name="report"),
    path(
        "moderation/artworks/<int:artwork_id>/thumbnail/",
        moderation.moderation_artwork_thumbnail,
        name="moderation_artwork_thumbnail",
    ),
    path("moderation/styles/<int:source_id>/image/", moderation.moderation_style_image, name="moderation_style"),
    path("sources/<int:source_id>/image/", pages.source_image, name="source_image"),
    path("sources/<int:source_id>/thumbnail/", pages.source_thumbnail, name="source_thumbnail"),
    path("presets/<slug:name>/preview/", pages.preset_preview, name="preset_preview"),
    path("presets/<slug:name>/network.onnx", pages.preset_network, name="preset_network"),
    path("presets/<slug:name>/painting.jpg", pages.preset_painting, name="preset_painting"),
    path("any-style/<slug:graph>.onnx", pages.arbitrary_network, name="arbitrary_network"),
    path("avatars/<int:user_id>/", pages.avatar, name="avatar"),
    path("profile/", pages.profile, name="profile"),
    path("account/export/", account.account_export, name="account_export"),
    path("account/delete/", account.account_delete, name="account_delete"),
    path("profile/edit/", pages.profile_edit, name="profile_edit"),
]
