"""Sign-up, log-in, log-out, password change and reset, and the profile."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from PIL import Image

from gallery.models import Profile
from tests.gallery.factories import PASSWORD, image_bytes, upload

pytestmark = pytest.mark.django_db


def test_it_signs_up_a_new_user_and_logs_them_in(client):
    response = client.post(
        reverse("gallery:signup"),
        {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("gallery:job_new")
    user = get_user_model().objects.get(username="newbie")
    assert Profile.objects.filter(user=user).exists()
    assert client.get(reverse("gallery:gallery")).status_code == 200


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
