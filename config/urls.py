from django.contrib import admin
from django.contrib.auth.views import LoginView, PasswordResetView
from django.urls import include, path

from gallery import rq_dashboard
from gallery.health import SiteHealthView
from gallery.metrics import metrics_view
from gallery.forms_community import LoginForm
from gallery.ratelimit import limit_login_failures, limit_password_resets

urlpatterns = [
    # For load balancers and monitoring (docs/deployment.md): public, names no host or credential.
    path("health/", SiteHealthView.as_view(), name="health"),
    # For Prometheus, with METRICS_TOKEN as a bearer token; 404 while no token is set.
    path("metrics", metrics_view, name="metrics"),
    # django-rq's queue dashboard, for superusers only.
    path("admin/rq/", include((rq_dashboard.urlpatterns, "django_rq"))),
    # Before admin.site.urls, so the admin's log-in is rate limited like the site's.
    path("admin/login/", limit_login_failures(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", limit_login_failures(LoginView.as_view(authentication_form=LoginForm)), name="login"),
    path("accounts/password_reset/", limit_password_resets(PasswordResetView.as_view()), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("api.urls")),  # /api/v1/ and the profile's token pages
    path("", include("gallery.urls")),
]
