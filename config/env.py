"""Typed readers for environment variables.

Each helper returns a default when the variable is unset and raises
``ImproperlyConfigured`` when it is set to something it cannot parse, so a typo
in a deployment fails at start-up instead of silently falling back.
"""

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Environment variable {name} is required.")
    return value


def env_secret_key(name: str, *, database_url_name: str) -> str:
    """The site's signing key, which must not be made up: every machine of a site signs with the same one.

    A key made up per process would break sessions and password-reset links as soon as two web machines share the
    database; so once the database is named, the key must be named too.
    """
    value = os.environ.get(name, "").strip()
    if not value and os.environ.get(database_url_name):
        raise ImproperlyConfigured(
            f"{name} is required when {database_url_name} is set: give every web and worker machine the same "
            f"secret key (make one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    return value


def init_sentry(name: str) -> bool:
    """Send errors to Sentry when the DSN variable is set; without it nothing is sent anywhere.

    sentry-sdk turns on its Django, RQ, Redis and logging integrations by itself: unhandled errors of requests and
    jobs, and records logged at ERROR, are reported. No personal data (addresses, cookies, users) is sent.
    """
    dsn = os.environ.get(name, "").strip()
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.utils import BadDsn

    try:
        sentry_sdk.init(dsn=dsn, send_default_pii=False, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"))
    except BadDsn as exc:
        raise ImproperlyConfigured(f"{name} is not a Sentry DSN: {exc}") from None
    return True


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_list(name: str, default: list[int]) -> list[int]:
    items = env_list(name, [str(value) for value in default])
    try:
        values = [int(item) for item in items]
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a comma-separated list of integers.") from None
    if not values:
        raise ImproperlyConfigured(f"{name} must not be empty.")
    return values


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


def env_json_object(name: str, default: dict) -> dict:
    raw = os.environ.get(name)
    if raw is None:
        return dict(default)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object.")
    return value


def env_url(name: str, default: str | None = None, *, schemes: tuple[str, ...]) -> str:
    raw = env_str(name, default)
    scheme = urlsplit(raw).scheme
    if scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must use one of the schemes {', '.join(schemes)}; got {scheme!r}.")
    return raw


def parse_database_url(url: str) -> dict:
    """Turn ``postgresql://user:pass@host:port/name?host=/socket/dir`` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must be a PostgreSQL URL; got scheme {parts.scheme!r}.")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL has no database name.")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": query,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def parse_sentinels(name: str, raw: list[str]) -> list[tuple[str, int]]:
    """``host:port`` items -> ``[(host, port)]``."""
    sentinels = []
    for item in raw:
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(f"{name} lists host:port pairs separated by commas; got {item!r}.")
        sentinels.append((host, int(port)))
    return sentinels


def sentinel_queue_connection(redis_url: str, sentinels: list[tuple[str, int]]) -> dict:
    """django-rq's settings for a queue reached through Sentinel: ``redis_url``'s host names the monitored primary
    (django-redis's convention), its path the database, its password the primary's."""
    parts = urlsplit(redis_url)
    return {"SENTINELS": sentinels, "MASTER_NAME": parts.hostname, "DB": int(parts.path.strip("/") or 0),
            "PASSWORD": parts.password, "SOCKET_TIMEOUT": 5}


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, or "" for an empty one."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
