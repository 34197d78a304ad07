"""Rate limits: django-ratelimit's fixed windows, counted in the Django cache (Redis) so every web process shares them.

Each scope's limit is ``RATE_LIMITS[scope] = [requests, seconds]``, read at every request.
"""

import ipaddress
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage, is_ratelimited


def client_ip(request) -> str:
    """The client's address (RATELIMIT_IP_META_KEY points here).

    Behind ``TRUSTED_PROXIES`` proxies, each appends the address it was reached from to X-Forwarded-For, so the
    client is the n-th entry from the right; entries further left are whatever the client sent, and are ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies:
        try:
            return str(ipaddress.ip_address(forwarded[-proxies]))
        except ValueError:
            pass  # a proxy that writes something else: fall back to the address the request came from
    return remote


def _rate(scope: str, request) -> tuple[int, int]:
    limit, window = settings.RATE_LIMITS[scope]
    return limit, window


def _over(request, scope: str, key, *, increment: bool) -> bool:
    return is_ratelimited(request, group=scope, key=key, rate=_rate, increment=increment)


def allow(request, scope: str, key) -> bool:
    """Count one request against ``scope``; False once over the limit (for callers that are not views, the API)."""
    return not _over(request, scope, key, increment=True)


def limit_posts(scope: str, *, key="ip", json: bool = False):
    """Decorate a view so its POSTs are rate limited (answers 429).

    ``key`` is a django-ratelimit key: "ip", "user_or_ip", or a function ``(scope, request) -> str``.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and _over(request, scope, key, increment=True):
                return too_many(request, scope, json=json)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _account_and_client(scope: str, request) -> str:
    return f"{request.POST.get('username', '').strip().casefold()}|{client_ip(request)}"


# Failed log-ins are counted per account and client (guessing one account's password), and per client across
# accounts (trying one password on many). Successes are never counted, so people behind one address (an office,
# a phone carrier's NAT) do not lock each other out by logging in.
LOGIN_FAILURE_LIMITS = (("login", _account_and_client), ("login_client", "ip"))


def count_login_failure(request) -> None:
    """Called by the log-in forms when a log-in fails."""
    for scope, key in LOGIN_FAILURE_LIMITS:
        _over(request, scope, key, increment=True)


def _reached(request, scope: str, key) -> bool:
    """Whether ``scope``'s count for this request has reached its limit, without counting the request."""
    usage = get_usage(request, group=scope, key=key, rate=_rate)
    return usage["count"] >= usage["limit"]


def limit_counted_posts(limits):
    """Decorate a view whose POSTs are refused with 429 once one of ``limits`` ((scope, key), ...) is reached; the
    view counts what it decides counts (count_login_failure, count_signup), the decorator never does."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                for scope, key in limits:
                    if _reached(request, scope, key):
                        return too_many(request, scope, json=False)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# A log-in view (the site's or the admin's): refused once too many attempts failed.
limit_login_failures = limit_counted_posts(LOGIN_FAILURE_LIMITS)

# Sign-ups are counted per client once an account is made: a form sent back with a mistake costs nothing, so people
# behind one address (an office, a school) only share the number of accounts made in the window.
SIGNUP_LIMITS = (("signup", "ip"),)
limit_signups = limit_counted_posts(SIGNUP_LIMITS)


def count_signup(request) -> None:
    """Called by the sign-up view once an account is made."""
    for scope, key in SIGNUP_LIMITS:
        _over(request, scope, key, increment=True)


def _email(scope: str, request) -> str:
    return request.POST.get("email", "").strip().casefold()


def limit_password_resets(view):
    """Password-reset mails: limited per client and per address, so nobody can flood an inbox."""
    return limit_posts("password_reset", key="ip")(limit_posts("password_reset_email", key=_email)(view))


# What a scope counts, where it is not every attempt.
COUNTED = {"signup": "accounts made from your address"}


def limit_message(scope: str) -> str:
    limit, window = settings.RATE_LIMITS[scope]
    counted = COUNTED.get(scope, "attempts")
    return f"Too many {counted}: the limit is {limit} every {_duration(window)}. Please wait and try again."


def too_many(request, scope: str, *, json: bool):
    message = limit_message(scope)
    if json:
        return JsonResponse({"error": message}, status=429)
    return render(request, "429.html", {"message": message}, status=429)


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"
