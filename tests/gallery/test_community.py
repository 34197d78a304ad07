"""Sharing, explore, artwork pages, public profiles, likes and remix."""

import threading
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from gallery import community, forms, services
from gallery.models import Artwork, Like, SourceImage
from tests.gallery.factories import clean, image_bytes

pytestmark = pytest.mark.django_db


def test_it_makes_new_artworks_private(owner, make_job):
    job = make_job(owner)
    job.mark_running("w")
    artwork = services.save_artwork(job, Image.new("RGB", (8, 8)))
    assert artwork.visibility == Artwork.Visibility.PRIVATE and artwork.share_token == ""


def test_it_opens_an_unlisted_link_signed_out_until_revoked(owner, make_artwork, client):
    artwork = make_artwork(owner, "unlisted")
    assert len(artwork.share_token) >= 40
    link = reverse("gallery:shared_artwork", args=[artwork.share_token])
    image = reverse("gallery:shared_file", args=[artwork.share_token, "image"])
    assert client.get(link).status_code == 200 and client.get(image).status_code == 200
    assert client.get(reverse("gallery:artwork_detail", args=[artwork.pk])).status_code == 404
    artwork.revoke_share_token()
    assert client.get(link).status_code == 404 and client.get(image).status_code == 404


def test_it_regenerates_a_share_link_and_kills_the_old_one(owner, make_artwork, clients):
    artwork = make_artwork(owner, "unlisted")
    old = artwork.share_token
    clients["owner"].post(reverse("gallery:artwork_share", args=[artwork.pk]), {"action": "regenerate"})
    artwork.refresh_from_db()
    assert artwork.share_token and artwork.share_token != old
    assert clients["anonymous"].get(reverse("gallery:shared_artwork", args=[old])).status_code == 404
    assert clients["anonymous"].get(reverse("gallery:shared_artwork", args=[artwork.share_token])).status_code == 200


def test_it_stops_a_private_artworks_share_link(owner, make_artwork, client):
    artwork = make_artwork(owner, "unlisted")
    artwork.set_visibility("private")
    assert client.get(reverse("gallery:shared_artwork", args=[artwork.share_token])).status_code == 404


def test_it_lets_only_the_owner_change_visibility(owner, make_artwork, clients):
    artwork = make_artwork(owner)
    url = reverse("gallery:artwork_visibility", args=[artwork.pk])
    assert clients["other"].post(url, {"visibility": "public"}).status_code == 404
    assert clients["owner"].post(url, {"visibility": "public"}).status_code == 302
    artwork.refresh_from_db()
    assert artwork.visibility == "public"


def test_it_lists_only_visible_public_artworks_in_explore(owner, other, make_artwork, client):
    shown = make_artwork(owner, "public")
    make_artwork(owner, "unlisted")
    make_artwork(owner, "private")
    make_artwork(owner, "public").hide("spam")
    banned = make_artwork(other, "public")
    other.is_active = False
    other.save()
    listed = list(client.get(reverse("gallery:explore")).context["page"].object_list)
    assert listed == [shown] and banned not in listed


def test_it_sorts_explore_by_likes_then_newest(owner, other, moderator, make_artwork, client):
    older, newer, newest = (make_artwork(owner, "public") for _ in range(3))
    community.set_like(other, older, True)
    community.set_like(moderator, older, True)
    community.set_like(other, newer, True)
    assert list(client.get(reverse("gallery:explore")).context["page"].object_list) == [newest, newer, older]
    top = client.get(reverse("gallery:explore"), {"sort": "top"}).context["page"].object_list
    assert list(top) == [older, newer, newest] and [artwork.like_count for artwork in top] == [2, 1, 0]
    Like.objects.create(user=moderator, artwork=newer)  # any way a like row comes counts, not only a click
    top = client.get(reverse("gallery:explore"), {"sort": "top"}).context["page"].object_list
    assert list(top) == [newer, older, newest]


def test_it_keeps_the_stored_like_count_through_unlikes_deleted_accounts_and_stale_saves(
    owner, other, moderator, make_artwork
):
    artwork = make_artwork(owner, "public")
    stale = Artwork.objects.get(pk=artwork.pk)
    assert community.set_like(other, artwork, True) == 1 and community.set_like(moderator, artwork, True) == 2
    assert community.set_like(moderator, artwork, False) == 1 and community.set_like(moderator, artwork, False) == 1
    stale.width = 65
    stale.save()  # a copy read before the likes, saved whole (as the admin does)
    artwork.refresh_from_db()
    assert (artwork.like_count, artwork.width) == (1, 65)
    community.set_like(moderator, artwork, True)
    other.delete()
    artwork.refresh_from_db()
    assert artwork.like_count == 1 == Like.objects.filter(artwork=artwork).count()


