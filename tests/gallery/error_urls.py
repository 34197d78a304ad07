"""The site's URLs plus one that fails, so a browser test can look at the 500 page (DEBUG is off in tests)."""

from django.urls import include, path


def fail(request):
    raise RuntimeError("A deliberate failure, to show the 500 page.")


urlpatterns = [path("fail/", fail), path("", include("config.urls"))]
