"""The in-app inbox: idempotent creators, read state, selectors."""

import pytest
from django.db import connection
from django.utils import timezone

from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.notify import selectors, services
from kefu.notify.models import Notification
from tests.factories_notify import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("agent", username="alice")


@pytest.fixture
def bob(make_user):
    return make_user("agent", username="bob")


def _lose_the_race(monkeypatch, model):
    """The first "does it exist?" lookup misses, as if a concurrent transaction
    inserted the same key just after it: the insert then hits the unique constraint."""
    real_filter = model.objects.filter
    calls = {"n": 0}

    def filter_(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            return model.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(model.objects, "filter", filter_)
    return calls


# notify_user -------------------------------------------------------------------------


def test_notify_user_creates_a_message_in_the_recipients_inbox(alice):
    notification = services.notify_user(
        recipient=alice,
        title="工单 T-1 已派给您",
        body="请在 2 小时内处理",
        link="/tickets/1/",
        key="ticket:1:assigned",
    )

    assert notification.recipient == alice
    assert notification.read_at is None
    assert list(selectors.inbox_for(alice)) == [notification]
    assert not AuditEvent.objects.exists()


def test_notify_user_twice_with_the_same_key_creates_one_message(alice):
    first = services.notify_user(recipient=alice, title="第一次", key="ticket:1:assigned")

    second = services.notify_user(recipient=alice, title="第二次", key="ticket:1:assigned")

    assert second.pk == first.pk
    assert second.title == "第一次"
    assert Notification.objects.count() == 1


def test_notify_user_losing_an_insert_race_returns_the_winners_row(monkeypatch, alice):
    winner = NotificationFactory(recipient=alice, idempotency_key="race:1", title="先到")
    calls = _lose_the_race(monkeypatch, Notification)

    result = services.notify_user(recipient=alice, title="后到", key="race:1")

    assert calls["n"] >= 2, "the race path re-reads after the IntegrityError"
    assert result.pk == winner.pk
    assert Notification.objects.count() == 1
    # The savepoint kept the surrounding transaction usable.
    assert Notification.objects.filter(title="先到").exists()


def test_notify_user_key_reused_for_another_recipient_is_refused(alice, bob):
    services.notify_user(recipient=alice, title="给 alice", key="k1")

    with pytest.raises(Conflict) as exc:
        services.notify_user(recipient=bob, title="给 bob", key="k1")

    assert exc.value.code == "idempotency_key_reused"
    assert not Notification.objects.filter(recipient=bob).exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "", "key": "k"},
        {"title": "标题", "key": ""},
        {"title": "标题", "key": "x" * 201},
        {"title": "标题", "key": "k", "link": "https://evil.example/"},
        {"title": "标题", "key": "k", "link": "//evil.example/"},
        {"title": "标题", "key": "k", "link": "/\\evil.example/"},
        {"title": "标题", "key": "k", "link": "javascript:alert(1)"},
    ],
)
def test_notify_user_refuses_bad_input_and_creates_nothing(alice, fields):
    with pytest.raises(ValidationFailed):
        services.notify_user(recipient=alice, **fields)

    assert not Notification.objects.exists()


def test_notify_user_clips_an_overlong_title(alice):
    notification = services.notify_user(recipient=alice, title="长" * 300, key="long")

    assert len(notification.title) == 200
    assert notification.title.endswith("…")


# notify_users ------------------------------------------------------------------------


def test_notify_users_derives_a_key_per_recipient(alice, bob):
    rows = services.notify_users(recipients=[alice, bob], title="例会通知", link="/meetings/3/", key="meeting:3")

    assert {(n.recipient_id, n.idempotency_key) for n in rows} == {
        (alice.pk, f"meeting:3:{alice.pk}"),
        (bob.pk, f"meeting:3:{bob.pk}"),
    }