@pytest.mark.parametrize("url_name", ["explore", "top", "profile"])
def test_it_renders_a_page_of_cards_in_constant_queries(url_name, owner, other, make_artwork, clients, settings):
    settings.GALLERY_PAGE_SIZE = 3
    urls = {
        "explore": reverse("gallery:explore"),
        "top": reverse("gallery:explore") + "?sort=top",
        "profile": reverse("gallery:public_profile", args=[owner.username]),
    }

    def count_queries(url):
        with CaptureQueriesContext(connection) as queries:
            response = clients["other"].get(url)
        assert response.status_code == 200
        return len(queries), response

    def render_with(count):
        while Artwork.objects.count() < count:
            community.set_like(other, make_artwork(owner, "public"), True)
        return count_queries(urls[url_name])

    one, _ = render_with(1)
    full, first_page = render_with(7)
    # A middle page, which links both ways, costs one query more than the first: whether newer pictures exist.
    separator = "&" if "?" in urls[url_name] else "?"
    middle, _ = count_queries(f"{urls[url_name]}{separator}after={first_page.context['page'].older}")
    # Session, user, the page's artworks with their owners and jobs, their style rows; a profile adds its person and
    # the count of their public artworks.
    assert one == full == (6 if url_name == "profile" else 4) and middle == full + 1


def test_it_shows_the_artwork_page_with_credit_settings_and_open_graph(owner, make_artwork, client):
    artwork = make_artwork(owner, "public", strength=0.75)
    page = client.get(reverse("gallery:artwork_detail", args=[artwork.pk])).content.decode()
    assert 'property="og:image" content="http://testserver/artworks/' in page
    assert "<em>Bands</em> by Test Painter, 2026" in page
    assert "0.75" in page and 'data-role="compare-range"' in page
    assert reverse("gallery:artwork_download", args=[artwork.pk]) in page


def test_it_shows_a_hidden_artwork_only_to_its_owner_with_the_reason(owner, make_artwork, clients):
    artwork = make_artwork(owner, "public")
    artwork.hide("Copyrighted photo")
    url = reverse("gallery:artwork_detail", args=[artwork.pk])
    assert "Copyrighted photo" in clients["owner"].get(url).content.decode()
    for role in ("other", "moderator", "anonymous"):
        assert clients[role].get(url).status_code == 404
    assert "Hidden by a moderator" in clients["owner"].get(reverse("gallery:gallery")).content.decode()


def test_it_shows_a_public_profile_of_public_artworks(owner, make_artwork, client):
    shown = make_artwork(owner, "public")
    make_artwork(owner, "unlisted")
    response = client.get(reverse("gallery:public_profile", args=[owner.username]))
    assert list(response.context["page"].object_list) == [shown]
    owner.is_active = False
    owner.save()
    assert client.get(reverse("gallery:public_profile", args=[owner.username])).status_code == 404


def _like(client, artwork, body):
    return client.post(reverse("gallery:artwork_like", args=[artwork.pk]), body, content_type="application/json")


def test_it_toggles_a_like_as_json(owner, make_artwork, clients):
    artwork = make_artwork(owner, "public")
    assert _like(clients["other"], artwork, {"liked": True}).json() == {"liked": True, "count": 1}
    assert _like(clients["other"], artwork, {"liked": True}).json() == {"liked": True, "count": 1}
    assert _like(clients["moderator"], artwork, {"liked": True}).json()["count"] == 2
    assert _like(clients["other"], artwork, {"liked": False}).json() == {"liked": False, "count": 1}


@pytest.mark.parametrize(
    "body",
    ['{"liked": "1"}', '{"liked": 0}', "{not json", "", "[true]", '{"liked": true, "extra": 1}', "liked=1"],
    ids=["string", "number", "malformed", "empty", "array", "extra-key", "form-encoded"],
)
def test_it_answers_400_to_a_like_body_it_does_not_understand(body, owner, other, make_artwork, clients):
    artwork = make_artwork(owner, "public")
    community.set_like(other, artwork, True)
    response = _like(clients["other"], artwork, body)
    assert response.status_code == 400 and "liked" in response.json()["error"]
    assert Like.objects.filter(user=other, artwork=artwork).exists()


