"""Middleware of the site."""

from django.utils.cache import add_never_cache_headers


def private_pages_not_stored(get_response):
    """A page for a signed-in user is theirs alone: no browser or proxy may keep it (Cache-Control: no-store).

    Views that chose their own Cache-Control keep it; pages for visitors who are not signed in may be cached.
    """

    def middleware(request):
        response = get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response

    return middleware
