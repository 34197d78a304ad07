from django.urls import path

from gallery import views, views_account, views_community, views_moderation
from gallery.provenance import refuse_blocked_styles
from gallery.quotas import enforce_job_quota
from gallery.ratelimit import limit_posts

app_name = "gallery"

ARTWORK_FILE_URLS = [
    path(f"artworks/<int:artwork_id>/{kind}/", views_community.artwork_file, {"kind": kind}, name=f"artwork_{kind}")
    for kind in views_community.ARTWORK_FILES
]

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", limit_posts("signup")(views.signup), name="signup"),
    path("gallery/", views.gallery, name="gallery"),
    path(
        "jobs/new/",
        limit_posts("upload", per="user")(enforce_job_quota(refuse_blocked_styles(views.job_new))),
        name="job_new",
    ),
    path("jobs/preview/", limit_posts("preview", per="user", json=True)(views.job_preview), name="job_preview"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("artworks/<int:artwork_id>/delete/", views.artwork_delete, name="artwork_delete"),
    *ARTWORK_FILE_URLS,
    path("artworks/<int:artwork_id>/", views_community.artwork_detail, name="artwork_detail"),
    path("artworks/<int:artwork_id>/visibility/", views_community.artwork_visibility, name="artwork_visibility"),
    path("artworks/<int:artwork_id>/share/", views_community.artwork_share, name="artwork_share"),
    path("artworks/<int:artwork_id>/like/", views_community.artwork_like, name="artwork_like"),
    path("s/<str:token>/", views_community.shared_artwork, name="shared_artwork"),
    path("s/<str:token>/<str:kind>/", views_community.shared_file, name="shared_file"),
    path("explore/", views_community.explore, name="explore"),
    path("u/<str:username>/", views_community.public_profile, name="public_profile"),
    path("styles/<int:source_id>/credit/", views_community.style_credit, name="style_credit"),
    path("report/<str:kind>/<str:key>/", views_moderation.report, name="report"),
    path(
        "moderation/artworks/<int:artwork_id>/thumbnail/",
        views_moderation.moderation_artwork_thumbnail,
        name="moderation_artwork_thumbnail",
    ),
    path("moderation/styles/<int:source_id>/image/", views_moderation.moderation_style_image, name="moderation_style"),
    path("sources/<int:source_id>/image/", views.source_image, name="source_image"),
    path("presets/<slug:name>/preview/", views.preset_preview, name="preset_preview"),
    path("avatars/<int:user_id>/", views.avatar, name="avatar"),
    path("profile/", views.profile, name="profile"),
    path("account/export/", views_account.account_export, name="account_export"),
    path("account/delete/", views_account.account_delete, name="account_delete"),
    path("profile/edit/", limit_posts("upload", per="user")(views.profile_edit), name="profile_edit"),
]
