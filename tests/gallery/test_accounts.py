"""Sign-up, log-in, log-out, password change and reset, and the profile."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image

from gallery.models import Profile
from tests.gallery.factories import PASSWORD, image_bytes, upload

pytestmark = pytest.mark.django_db


def test_it_signs_up_a_new_user_with_a_profile(client):
    # What follows (the confirmation e-mail, then logging in) is in test_verification.
    response = client.post(
        reverse("gallery:signup"),
        {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("gallery:verification_sent")
    user = get_user_model().objects.get(username="newbie")
    assert Profile.objects.filter(user=user).exists()


def test_the_database_keeps_one_account_per_e_mail_address_whatever_its_case(django_user_model):
    # Past the sign-up form: the ORM as the admin, a script or a racing request would write.
    django_user_model.objects.create_user("ann", "Ann.Lee@example.com", PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        django_user_model.objects.create_user("bob", "ann.lee@EXAMPLE.com", PASSWORD)
    # Accounts without an address (made in the admin, say) are not duplicates of each other.
    django_user_model.objects.create_user("cid", "", PASSWORD)
    django_user_model.objects.create_user("dee", "", PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        django_user_model.objects.filter(username="dee").update(email="ANN.LEE@example.com")
    assert list(django_user_model.objects.filter(email__iexact="ann.lee@example.com").values_list("username", flat=True)) == ["ann"]


def test_the_admin_says_when_another_account_has_the_e_mail_address(client, owner, other, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    url = reverse("admin:auth_user_change", args=[other.pk])
    form = client.get(url).context["adminform"].form
    data = {**{name: value for name, value in form.initial.items() if value is not None and name != "password"},
            "email": owner.email.upper(), "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00",
            "groups": [], "user_permissions": []}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Another account has this e-mail address." in response.content.decode()
    other.refresh_from_db()
    assert other.email == "oscar@example.com"


def test_it_rejects_a_sign_up_with_mismatched_passwords(client):
    response = client.post(
        reverse("gallery:signup"),
        {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": "different"},
    )
    assert response.status_code == 200 and response.context["form"].errors["password2"]
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_it_logs_in_and_out(client, owner):
    response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("gallery:gallery")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("gallery:gallery")).status_code == 302


def test_it_changes_a_password(clients, owner):
    response = clients["owner"].post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("another-long-passphrase")


def test_it_resets_a_forgotten_password_by_email(client, owner):
    client.post(reverse("password_reset"), {"email": owner.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]

    response = client.post(form_url, {"new_password1": "a-brand-new-secret", "new_password2": "a-brand-new-secret"})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-secret")


def test_it_saves_a_display_name_and_a_cleaned_avatar(clients, owner):
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)
    response = clients["owner"].post(
        reverse("gallery:profile_edit"),
        {"display_name": "Olive Oyl", "avatar": upload("me.jpg", image_bytes(size=(600, 400), exif=exif.tobytes()))},
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=owner)
    assert profile.display_name == "Olive Oyl"
    avatar = clients["anonymous"].get(reverse("gallery:avatar", args=[owner.pk]))
    data = b"".join(avatar.streaming_content)
    assert b"Exif" not in data
    page = clients["owner"].get(reverse("gallery:profile")).content.decode()
    assert "Olive Oyl" in page


def test_it_rejects_an_avatar_that_is_not_an_image(clients, owner):
    response = clients["owner"].post(
        reverse("gallery:profile_edit"), {"display_name": "x", "avatar": upload("me.jpg", b"GIF89a nonsense")}
    )
    assert response.status_code == 200 and response.context["form"].errors["avatar"]
    assert not Profile.objects.get(user=owner).avatar


def test_it_tells_a_banned_user_their_account_is_suspended(client, owner, moderator):
    from gallery import moderation

    moderation.ban_user(moderator, owner, "Spam account")
    response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 200 and "This account is suspended" in response.content.decode()
    # A wrong password learns nothing about the account.
    response = client.post(reverse("login"), {"username": owner.username, "password": "wrong"})
    page = response.content.decode()
    assert "Please enter a correct username and password" in page and "suspended" not in page
    assert client.get(reverse("gallery:gallery")).status_code == 302


@pytest.mark.parametrize("email", ["olive@example.com", "Olive@Example.COM"])
def test_it_allows_one_account_per_email_address(email, client, owner):
    response = client.post(
        reverse("gallery:signup"),
        {"username": "olive2", "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200 and "already exists" in " ".join(response.context["form"].errors["email"])
    assert not get_user_model().objects.filter(username="olive2").exists()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_account_per_address_when_two_sign_ups_race():
    import threading

    from django.db import connection
    from django.test import Client

    barrier, statuses = threading.Barrier(4), []

    def sign_up(index):
        email = "tWIN@eXAMPLE.COM" if index % 2 else "twin@example.com"
        data = {"username": f"twin{index}", "email": email, "password1": PASSWORD, "password2": PASSWORD}
        barrier.wait()
        try:
            statuses.append(Client().post(reverse("gallery:signup"), data, REMOTE_ADDR=f"10.0.1.{index}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 302]
    assert get_user_model().objects.filter(email__iexact="twin@example.com").count() == 1
