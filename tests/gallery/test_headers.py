"""Response headers: the Content-Security-Policy, Permissions-Policy, caching of private things, and HTTPS settings."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_sends_a_content_security_policy_without_inline_code(client):
    response = client.get(reverse("gallery:home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_it_keeps_inline_handlers_and_style_attributes_out_of_the_templates():
    # The policy refuses them, so a page using one would silently break.
    offenders = []
    for folder, _, names in os.walk(settings.BASE_DIR / "templates"):
        for name in names:
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            for marker in (' style="', " onclick=", " onsubmit=", " onchange=", "javascript:"):
                if marker in text:
                    offenders.append(f"{name}: {marker.strip()}")
    assert offenders == []


def test_it_stores_no_private_page_or_file(owner, make_artwork, clients, preset):
    private = make_artwork(owner)
    unlisted = make_artwork(owner, "unlisted")
    private_urls = [
        reverse("gallery:artwork_image", args=[private.pk]),
        reverse("gallery:artwork_download", args=[private.pk]),
        reverse("gallery:source_image", args=[private.job.content_id]),
        reverse("gallery:gallery"),
        reverse("gallery:artwork_detail", args=[private.pk]),
    ]
    for url in private_urls:
        assert "no-store" in clients["owner"].get(url)["Cache-Control"], url
    for url in (reverse("gallery:shared_artwork", args=[unlisted.share_token]),
                reverse("gallery:shared_file", args=[unlisted.share_token, "image"])):
        assert "no-store" in clients["anonymous"].get(url)["Cache-Control"], url
    public = clients["anonymous"].get(reverse("gallery:preset_preview", args=[preset.name]))
    assert public["Cache-Control"] == "public, max-age=3600"
    assert not clients["anonymous"].get(reverse("gallery:explore")).has_header("Cache-Control")


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3#V9!xq2-Lr7@pW0zT$e5mN8&bY1uJ4cH6fG;dS*aQ+iO_lK)vB(nM=wE%tR^yU",
    "ALLOWED_HOSTS": "atelier.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://atelier.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
    "TRUSTED_PROXIES": "1",
}


def _check_deploy(extra: dict) -> subprocess.CompletedProcess:
    # The suite's own environment (its servers' URLs) minus what only tests set.
    environment = {
        name: value for name, value in os.environ.items()
        if name != "DJANGO_ALLOW_ASYNC_UNSAFE" and not name.startswith("SECURE_")
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env={**environment, **extra}, capture_output=True, text=True, timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_settings():
    result = _check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_it_fails_the_deploy_check_without_https_settings():
    result = _check_deploy({name: value for name, value in PRODUCTION.items() if not name.startswith("SECURE_")})
    assert result.returncode != 0 and "SECURE_SSL_REDIRECT" in result.stderr + result.stdout
