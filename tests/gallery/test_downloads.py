"""Download at full size, from the artwork page and the job page, to the people who may see the picture; the job
page and the artwork page link to each other."""

import io

import pytest
from django.urls import reverse
from django.utils.text import slugify
from PIL import Image

from gallery import services
from tests.gallery.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _downloaded(response) -> Image.Image:
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def painted(owner, make_job):
    """An artwork rendered at 900 × 600, larger than its thumbnail and not a square."""
    job = make_job(owner, max_side=900)
    job.mark_running("test-worker")
    return services.save_artwork(job, Image.radial_gradient("L").convert("RGB").resize((900, 600)))


def test_it_downloads_the_result_at_the_size_it_was_rendered_under_a_readable_name(clients, painted):
    response = clients["owner"].get(reverse("gallery:artwork_download", args=[painted.pk]))
    disposition = response["Content-Disposition"]
    image = _downloaded(response)
    assert image.size == (900, 600) == (painted.width, painted.height)
    with painted.image.open("rb") as stored:
        assert image.tobytes() == Image.open(stored).tobytes()
    named = f"atelier-{painted.pk}-{slugify(painted.job.style_label)}.png"
    assert disposition == f'attachment; filename="{named}"' and len(named) > len(f"atelier-{painted.pk}-.png")


@pytest.mark.parametrize(
    ("visibility", "shared", "allowed"),
    [
        ("private", False, {"owner"}),
        ("unlisted", False, {"owner"}),
        ("unlisted", True, {"owner"}),  # the link is the way in for others, not the artwork's id
        ("public", False, {"owner", "other", "moderator", "anonymous"}),
    ],
)
def test_it_downloads_by_id_for_those_who_may_see_the_image(clients, painted, visibility, shared, allowed):
    painted.set_visibility(visibility)
    if shared:
        painted.regenerate_share_token()
    for role, client in clients.items():
        image = client.get(reverse("gallery:artwork_image", args=[painted.pk])).status_code
        download = client.get(reverse("gallery:artwork_download", args=[painted.pk])).status_code
        assert (image, download) == ((200, 200) if role in allowed else (404, 404)), role


def test_it_downloads_through_a_share_link_until_it_is_revoked(clients, painted):
    painted.set_visibility("unlisted")
    painted.regenerate_share_token()
    url = reverse("gallery:shared_file", args=[painted.share_token, "download"])
    for role in ("anonymous", "other"):
        assert _downloaded(clients[role].get(url)).size == (900, 600)
    painted.revoke_share_token()
    assert clients["anonymous"].get(url).status_code == 404
    painted.set_visibility("private")
    assert clients["other"].get(reverse("gallery:artwork_download", args=[painted.pk])).status_code == 404


def test_the_pages_offer_the_full_size_download_and_link_to_each_other(clients, painted):
    artwork_url = reverse("gallery:artwork_detail", args=[painted.pk])
    job_url = reverse("gallery:job_detail", args=[painted.job_id])
    download_url = reverse("gallery:artwork_download", args=[painted.pk])
    job_page = clients["owner"].get(job_url).content.decode()
    # Filled by the markup itself (the CSP refuses style attributes), before any script runs.
    assert '<progress class="progress" max="100" value="100"' in job_page
    assert f'data-role="artwork-link" href="{artwork_url}"' in job_page
    assert f'href="{download_url}" download>Download full size' in job_page
    artwork_page = clients["owner"].get(artwork_url).content.decode()
    assert f'href="{download_url}"' in artwork_page and "Download full size" in artwork_page
    assert 'data-role="job-link"' in artwork_page and f'href="{job_url}"' in artwork_page
    # The job page is its owner's: a visitor of the public artwork is not sent there.
    painted.set_visibility("public")
    visitor_page = clients["other"].get(artwork_url).content.decode()
    assert "Download full size" in visitor_page and job_url not in visitor_page


@pytest.mark.django_db(transaction=True)
def test_a_job_page_fills_its_bar_and_leads_to_the_artwork_once_painted(
    page, live_server, owner, make_job, redis_queue, run_worker
):
    job = make_job(owner)
    page.goto(f"{live_server.url}/accounts/login/?next=/jobs/{job.pk}/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"**/jobs/{job.pk}/")
    assert page.eval_on_selector("[data-role=bar]", "bar => bar.value") == 0
    run_worker()
    page.wait_for_selector("[data-role=result]:not([hidden])")
    assert page.eval_on_selector("[data-role=bar]", "bar => [bar.value, bar.position]") == [100, 1]
    page.click("[data-role=artwork-link]")
    job.refresh_from_db()
    page.wait_for_url(f"**/artworks/{job.artwork.pk}/")
    assert page.locator("[data-role=download]").inner_text() == "Download full size"
