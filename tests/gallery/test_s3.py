"""S3-compatible storage (django-storages) against moto's S3 server: files land in the bucket, private files are
redirects to signed, expiring URLs after the access check, downloads keep their name."""

import io
import urllib.request
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image

from gallery import services
from tests.gallery.test_roles import _free_port

pytestmark = pytest.mark.django_db
BUCKET = "atelier-media"


@pytest.fixture
def s3_bucket(monkeypatch):
    """A bucket on a local S3 server (moto): its endpoint and a boto3 client."""
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield endpoint, client
    server.stop()


@pytest.fixture
def s3(settings, s3_bucket):
    """A private bucket on a local S3 server, as the site's default storage."""
    endpoint, client = s3_bucket
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": endpoint, "default_acl": "private",
                    "querystring_auth": True, "file_overwrite": False, "signature_version": "s3v4"}}}
    return client


@pytest.fixture
def painted(owner, make_job, s3):
    job = make_job(owner, max_side=640)
    job.mark_running("test-worker")
    return services.save_artwork(job, Image.radial_gradient("L").convert("RGB").resize((640, 400)))


def _fetch(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


def test_results_are_stored_in_the_bucket_and_served_through_signed_urls(clients, painted, s3, settings):
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {painted.image.name, painted.thumbnail.name} <= keys

    response = clients["owner"].get(reverse("gallery:artwork_image", args=[painted.pk]))
    assert response.status_code == 302 and "no-cache" in response["Cache-Control"]
    target = urlsplit(response["Location"])
    query = parse_qs(target.query)
    assert target.path == f"/{BUCKET}/{painted.image.name}" and query["X-Amz-Expires"] == [
        str(settings.SIGNED_URL_SECONDS)]
    body, _ = _fetch(response["Location"])
    assert Image.open(io.BytesIO(body)).size == (640, 400)

    download = clients["owner"].get(reverse("gallery:artwork_download", args=[painted.pk]))
    body, headers = _fetch(download["Location"])
    assert headers["Content-Disposition"].startswith('attachment; filename="atelier-') and body.startswith(b"\x89PNG")


def test_the_access_check_comes_before_any_signed_url(clients, painted):
    for who in ("other", "anonymous"):
        response = clients[who].get(reverse("gallery:artwork_image", args=[painted.pk]))
        assert response.status_code in (302, 404)
        assert "X-Amz-Signature" not in response.get("Location", "")


def test_a_file_missing_from_the_bucket_is_a_404_not_a_redirect(clients, painted, s3):
    s3.delete_object(Bucket=BUCKET, Key=painted.image.name)
    assert clients["owner"].get(reverse("gallery:artwork_image", args=[painted.pk])).status_code == 404
