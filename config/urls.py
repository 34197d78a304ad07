from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # django-rq's queue dashboard; its views are for staff only.
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("gallery.urls")),
]
