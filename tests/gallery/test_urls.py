"""Crafted addresses: a 404 (or a refusal) for every role, never a 500."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

NOT_FOUND = [
    "/report/artwork/²/",
    "/report/style/²/",
    "/u/%00/",
    "/s/%00/",
    "/s/%00/image/",
    "/report/user/%00/",
    "/report/user/a%00b/",
]
RQ_DASHBOARD = ["/admin/rq/queues/7/", "/admin/rq/queues/7/empty/", "/admin/rq/workers/7/"]


@pytest.fixture
def superuser_client(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    return client


@pytest.mark.parametrize("url", NOT_FOUND)
def test_it_answers_404_to_crafted_urls(url, clients, superuser_client):
    for role, client in {**clients, "superuser": superuser_client}.items():
        # Reports need a signed-in user: a visitor may be sent to log in first.
        expected = {302, 404} if role == "anonymous" and url.startswith("/report/") else {404}
        assert client.get(url).status_code in expected, role


@pytest.mark.parametrize("url", RQ_DASHBOARD)
def test_it_answers_404_to_a_queue_that_does_not_exist(url, superuser_client):
    assert superuser_client.get(url).status_code == 404
    assert superuser_client.post(url).status_code == 404
