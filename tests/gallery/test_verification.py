"""E-mail verification at sign-up: the account stays locked until the mailed link is opened; the link is signed and
expires; a new link can be asked for; existing and demo accounts are untouched."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from gallery import moderation, services, verification
from tests.gallery.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEWBIE = {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD}


def _sign_up(client, **changes) -> str:
    """Sign up and answer the path of the link in the mail."""
    response = client.post(reverse("gallery:signup"), {**NEWBIE, **changes})
    assert response.status_code == 302 and response["Location"] == reverse("gallery:verification_sent")
    return _link(mail.outbox[-1])


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/signup/confirm/\S+/)", message.body).group(1)


def _log_in(client, username="newbie"):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_it_mails_a_link_and_keeps_the_account_locked_until_it_is_opened(client):
    link = _sign_up(client)
    user = get_user_model().objects.get(username="newbie")
    assert not user.is_active
    assert mail.outbox[0].to == ["newbie@example.com"] and "Confirm your e-mail" in mail.outbox[0].subject
    assert "newbie@example.com" in client.get(reverse("gallery:verification_sent")).content.decode()
    # Not signed in, and the right password says what to do rather than "wrong password".
    assert client.get(reverse("gallery:gallery")).status_code == 302
    page = _log_in(client).content.decode()
    assert "Confirm your e-mail address first" in page and "suspended" not in page
    wrong = client.post(reverse("login"), {"username": "newbie", "password": "wrong"}).content.decode()
    assert "Confirm your e-mail" not in wrong and "Please enter a correct username and password" in wrong

    response = client.get(link)
    assert response.status_code == 302 and response["Location"] == reverse("gallery:job_new")
    user.refresh_from_db()
    assert user.is_active
    assert client.get(reverse("gallery:gallery")).status_code == 200  # the link signed them in
    client.post(reverse("logout"))
    assert _log_in(client).status_code == 302
    # Opened again: nothing changes, and it does not sign anyone in.
    client.post(reverse("logout"))
    again = client.get(link, follow=True)
    assert "already confirmed" in again.content.decode() and not again.context["user"].is_authenticated


def test_it_refuses_an_expired_link_with_a_clear_message(client, settings):
    link = _sign_up(client)
    settings.PASSWORD_RESET_TIMEOUT = 1
    time.sleep(2.1)  # the signature's timestamp has whole seconds
    page = client.get(link).content.decode()
    assert "This confirmation link has expired" in page and "Send me a new link" in page
    assert not get_user_model().objects.get(username="newbie").is_active


@pytest.mark.parametrize("tamper", ["cut", "altered", "other-salt"])
def test_it_refuses_a_tampered_link_with_a_clear_message(client, tamper):
    from django.core import signing

    link = _sign_up(client)
    token = link.removeprefix("/signup/confirm/").removesuffix("/")
    user = get_user_model().objects.get(username="newbie")
    forged = {
        "cut": token[:-3],
        "altered": signing.dumps({"user": user.pk + 1, "email": "newbie@example.com"}, salt="guess")[:-4] + token[-4:],
        "other-salt": signing.dumps({"user": user.pk, "email": "newbie@example.com"}),
    }[tamper]
    page = client.get(reverse("gallery:verify_email", args=[forged])).content.decode()
    assert "This confirmation link is not valid" in page
    user.refresh_from_db()
    assert not user.is_active


def test_a_link_names_one_address_and_cannot_unban_an_account(client, moderator):
    link = _sign_up(client)
    user = get_user_model().objects.get(username="newbie")
    user.email = "someone-else@example.com"
    user.save()
    assert "no longer belongs" in client.get(link).content.decode()
    user.email = NEWBIE["email"]
    user.save()
    moderation.ban_user(moderator, user, "Spam account")
    assert "no longer belongs" in client.get(link).content.decode()
    user.refresh_from_db()
    assert not user.is_active
    assert "This account is suspended" in _log_in(client).content.decode()


def test_it_sends_a_new_link_only_to_an_account_awaiting_confirmation(client, owner):
    first = _sign_up(client)
    for email in ("NEWBIE@example.com", owner.email, "nobody@example.com"):
        response = client.post(reverse("gallery:resend_verification"), {"email": email})
        assert response.status_code == 302 and response["Location"] == reverse("gallery:verification_sent")
        # One answer for all three, so the form tells nobody which addresses have accounts.
        assert "a new link is on its way" in client.get(response["Location"]).content.decode()
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["newbie@example.com"]
    second = _link(mail.outbox[1])
    assert client.get(second).status_code == 302
    assert get_user_model().objects.get(username="newbie").is_active
    client.post(reverse("logout"))
    stale = client.get(first, follow=True)  # the first link still names the account, which is confirmed now
    assert "already confirmed" in stale.content.decode() and not stale.context["user"].is_authenticated


def test_an_account_an_administrator_deactivated_before_its_first_login_stays_off(client, admin_client):
    """Inactive and never logged in, like an account awaiting its link, but no link is mailed for it or opens it."""
    user = get_user_model().objects.create_user("quiet", "quiet@example.com", PASSWORD)
    services.ensure_profile(user)
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk]))
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "is_active"}
    data.update({"date_joined_0": user.date_joined.strftime("%Y-%m-%d"), "date_joined_1": "00:00:00",
                 "groups": [], "user_permissions": []})
    response = admin_client.post(reverse("admin:auth_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert not user.is_active and user.last_login is None

    client.post(reverse("gallery:resend_verification"), {"email": "quiet@example.com"})
    assert mail.outbox == []
    response = client.get(reverse("gallery:verify_email", args=[verification.make_token(user)]))
    assert "no longer belongs" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active
    assert "This account is suspended" in _log_in(client, "quiet").content.decode()


def test_it_limits_how_often_a_new_link_is_mailed(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset_email": [1, 3600]}
    _sign_up(client)
    url = reverse("gallery:resend_verification")
    assert client.post(url, {"email": NEWBIE["email"]}).status_code == 302
    assert client.post(url, {"email": NEWBIE["email"]}).status_code == 429
    assert len(mail.outbox) == 2


def test_it_mails_no_password_reset_to_an_unconfirmed_address(client):
    _sign_up(client)
    client.post(reverse("password_reset"), {"email": NEWBIE["email"]})
    assert len(mail.outbox) == 1  # the confirmation only


def test_existing_and_demo_accounts_log_in_as_before(client, owner):
    assert _log_in(client, owner.username).status_code == 302
    client.post(reverse("logout"))
    services.ensure_demo_user("demo", PASSWORD, "demo@example.com")
    assert _log_in(client, "demo").status_code == 302
    assert client.get(reverse("gallery:gallery")).status_code == 200
