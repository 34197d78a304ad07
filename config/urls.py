from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

from gallery.ratelimit import limit_posts

urlpatterns = [
    # django-rq's queue dashboard; its views are for staff only.
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", limit_posts("login")(LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("api.urls")),  # /api/v1/ and the profile's token pages
    path("", include("gallery.urls")),
]
