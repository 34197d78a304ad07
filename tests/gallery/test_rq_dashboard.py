"""django-rq's dashboard: superusers only; staff moderators cannot empty a queue."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    return client


@pytest.mark.django_db(transaction=True)
def test_it_keeps_a_staff_moderator_from_emptying_the_queue(clients, owner, other, make_job, redis_queue):
    make_job(owner)
    make_job(other)  # another user's: the fair queue lets one job per user into RQ's list at a time
    assert redis_queue.count == 2
    for url in ("/admin/rq/", "/admin/rq/queues/0/", "/admin/rq/stats.json"):
        assert clients["moderator"].get(url).status_code == 403, url
    assert clients["moderator"].post("/admin/rq/queues/0/empty/").status_code == 403
    assert clients["other"].post("/admin/rq/queues/0/empty/").status_code == 403
    assert clients["anonymous"].post("/admin/rq/queues/0/empty/").status_code == 302
    assert redis_queue.count == 2


@pytest.mark.django_db(transaction=True)
def test_it_lets_a_superuser_use_the_dashboard(superuser_client, owner, make_job, redis_queue):
    make_job(owner)
    assert superuser_client.get("/admin/rq/").status_code == 200
    assert superuser_client.get("/admin/rq/queues/0/").status_code == 200
    assert superuser_client.post("/admin/rq/queues/0/empty/").status_code == 302
    assert redis_queue.count == 0
