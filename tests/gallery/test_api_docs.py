"""The API's OpenAPI schema and its docs page, which must work without the internet (no CDN)."""

from urllib.parse import urlparse

import pytest

from tests.gallery.apiclient import API

pytestmark = pytest.mark.django_db


def test_it_serves_an_openapi_schema_of_every_endpoint(client):
    schema = client.get(f"{API}/openapi.json").json()
    assert schema["info"]["title"] == "Atelier API"
    assert {path: sorted(ops) for path, ops in schema["paths"].items()} == {
        f"{API}/presets": ["get"],
        f"{API}/jobs": ["post"],
        f"{API}/jobs/{{job_id}}": ["get"],
        f"{API}/artworks": ["get"],
        f"{API}/artworks/{{artwork_id}}": ["delete", "get", "patch"],
        f"{API}/artworks/{{artwork_id}}/download": ["get"],
    }
    assert schema["components"]["securitySchemes"] == {"TokenAuth": {"type": "http", "scheme": "bearer"}}
    job_form = schema["paths"][f"{API}/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"photo", "preset1", "image4", "weight2", "method", "strength", "preserve_color", "size"} <= set(
        job_form["properties"]
    )
    assert job_form["properties"]["method"]["default"] == "arbitrary"


def test_the_docs_page_works_offline(page, live_server):
    outside = []

    def only_this_site(route, request):
        if urlparse(request.url).hostname not in ("localhost", "127.0.0.1"):
            outside.append(request.url)
            return route.abort()
        return route.continue_()

    page.route("**/*", only_this_site)
    page.goto(f"{live_server.url}{API}/docs")
    page.wait_for_selector(".opblock-summary-path")
    assert page.locator(".opblock").count() == 8
    assert outside == []