def test_it_refuses_likes_on_artworks_others_cannot_see(owner, make_artwork, clients):
    artwork = make_artwork(owner, "unlisted")
    assert _like(clients["other"], artwork, {"liked": True}).status_code == 404
    assert not Like.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_like_counts_exact_under_concurrent_clicks(owner, make_artwork, django_user_model):
    artwork = make_artwork(owner, "public")
    fans = [django_user_model.objects.create_user(f"fan{index}") for index in range(8)]
    url = reverse("gallery:artwork_like", args=[artwork.pk])
    errors = []

    def click_all(clicks):
        barrier = threading.Barrier(len(clicks))

        def click(user, liked):
            client = Client()
            client.force_login(user)
            barrier.wait()
            try:
                assert client.post(url, {"liked": liked}, content_type="application/json").status_code == 200
            except Exception as exc:  # a failing thread must fail the test, so collect it
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=click, args=one) for one in clicks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # Every fan clicks three times at once: the double clicks race each other and everyone else's.
    click_all([(fan, True) for fan in fans for _ in range(3)])
    # Then half take it back, twice each, while the other half like again.
    click_all([(fan, index % 2 == 1) for index, fan in enumerate(fans) for _ in range(2)])
    assert errors == []
    artwork.refresh_from_db()
    assert artwork.like_count == Like.objects.filter(artwork=artwork).count() == len(fans) // 2
    assert Client().get(reverse("gallery:explore")).context["page"].object_list[0].like_count == len(fans) // 2


def test_it_preselects_the_style_and_settings_when_remixing(owner, make_artwork, clients, preset):
    artwork = make_artwork(owner, "public", method="fast", strength=0.6, preserve_color=True)
    form = clients["other"].get(reverse("gallery:job_new"), {"remix": artwork.pk}).context["form"]
    assert [row.initial["preset"] for row in form.styles] == [preset.pk]
    assert form.initial["strength"] == 0.6 and form.initial["preserve_color"] is True
    assert form["method"].value() == "fast"  # the artwork's method, not the form's default (Any style)


@pytest.mark.parametrize("painted_with, offered", [(320, 352), (768, 896), (512, 512)])
def test_it_remixes_a_blend_with_its_shares_and_the_nearest_brush_on_offer(painted_with, offered, owner, make_artwork,
                                                                         clients, preset):
    # 768 and 320 were the fine and bold brushes before the brushes were spaced evenly.
    style = clean(image_bytes(size=(120, 90)))
    artwork = make_artwork(owner, "public", method="arbitrary", style_scale=painted_with, styles=(
        services.StyleChoice(preset=preset, weight=3.0), services.StyleChoice(upload=style, weight=1.0)))
    assert [row.weight for row in artwork.job.styles.order_by("position")] == [0.75, 0.25]

    response = clients["owner"].get(reverse("gallery:job_new"), {"remix": artwork.pk})

    form = response.context["form"]
    assert form["style_scale"].value() == offered
    sliders = [row["weight"].value() for row in form.styles]
    assert sliders == [1.0, 0.5]
    weights = [forms.blend_weight(slider) for slider in sliders]
    assert [weight / sum(weights) for weight in weights] == pytest.approx([0.75, 0.25])
    assert f'<option value="{offered}" selected>' in response.content.decode()


def test_it_refuses_to_remix_an_artwork_the_user_cannot_see(owner, make_artwork, clients):
    artwork = make_artwork(owner, "private")
    assert clients["other"].get(reverse("gallery:job_new"), {"remix": artwork.pk}).status_code == 404


def test_it_preselects_an_uploaded_style_as_mine_for_its_owner_and_as_shared_for_others(owner, make_artwork, clients):
    artwork = make_artwork(owner, "public", preset=None, style=clean(), method="optimize", strength=0.8)
    style = artwork.job.styles.get().image
    mine = clients["owner"].get(reverse("gallery:job_new"), {"remix": artwork.pk}).context["form"]
    theirs = clients["other"].get(reverse("gallery:job_new"), {"remix": artwork.pk}).context["form"]
    assert mine.styles[0].initial["my_style"] == style.pk
    assert theirs.styles[0].initial["shared_style"] == style.pk and theirs.initial["strength"] == 0.8
    assert list(theirs.styles[0].fields["shared_style"].queryset) == [style]


