"""Every page in a real Chromium at a phone's width: nothing wider than the screen, the error pages in the layout."""

import pytest
from django.urls import reverse
from PIL import Image

from gallery import moderation, services
from gallery.models import Report
from tests.gallery.factories import PASSWORD, clean

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
# Elements wider than the screen, to name them when a page overflows.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


def _phone(browser, live_server, user=None):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    if user is not None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{live_server.url}/")
    return page


def _overflow(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]:
        return []
    return [f"{url}: {page.evaluate('document.documentElement.scrollWidth')} px", *page.evaluate(WIDEST)]


@pytest.fixture
def site(owner, other, moderator, preset, make_job, make_artwork):
    """Something on every page: a large painting, a public and an unlisted artwork, a running job, a report."""
    preset.title = "Composition VII, the Deluge"  # a real preset's long title, in the job page's captions
    preset.save()
    job = make_job(owner)
    job.mark_running("test-worker")
    artwork = services.save_artwork(job, Image.new("RGB", (1024, 768), (180, 90, 40)))
    artwork.set_visibility("public")
    unlisted = make_artwork(owner, "unlisted")
    running = make_job(owner)
    running.mark_running("test-worker")
    uploaded_style = make_job(owner, preset=None, style=clean(), method="arbitrary").styles.get().image
    moderation.file_report(other, artwork, Report.Reason.SPAM, "")
    return {"artwork": artwork, "unlisted": unlisted, "job": job, "running": running, "style": uploaded_style}


def test_it_fits_every_page_on_a_390_px_screen(browser, live_server, site, owner, other, moderator):
    base, artwork = live_server.url, site["artwork"]
    public = ["/", "/signup/", "/accounts/login/", "/accounts/password_reset/", "/explore/",
              f"/u/{owner.username}/", f"/artworks/{artwork.pk}/", f"/s/{site['unlisted'].share_token}/",
              "/no-such-page/"]
    owners = ["/", "/gallery/", "/jobs/new/", f"/jobs/{site['job'].pk}/", f"/jobs/{site['running'].pk}/",
              f"/artworks/{artwork.pk}/", f"/artworks/{site['unlisted'].pk}/", "/profile/", "/profile/edit/",
              f"/styles/{site['style'].pk}/credit/", "/account/delete/", "/accounts/password_change/"]
    others = [f"/artworks/{artwork.pk}/", f"/report/artwork/{artwork.pk}/", f"/report/user/{owner.username}/"]
    moderators = [reverse("admin:gallery_report_queue")]
    overflowing = []
    for user, urls in ((None, public), (owner, owners), (other, others), (moderator, moderators)):
        page = _phone(browser, live_server, user)
        for url in urls:
            overflowing += _overflow(page, base + url)
        page.context.close()
    assert not overflowing, "\n".join(overflowing)


# Each nav item's row (its vertical centre: the nav centres them; a button is taller than a link) and its left and
# right edges.
NAV_ITEMS = """items => items.map(i => { const r = i.getBoundingClientRect();
  return [Math.round(r.top + r.bottom), r.left, r.right]; })"""


@pytest.mark.parametrize("role", ["owner", "moderator"])
def test_it_keeps_the_signed_in_nav_in_whole_evenly_spaced_rows_on_a_phone(browser, live_server, role, request):
    page = _phone(browser, live_server, request.getfixturevalue(role))
    items = page.eval_on_selector_all(".topbar nav > *", NAV_ITEMS)
    rows: dict[int, list] = {}
    for centre, left, right in items:
        rows.setdefault(centre, []).append((left, right))
    assert min(len(row) for row in rows.values()) >= 2, rows  # no link alone on a row, as "Log out" was
    if len(rows) > 1:
        # Wrapped rows read as one list: the same gap between neighbours everywhere, not a row stretched apart
        # (a moderator's "Moderation" and "Log out" stood at opposite edges of the screen).
        gaps = [b[0] - a[1] for row in rows.values() for a, b in zip(row, row[1:])]
        assert max(gaps) - min(gaps) < 2, gaps
    page.context.close()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE])
def test_gallery_cards_show_the_painting_large_and_its_photo_and_styles_small_and_even(
    browser, live_server, owner, make_artwork, viewport
):
    make_artwork(owner, "private")
    make_artwork(owner, "public", preset=None, style=clean())
    page = _phone(browser, live_server, owner)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/gallery/")
    cards = page.eval_on_selector_all(".card.artwork", """cards => cards.map(card => ({
        card: card.getBoundingClientRect().width,
        painting: card.querySelector(':scope > a img').getBoundingClientRect().width,
        sources: [...card.querySelectorAll('[data-role=sources] img')].map(img => {
          const r = img.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; }),
      }))""")
    assert len(cards) == 2
    for card in cards:
        assert abs(card["painting"] - card["card"]) < 3  # the painting spans its card
        assert len(card["sources"]) == 2 and len(set(map(tuple, card["sources"]))) == 1  # photo and style alike
        width, height = card["sources"][0]
        assert width == height and width * 4 <= card["painting"]
    page.context.close()


# Each option's text width against the room a closed select gives its label (its width less padding and arrow).
OPTION_FIT = """select => {
  const style = getComputedStyle(select), context = document.createElement('canvas').getContext('2d');
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return [...select.options].map(o => [o.text, Math.round(context.measureText(o.text).width), Math.round(room)]);
}"""


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE])
def test_the_method_menu_shows_its_longest_label_whole(browser, live_server, owner, preset, viewport):
    page = _phone(browser, live_server, owner)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/jobs/new/")
    options = page.eval_on_selector("select[name=method]", OPTION_FIT)
    assert any(text.startswith("Optimisation") for text, _, _ in options), options
    assert [o for o in options if o[1] > o[2]] == [], options  # the 200 px column cut "Optimisation (one style, slo"
    page.context.close()


def test_it_shows_the_error_pages_in_the_sites_layout(browser, live_server, moderator, settings):
    settings.ROOT_URLCONF = "tests.gallery.error_urls"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": [1, 60]}
    page = _phone(browser, live_server, moderator)
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    seen = {}
    for status, url, heading in ((404, "/no-such-page/", "Nothing here"), (403, "/admin/rq/", "Not allowed"),
                                 (500, "/fail/", "Something went wrong")):
        response = page.goto(live_server.url + url)
        seen[status] = (response.status, page.inner_text("h1"))
        assert page.locator(".topbar .brand").is_visible() and page.locator(".footer").is_visible(), url
        # The site's stylesheet is applied: its paper-coloured background, and the page fits the phone.
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(250, 247, 242)"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
        assert heading in page.inner_text("h1")
    page.context.close()

    page = _phone(browser, live_server)
    for _ in range(2):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", moderator.username)
        page.fill("#id_password", "wrong")
        with page.expect_response(lambda response: response.request.method == "POST") as answer:
            page.click("button:has-text('Log in')")
    seen[429] = (answer.value.status, page.inner_text("h1"))
    assert page.locator(".topbar .brand").is_visible() and "Too many attempts" in page.inner_text(".error-block")
    page.context.close()
    assert {status: answer for status, (answer, _) in seen.items()} == {404: 404, 403: 403, 500: 500, 429: 429}
    assert blocked == []
