from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

from gallery import rq_dashboard
from gallery.ratelimit import limit_posts

urlpatterns = [
    # django-rq's queue dashboard, for superusers only.
    path("admin/rq/", include((rq_dashboard.urlpatterns, "django_rq"))),
    path("admin/", admin.site.urls),
    path("accounts/login/", limit_posts("login")(LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("gallery.urls")),
]