def test_notify_users_uses_one_insert_whatever_the_number_of_recipients(make_user, django_assert_max_num_queries):
    users = [make_user("agent") for _ in range(25)]

    with django_assert_max_num_queries(3) as captured:  # savepoint, INSERT, release
        services.notify_users(recipients=users, title="全员通知", key="all:1")

    inserts = [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    assert Notification.objects.count() == 25


def test_notify_users_repeated_creates_only_the_missing_messages(alice, bob, make_user):
    services.notify_users(recipients=[alice, bob], title="通知", key="n:1")
    carol = make_user("agent", username="carol")

    rows = services.notify_users(recipients=[alice, bob, carol, carol], title="通知（重发）", key="n:1")

    assert Notification.objects.count() == 3
    assert rows.count() == 3
    assert Notification.objects.get(recipient=alice).title == "通知"
    assert Notification.objects.get(recipient=carol).title == "通知（重发）"


def test_notify_users_with_no_recipients_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        rows = services.notify_users(recipients=[], title="空", key="empty")

    assert list(rows) == []


def test_notify_users_refuses_an_external_link_and_creates_nothing(alice, bob):
    with pytest.raises(ValidationFailed):
        services.notify_users(recipients=[alice, bob], title="x", link="http://evil.example/", key="ext")

    assert not Notification.objects.exists()


# read state --------------------------------------------------------------------------


def test_mark_read_sets_the_time_once(alice):
    notification = NotificationFactory(recipient=alice)

    services.notification_mark_read(user=alice, notification=notification)
    first_read = Notification.objects.get(pk=notification.pk).read_at
    services.notification_mark_read(user=alice, notification=Notification.objects.get(pk=notification.pk))

    assert first_read is not None
    assert Notification.objects.get(pk=notification.pk).read_at == first_read
    assert not AuditEvent.objects.exists()


def test_mark_read_of_someone_elses_message_is_not_found_and_changes_nothing(alice, bob):
    notification = NotificationFactory(recipient=alice)

    with pytest.raises(NotFound):
        services.notification_mark_read(user=bob, notification=notification)

    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_mark_read_after_a_concurrent_read_reports_the_stored_time(alice):
    notification = NotificationFactory(recipient=alice)
    stale = Notification.objects.get(pk=notification.pk)
    services.notification_mark_read(user=alice, notification=notification)

    services.notification_mark_read(user=alice, notification=stale)

    assert stale.read_at == Notification.objects.get(pk=notification.pk).read_at


def test_mark_all_read_touches_only_the_users_own_unread_messages(alice, bob):
    NotificationFactory.create_batch(3, recipient=alice)
    theirs = NotificationFactory(recipient=bob)

    count = services.notification_mark_all_read(user=alice)

    assert count == 3
    assert selectors.unread_count(alice) == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


# selectors ---------------------------------------------------------------------------


def test_inbox_is_personal_whatever_the_role(alice, manager):
    mine = NotificationFactory(recipient=alice)
    NotificationFactory(recipient=manager)

    assert list(selectors.inbox_for(alice)) == [mine]
    assert mine not in selectors.inbox_for(manager)


def test_inbox_unread_only(alice):
    unread = NotificationFactory(recipient=alice)
    read = NotificationFactory(recipient=alice)
    services.notification_mark_read(user=alice, notification=read)

    assert list(selectors.inbox_for(alice, unread_only=True)) == [unread]
    assert set(selectors.inbox_for(alice)) == {unread, read}


def test_unread_count_is_one_count_query(alice, bob, django_assert_num_queries):
    NotificationFactory.create_batch(4, recipient=alice)
    NotificationFactory(recipient=bob)
    services.notification_mark_read(user=alice, notification=Notification.objects.filter(recipient=alice).first())

    with django_assert_num_queries(1) as captured:
        count = selectors.unread_count(alice)

    assert count == 3
    assert "COUNT" in captured.captured_queries[0]["sql"].upper()


def test_anonymous_has_an_empty_inbox(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        assert selectors.unread_count(AnonymousUser()) == 0
        assert list(selectors.inbox_for(AnonymousUser())) == []


def test_unread_count_uses_the_recipient_read_index(alice, django_assert_num_queries):
    # A realistic shape: most of the inbox already read, a few unread.
    NotificationFactory.create_batch(3, recipient=alice)
    Notification.objects.bulk_create(
        Notification(recipient=alice, title="旧", idempotency_key=f"old:{i}", read_at=timezone.now())
        for i in range(2000)
    )
    with django_assert_num_queries(1) as captured:
        selectors.unread_count(alice)
    count_sql = captured.captured_queries[0]["sql"]

    explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notify_notification")
        cursor.execute(f"{explain} {count_sql}")
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())

    assert "notify_noti_recipie_620e9a_idx" in plan, plan
