from django.urls import path

from gallery import views

app_name = "gallery"

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("gallery/", views.gallery, name="gallery"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("artworks/<int:artwork_id>/delete/", views.artwork_delete, name="artwork_delete"),
    path("artworks/<int:artwork_id>/image/", views.artwork_image, name="artwork_image"),
    path("artworks/<int:artwork_id>/thumbnail/", views.artwork_thumbnail, name="artwork_thumbnail"),
    path("artworks/<int:artwork_id>/download/", views.artwork_download, name="artwork_download"),
    path("sources/<int:source_id>/image/", views.source_image, name="source_image"),
    path("presets/<slug:name>/preview/", views.preset_preview, name="preset_preview"),
    path("avatars/<int:user_id>/", views.avatar, name="avatar"),
    path("profile/", views.profile, name="profile"),
    path("profile/edit/", views.profile_edit, name="profile_edit"),
]
