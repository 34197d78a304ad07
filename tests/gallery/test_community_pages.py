"""Acceptance in a real headless Chromium against a live server: explore, likes, remix, share links, moderation."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from gallery.models import Artwork, ModerationAction, StyleJob
from tests.gallery.factories import PASSWORD, image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page, base: str, user) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page.locator("nav")).to_contain_text("Log out")


def _signed_out(browser):
    return browser.new_context(viewport={"width": 1280, "height": 900}).new_page()


def test_it_lets_a_second_user_find_like_and_remix_a_public_artwork(
    page, live_server, owner, other, make_artwork, tmp_path
):
    artwork = make_artwork(owner, "public", strength=0.6)
    _log_in(page, live_server.url, other)
    page.click("nav >> text=Explore")
    card = page.locator(f".artwork-card:has(a[href='/artworks/{artwork.pk}/'])")
    expect(card).to_be_visible()
    card.locator("img").click()

    like = page.locator("[data-role=like]")
    expect(like).to_have_attribute("aria-pressed", "false")
    url_before = page.url
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-role=like-count]")).to_have_text("1")
    assert page.url == url_before and artwork.likes.filter(user=other).exists()

    page.click("[data-role=remix]")
    expect(page.locator(f"input[name=styles-0-preset][value='{artwork.job.styles.get().preset_id}']")).to_be_checked()
    photo = tmp_path / "mine.jpg"
    photo.write_bytes(image_bytes(size=(120, 90)))
    page.set_input_files("#id_content", str(photo))
    page.click("button:has-text('Paint it')")
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    remix = StyleJob.objects.get(owner=other)
    assert (remix.styles.get().preset_id, remix.strength, remix.method) == (artwork.job.styles.get().preset_id, 0.6, artwork.job.method)


def test_it_opens_an_unlisted_link_signed_out_until_the_owner_revokes_it(
    page, browser, live_server, owner, make_artwork
):
    artwork = make_artwork(owner, "private")
    _log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/artworks/{artwork.pk}/")
    page.check("input[name=visibility][value=unlisted]")
    page.click("[data-role=visibility] button")
    link = page.locator("[data-role=share-url]").input_value()
    assert link.startswith(live_server.url + "/s/")

    visitor = _signed_out(browser)
    visitor.goto(link)
    expect(visitor.locator("[data-role=result-image]")).to_be_visible()
    visitor.wait_for_function("() => document.querySelector('[data-role=result-image]').naturalWidth > 0")

    page.click("button:has-text('Revoke link')")
    expect(page.locator(".messages")).to_contain_text("Share link revoked")
    response = visitor.goto(link)
    assert response.status == 404
    visitor.context.close()


def test_it_takes_a_reported_artwork_off_every_public_surface_once_a_moderator_hides_it(
    page, browser, live_server, owner, other, moderator, make_artwork
):
    artwork = make_artwork(owner, "unlisted")
    token = artwork.share_token
    artwork.set_visibility("public")
    _log_in(page, live_server.url, other)
    page.goto(f"{live_server.url}/artworks/{artwork.pk}/")
    page.click("[data-role=report]")
    page.check("input[name=reason][value=copyright]")
    page.fill("#id_details", "This is my photo, used without asking.")
    page.click("button:has-text('Send report')")
    expect(page.locator(".messages")).to_contain_text("A moderator will look at your report")

    desk = _signed_out(browser)
    _log_in(desk, live_server.url, moderator)
    desk.click("nav >> text=Moderation")
    item = desk.locator(f".queue-item[data-kind=artwork][data-id='{artwork.pk}']")
    expect(item).to_contain_text("This is my photo, used without asking.")
    desk.wait_for_function("() => [...document.querySelectorAll('.queue-thumb img')].every(img => img.naturalWidth > 0)")
    item.locator("textarea[name=reason]").fill("Copyright complaint upheld")
    item.locator("button[value=hide]").click()
    expect(desk.locator(".messages, .messagelist")).to_contain_text("Hide item: done")
    assert ModerationAction.objects.get().reason == "Copyright complaint upheld"

    visitor = _signed_out(browser)
    for path in (reverse("gallery:explore"), reverse("gallery:explore") + "?sort=top",
                 reverse("gallery:public_profile", args=[owner.username])):
        visitor.goto(live_server.url + path)
        expect(visitor.locator(f"a[href='/artworks/{artwork.pk}/']")).to_have_count(0)
    for path in (f"/artworks/{artwork.pk}/", f"/artworks/{artwork.pk}/image/", f"/s/{token}/", f"/s/{token}/image/"):
        assert visitor.goto(live_server.url + path).status == 404

    assert page.goto(f"{live_server.url}/artworks/{artwork.pk}/").status == 404  # the reporter, signed in
    _log_in(visitor, live_server.url, owner)
    visitor.goto(f"{live_server.url}/artworks/{artwork.pk}/")
    expect(visitor.locator("[data-role=hidden-notice]")).to_contain_text("Copyright complaint upheld")
    assert Artwork.objects.get(pk=artwork.pk).is_hidden
    for context in (desk.context, visitor.context):
        context.close()


def _drop_file(page, zone: str, name: str, data: bytes, mime: str) -> None:
    """Drop a file on an element, as a user dragging it from their desktop does."""
    transfer = page.evaluate_handle(
        "([name, bytes, mime]) => { const transfer = new DataTransfer();"
        " transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime })); return transfer; }",
        [name, list(data), mime],
    )
    page.dispatch_event(zone, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(zone, "drop", {"dataTransfer": transfer})


def test_it_remixes_another_users_uploaded_style_into_a_blend_with_a_dropped_photo(
    page, live_server, owner, other, make_artwork, preset
):
    from tests.gallery.factories import clean
    from tests.gallery.test_style_options import _paint

    artwork = make_artwork(owner, "public", preset=None, style=clean(_paint()), method="arbitrary", strength=0.7)
    theirs = artwork.job.styles.get().image
    _log_in(page, live_server.url, other)
    page.goto(f"{live_server.url}/artworks/{artwork.pk}/")
    page.click("[data-role=remix]")

    shared = page.locator(f"input[name=styles-0-shared_style][value='{theirs.pk}']")
    expect(shared).to_be_checked()
    page.wait_for_function(
        "() => document.querySelector('input[name=styles-0-shared_style]').closest('label').querySelector('img')"
        ".naturalWidth > 0"
    )
    _drop_file(page, "[data-role=drop-zone]:has(#id_content)", "mine.jpg", image_bytes(size=(120, 90)), "image/jpeg")
    thumb = page.locator("[data-role=drop-zone]:has(#id_content) [data-role=upload-thumb]")
    expect(thumb).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('[data-role=drop-zone]:has(#id_content) [data-role=upload-thumb]').naturalWidth > 0"
    )
    assert page.eval_on_selector("#id_content", "input => input.files.length") == 1

    expect(page.locator("[data-role=style-row] .style-weight")).to_be_hidden()  # one style: no weights shown
    page.click("[data-role=add-style]")
    second = page.locator("[data-role=style-row]").nth(1)
    second.locator(f".preset-option:has(input[value='{preset.pk}'])").click()
    expect(page.locator("#id_method")).to_have_value("arbitrary")
    page.fill("#id_styles-1-weight", "0.4")
    expect(second.locator("[data-role=share]")).to_have_text("20 %")  # half the slider, against a style at 1
    page.check('input[name=max_side][value="64"]')
    page.click("button:has-text('Paint it')")
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))

    first, blended = StyleJob.objects.get(owner=other).styles.all()
    assert first.image.owner == other and first.image.perceptual_hash == theirs.perceptual_hash
    assert blended.preset == preset and (first.weight, blended.weight) == pytest.approx((0.8, 0.2))
