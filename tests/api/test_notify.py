"""The notify API: each caller sees and marks only their own messages."""

import pytest

from kefu.core.tokens import token_create
from kefu.notify.models import Notification
from tests.factories_notify import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("agent", username="alice")


@pytest.fixture
def bob(make_user):
    return make_user("agent", username="bob")


@pytest.fixture
def api(client, alice):
    """A client calling as alice with a Bearer token."""
    _token, raw = token_create(user=alice, name="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    class Api:
        def get(self, path, data=None):
            return client.get(f"/api/v1{path}", data or {}, **headers)

        def post(self, path):
            return client.post(f"/api/v1{path}", content_type="application/json", **headers)

    return Api()


def test_list_returns_only_the_callers_messages(api, alice, bob):
    mine = NotificationFactory(recipient=alice, title="我的", link="/tickets/1/", category="ticket")
    NotificationFactory(recipient=bob, title="别人的")

    response = api.get("/notifications")

    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [mine.pk]
    item = body["items"][0]
    assert (item["title"], item["link"], item["category"], item["read_at"]) == ("我的", "/tickets/1/", "ticket", None)
    assert body["next_cursor"] is None


def test_list_unread_filter(api, alice):
    unread = NotificationFactory(recipient=alice)
    read = NotificationFactory(recipient=alice)
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)

    body = api.get("/notifications", {"unread": "true"}).json()

    assert [item["id"] for item in body["items"]] == [unread.pk]


def test_list_pages_with_a_cursor(api, alice):
    created = NotificationFactory.create_batch(5, recipient=alice)

    first = api.get("/notifications", {"limit": 2}).json()
    second = api.get("/notifications", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/notifications", {"limit": 2, "cursor": second["next_cursor"]}).json()

    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert ids == sorted((n.pk for n in created), reverse=True)
    assert third["next_cursor"] is None


def test_list_with_a_bad_cursor_is_422(api):
    response = api.get("/notifications", {"cursor": "garbage!"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_unread_count(api, alice, bob):
    NotificationFactory.create_batch(2, recipient=alice)
    NotificationFactory.create_batch(3, recipient=bob)

    response = api.get("/notifications/unread-count")

    assert response.status_code == 200
    assert response.json() == {"count": 2}


def test_mark_read(api, alice):
    notification = NotificationFactory(recipient=alice)

    response = api.post(f"/notifications/{notification.pk}/read")

    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_mark_read_of_another_users_message_is_404(api, bob):
    theirs = NotificationFactory(recipient=bob)

    response = api.post(f"/notifications/{theirs.pk}/read")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_read_of_a_missing_message_is_404(api):
    response = api.post("/notifications/999999/read")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_read_all_marks_only_the_callers_messages(api, alice, bob):
    NotificationFactory.create_batch(3, recipient=alice)
    theirs = NotificationFactory(recipient=bob)

    response = api.post("/notifications/read-all")

    assert response.status_code == 200
    assert response.json() == {"updated": 3}
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_anonymous_gets_401(client):
    response = client.get("/api/v1/notifications")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_the_endpoints_are_documented(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {
        "/api/v1/notifications",
        "/api/v1/notifications/unread-count",
        "/api/v1/notifications/read-all",
        "/api/v1/notifications/{notification_id}/read",
    } <= set(paths)
