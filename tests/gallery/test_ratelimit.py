"""Log-in and password-reset limits: failures only, by account and client, on the site's and the admin's log-in."""

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from gallery.ratelimit import client_ip
from tests.gallery.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN_URLS = ["/accounts/login/", "/admin/login/"]


def _log_in(client, username, password, url="/accounts/login/", address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address).status_code


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_it_limits_failed_log_ins_on_the_site_and_the_admin(url, client, moderator, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": [3, 60]}
    assert [_log_in(client, moderator.username, "wrong", url) for _ in range(4)] == [200, 200, 200, 429]
    assert _log_in(client, moderator.username, PASSWORD, url) == 429


def test_it_does_not_count_successful_log_ins(client, owner, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": [2, 60], "login_client": [2, 60]}
    for _ in range(5):
        assert _log_in(client, owner.username, PASSWORD) == 302
        client.logout()


def test_it_keys_failures_by_account_and_client(client, owner, other, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": [2, 60]}
    assert [_log_in(client, owner.username, "wrong") for _ in range(3)] == [200, 200, 429]
    # The same account from another client, and another account from the same client, may still log in.
    assert _log_in(client, owner.username, PASSWORD, address="10.0.0.2") == 302
    client.logout()
    assert _log_in(client, other.username, PASSWORD) == 302


def test_it_limits_one_client_trying_many_accounts(client, owner, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_client": [3, 60]}
    assert [_log_in(client, name, "wrong") for name in ("ann", "bob", "cid", "dee")] == [200, 200, 200, 429]
    assert _log_in(client, owner.username, PASSWORD, address="10.0.0.9") == 302


def test_it_limits_password_reset_mails_per_address_and_per_client(client, owner, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset_email": [2, 3600], "password_reset": [5, 3600]}
    url = reverse("password_reset")
    statuses = [client.post(url, {"email": owner.email.upper()}).status_code for _ in range(3)]
    assert statuses == [302, 302, 429] and len(mail.outbox) == 2
    # Five requests from this client in all; the sixth is refused whatever the address.
    others = [client.post(url, {"email": f"someone{index}@example.com"}).status_code for index in range(3)]
    assert others == [302, 302, 429]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no trusted proxy: the header is the client's own claim
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client prepended a forged entry
        (2, "198.51.100.1, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies: the header cannot be trusted
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_it_takes_the_client_address_from_trusted_proxies_only(proxies, forwarded, expected, settings):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_it_counts_failures_per_forwarded_client_behind_a_proxy(client, owner, settings):
    settings.TRUSTED_PROXIES = 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": [2, 60]}

    def attempt(forwarded, password="wrong"):
        data = {"username": owner.username, "password": password}
        return client.post("/accounts/login/", data, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert [attempt(f"198.51.100.{index}, 203.0.113.9") for index in range(3)] == [200, 200, 429]
    assert attempt("203.0.113.10", PASSWORD) == 302


def _sign_up(client, username, password2=PASSWORD, address="10.0.0.1"):
    data = {"username": username, "email": f"{username}@example.com", "password1": PASSWORD, "password2": password2}
    return client.post(reverse("gallery:signup"), data, REMOTE_ADDR=address).status_code


def test_it_counts_only_successful_sign_ups_against_the_clients_limit(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": [2, 3600]}
    # An office behind one address: typing mistakes (passwords that differ) are answered, and count for nothing.
    assert {_sign_up(client, f"typo{index}", password2="something-else") for index in range(12)} == {200}
    assert [_sign_up(client, name) for name in ("ann", "bob", "cid")] == [302, 302, 429]
    assert _sign_up(client, "dee", address="10.0.0.2") == 302  # another client has its own count


def test_it_bounds_how_often_one_client_may_ask_the_sign_up_form_about_addresses(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup_attempt": [5, 3600]}
    assert [_sign_up(client, f"probe{index}", password2="x") for index in range(6)] == [200] * 5 + [429]
    assert _sign_up(client, "eve", address="10.0.0.3") == 302  # another client has its own count


def test_the_default_sign_up_limit_lets_an_office_sign_up_together(client):
    assert {_sign_up(client, f"colleague{index}") for index in range(12)} == {302}
