"""The bell, the inbox pages and the outbox log."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from kefu.notify.models import Notification, OutboxStatus
from tests.factories_notify import NotificationFactory, OutboxMessageFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice(make_user):
    return make_user("agent", username="alice")


@pytest.fixture
def bob(make_user):
    return make_user("agent", username="bob")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def _read_at(notification):
    return Notification.objects.get(pk=notification.pk).read_at


# the bell ----------------------------------------------------------------------------


def test_every_page_shows_the_bell_with_the_unread_count(alice_client, alice, bob):
    NotificationFactory.create_batch(3, recipient=alice)
    NotificationFactory.create_batch(5, recipient=bob)

    html = alice_client.get(reverse("home")).content.decode()

    assert 'data-testid="notify-bell"' in html
    assert 'data-testid="notify-unread">3<' in html
    assert f'hx-get="{reverse("notify:bell")}"' in html
    assert 'hx-trigger="every 60s' in html


def test_the_bell_shows_no_badge_without_unread_messages(alice_client, alice):
    notification = NotificationFactory(recipient=alice)
    Notification.objects.filter(pk=notification.pk).update(read_at=notification.created_at)

    html = alice_client.get(reverse("notify:bell")).content.decode()

    assert 'data-testid="notify-bell"' in html
    assert "notify-unread" not in html


def test_the_bell_fragment_counts_only_the_users_own_messages(alice_client, alice, bob, django_assert_max_num_queries):
    NotificationFactory.create_batch(2, recipient=alice)
    NotificationFactory.create_batch(4, recipient=bob)

    with django_assert_max_num_queries(3):  # session, user, count
        response = alice_client.get(reverse("notify:bell"), **HTMX)

    assert response.status_code == 200
    assert 'data-testid="notify-unread">2<' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_bell_caps_the_badge_at_99(alice_client, alice):
    NotificationFactory.create_batch(100, recipient=alice)

    html = alice_client.get(reverse("notify:bell")).content.decode()

    assert 'data-testid="notify-unread">99+<' in html


def test_the_bell_stops_polling_once_the_session_is_gone(client):
    response = client.get(reverse("notify:bell"), **HTMX)

    assert response.status_code == 286
    assert response.content == b""


def test_the_bell_has_no_inline_script(alice_client):
    html = alice_client.get(reverse("notify:bell")).content.decode()

    assert "<script" not in html
    assert "hx-on" not in html


# the inbox ---------------------------------------------------------------------------


def test_inbox_lists_only_the_users_own_messages(alice_client, alice, bob):
    NotificationFactory(recipient=alice, title="给 alice 的消息")
    NotificationFactory(recipient=bob, title="给 bob 的消息")

    html = alice_client.get(reverse("notify:inbox")).content.decode()

    assert "给 alice 的消息" in html
    assert "给 bob 的消息" not in html


def test_inbox_highlights_unread_messages(alice_client, alice):
    unread = NotificationFactory(recipient=alice, title="未读的")
    read = NotificationFactory(recipient=alice, title="已读的")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)

    html = alice_client.get(reverse("notify:inbox")).content.decode()

    assert f'id="notification-{unread.pk}" data-testid="notification-row" data-unread="1" class="table-primary"' in html
    assert f'id="notification-{read.pk}" data-testid="notification-row" data-unread="0">' in html
    assert html.count('data-testid="notify-mark-read"') == 1
    assert 'data-testid="notify-read-all"' in html


def test_inbox_unread_filter(alice_client, alice):
    NotificationFactory(recipient=alice, title="未读的")
    read = NotificationFactory(recipient=alice, title="已读的")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)

    html = alice_client.get(reverse("notify:inbox"), {"unread": "1"}).content.decode()

    assert "未读的" in html
    assert "已读的" not in html


def test_inbox_pages_with_a_cursor(alice_client, alice):
    NotificationFactory.create_batch(55, recipient=alice)

    first = alice_client.get(reverse("notify:inbox"))
    page = first.context["page"]
    second = alice_client.get(reverse("notify:inbox"), {"cursor": page.next_cursor})

    assert len(page.items) == 50 and page.has_more
    assert len(second.context["page"].items) == 5
    seen = {n.pk for n in page.items} | {n.pk for n in second.context["page"].items}
    assert len(seen) == 55


def test_inbox_with_a_mangled_cursor_shows_the_first_page(alice_client, alice):
    NotificationFactory(recipient=alice, title="第一条")

    response = alice_client.get(reverse("notify:inbox"), {"cursor": "not-a-cursor"})

    assert response.status_code == 200
    assert "第一条" in response.content.decode()


@pytest.mark.parametrize("count", [3, 60])
def test_inbox_query_count_does_not_grow_with_the_list(alice_client, alice, count, django_assert_max_num_queries):
    NotificationFactory.create_batch(count, recipient=alice)

    # session, user, menu permissions (2), page rows, unread count
    with django_assert_max_num_queries(8):
        response = alice_client.get(reverse("notify:inbox"))

    assert response.status_code == 200


def test_inbox_requires_login(client):
    response = client.get(reverse("notify:inbox"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


# marking read ------------------------------------------------------------------------


def test_mark_read_by_htmx_returns_the_row_and_tells_the_bell(alice_client, alice):
    notification = NotificationFactory(recipient=alice, title="待读")

    response = alice_client.post(reverse("notify:read", args=[notification.pk]), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "notify-changed"
    html = response.content.decode()
    assert html.lstrip().startswith("<tr") and 'data-unread="0"' in html
    assert _read_at(notification) is not None


def test_mark_read_without_htmx_goes_back_to_the_inbox(alice_client, alice):
    notification = NotificationFactory(recipient=alice)

    response = alice_client.post(reverse("notify:read", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("notify:inbox")
    assert _read_at(notification) is not None


def test_mark_read_of_another_users_message_is_not_found(alice_client, bob):
    theirs = NotificationFactory(recipient=bob)

    response = alice_client.post(reverse("notify:read", args=[theirs.pk]), **HTMX)

    assert response.status_code == 404
    assert _read_at(theirs) is None


def test_mark_read_refuses_get(alice_client, alice):
    notification = NotificationFactory(recipient=alice)

    response = alice_client.get(reverse("notify:read", args=[notification.pk]))

    assert response.status_code == 405
    assert _read_at(notification) is None


def test_mark_all_read_marks_only_the_users_own(alice_client, alice, bob):
    mine = NotificationFactory.create_batch(3, recipient=alice)
    theirs = NotificationFactory(recipient=bob)

    response = alice_client.post(reverse("notify:read_all"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("notify:inbox")
    assert all(_read_at(n) is not None for n in mine)
    assert _read_at(theirs) is None
    assert "已将 3 条消息标为已读" in response.content.decode()


# opening a message -------------------------------------------------------------------


def test_open_marks_read_and_follows_an_internal_link(alice_client, alice):
    notification = NotificationFactory(recipient=alice, link="/tickets/42/?tab=log")

    response = alice_client.get(reverse("notify:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == "/tickets/42/?tab=log"
    assert _read_at(notification) is not None


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\tevil",
    ],
)
def test_open_never_follows_an_external_link(alice_client, alice, link):
    # Written past the service (which refuses such links) to prove the view checks too.
    notification = NotificationFactory(recipient=alice, link=link)

    response = alice_client.get(reverse("notify:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("notify:inbox")
    assert _read_at(notification) is not None


def test_open_without_a_link_goes_to_the_inbox(alice_client, alice):
    notification = NotificationFactory(recipient=alice, link="")

    response = alice_client.get(reverse("notify:open", args=[notification.pk]))

    assert response["Location"] == reverse("notify:inbox")


def test_open_of_another_users_message_is_not_found(alice_client, bob):
    theirs = NotificationFactory(recipient=bob, link="/tickets/1/")

    response = alice_client.get(reverse("notify:open", args=[theirs.pk]))

    assert response.status_code == 404
    assert _read_at(theirs) is None


# the outbox --------------------------------------------------------------------------


@pytest.fixture
def outbox_rows():
    return [
        OutboxMessageFactory(channel="sms", to="13812345678", status=OutboxStatus.RECORDED),
        OutboxMessageFactory(channel="email", to="zhang@example.com", subject="回访", status=OutboxStatus.FAILED),
        OutboxMessageFactory(channel="sms", to="13900001111", status=OutboxStatus.PENDING),
    ]


def test_outbox_lists_messages_for_a_manager_in_full(manager_client, outbox_rows):
    response = manager_client.get(reverse("notify:outbox"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="outbox-row"') == 3
    assert "13812345678" in html and "zhang@example.com" in html


def test_outbox_filters_by_channel_and_status(manager_client, outbox_rows):
    response = manager_client.get(reverse("notify:outbox"), {"channel": "sms", "status": "pending"})

    assert [m.pk for m in response.context["page"].items] == [outbox_rows[2].pk]


def test_outbox_masks_addresses_for_who_may_not_reveal_them(client, make_user, outbox_rows):
    admin = make_user("admin", username="sysadmin")
    # Explicit, so the test holds whether or not the role grant is in place.
    admin.user_permissions.add(Permission.objects.get(codename="view_outbox"))
    client.force_login(admin)

    html = client.get(reverse("notify:outbox")).content.decode()

    assert "13812345678" not in html and "138****5678" in html
    assert "zhang@example.com" not in html and "z***@example.com" in html


def test_outbox_is_refused_without_the_permission(client, alice, outbox_rows):
    client.force_login(alice)

    response = client.get(reverse("notify:outbox"))

    assert response.status_code == 403


def test_outbox_query_count_does_not_grow_with_the_list(manager_client, django_assert_max_num_queries):
    OutboxMessageFactory.create_batch(60)

    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("notify:outbox"))

    assert len(response.context["page"].items) == 50
