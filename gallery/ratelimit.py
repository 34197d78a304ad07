"""Fixed-window rate limits, counted in the Django cache (Redis), so every web process shares them."""

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render


def allow(scope: str, key: str) -> bool:
    """Count one request against ``scope`` for ``key``; False once RATE_LIMITS[scope] is spent for this window."""
    limit, window = settings.RATE_LIMITS[scope]
    counter = f"ratelimit:{scope}:{key}"
    # add() is SET NX: the first request of a window creates the counter with its expiry; incr() is atomic.
    cache.add(counter, 0, timeout=window)
    try:
        return cache.incr(counter) <= limit
    except ValueError:
        # The counter expired between add() and incr(): this request opens a new window.
        cache.add(counter, 1, timeout=window)
        return True


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


def limit_posts(scope: str, *, per: str = "ip", json: bool = False):
    """Decorate a view so its POSTs are rate limited per client IP or per signed-in user (answers 429)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                key = str(request.user.pk) if per == "user" and request.user.is_authenticated else client_ip(request)
                if not allow(scope, key):
                    return too_many(request, scope, json=json)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def limit_message(scope: str) -> str:
    limit, window = settings.RATE_LIMITS[scope]
    return f"Too many attempts: the limit is {limit} every {_duration(window)}. Please wait and try again."


def too_many(request, scope: str, *, json: bool):
    message = limit_message(scope)
    if json:
        return JsonResponse({"error": message}, status=429)
    return render(request, "gallery/too_many.html", {"message": message}, status=429)


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"