def _listed(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return list(response.context["page"].object_list), response.context["page"]


def test_it_pages_explore_by_cursor_both_ways_and_keeps_the_sort(owner, other, make_artwork, client, settings):
    settings.GALLERY_PAGE_SIZE = 2
    oldest, middle, newest = (make_artwork(owner, "public") for _ in range(3))
    community.set_like(other, oldest, True)
    url = reverse("gallery:explore")
    first, page = _listed(client, url, sort="top")
    assert first == [oldest, newest] and page.newer is None
    html = client.get(url, {"sort": "top"}).content.decode()
    assert f'href="?sort=top&amp;after={page.older}"' in html and "Fewer likes" in html
    second, page = _listed(client, url, sort="top", after=page.older)
    assert second == [middle] and page.older is None
    assert _listed(client, url, sort="top", before=page.newer)[0] == [oldest, newest]


def test_it_keeps_a_page_link_on_the_same_pictures_when_new_ones_arrive(owner, make_artwork, client, settings):
    settings.GALLERY_PAGE_SIZE = 2
    first, second, third = (make_artwork(owner, "public") for _ in range(3))
    for url in (reverse("gallery:explore"), reverse("gallery:public_profile", args=[owner.username])):
        older = _listed(client, url)[1].older
        assert _listed(client, url, after=older)[0] == [first]
    make_artwork(owner, "public")
    make_artwork(owner, "public")
    assert _listed(client, reverse("gallery:explore"), after=older)[0] == [first]
    page = client.get(reverse("gallery:public_profile", args=[owner.username])).content.decode()
    assert "5 public artworks" in page and "Older →" in page


@pytest.mark.parametrize("cursor", ["12", "1-2-3", "x-1", "-1", "1-²"])
def test_it_answers_a_page_link_it_did_not_make_with_404(cursor, client):
    assert client.get(reverse("gallery:explore"), {"after": cursor}).status_code == 404
    assert client.get(reverse("gallery:explore"), {"sort": "top", "before": "1-2"}).status_code == 404


@pytest.mark.parametrize("value", ["²", "١٢", "12a", "99999999999999999999"])
def test_it_answers_a_remix_id_that_is_not_an_artwork_with_404(clients, value):
    assert clients["owner"].get(reverse("gallery:job_new"), {"remix": value}).status_code == 404


def test_it_remixes_an_artwork_whose_preset_was_withdrawn_with_a_message(owner, make_artwork, clients, preset):
    artwork = make_artwork(owner, "public", strength=0.6)
    preset.is_active = False
    preset.save()
    response = clients["owner"].get(reverse("gallery:job_new"), {"remix": artwork.pk})
    assert response.status_code == 200
    assert "Bands is no longer offered" in response.content.decode()
    assert response.context["form"].initial["strength"] == 0.6


def test_it_shows_the_credited_style_to_everyone_and_a_neutral_label_without_credit(owner, make_artwork, clients):
    artwork = make_artwork(owner, "public", preset=None, style=clean())
    style = SourceImage.objects.get(kind=SourceImage.Kind.STYLE)
    url = reverse("gallery:artwork_detail", args=[artwork.pk])
    for role in ("owner", "other", "anonymous"):
        page = clients[role].get(url).content.decode()
        assert "Your style image" not in page and "<h1>An uploaded style</h1>" in page
    style.title, style.artist = "The Choppy Sea", "Jules Dupré"
    style.save()
    page = clients["anonymous"].get(url).content.decode()
    credited = "The Choppy Sea (Jules Dupré)"
    assert f"<title>{credited} by" in page and f'property="og:title" content="{credited} by' in page
    assert f"<h1>{credited}</h1>" in page
    card = clients["anonymous"].get(reverse("gallery:explore")).content.decode()
    assert f'alt="{credited} by' in card


def test_it_says_a_share_link_was_revoked_only_when_it_was(owner, make_artwork, clients):
    public = make_artwork(owner, "public")
    page = clients["owner"].get(reverse("gallery:artwork_detail", args=[public.pk])).content.decode()
    assert "No share link yet" in page and "revoked" not in page
    unlisted = make_artwork(owner, "unlisted")
    unlisted.revoke_share_token()
    page = clients["owner"].get(reverse("gallery:artwork_detail", args=[unlisted.pk])).content.decode()
    assert "it was revoked" in page
