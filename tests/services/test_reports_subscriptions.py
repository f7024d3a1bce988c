"""Scheduled reports: subscribing, who receives a subscription, and `deliver_due` —
exactly once per subscription, recipient and period, each recipient's report over their
own scope, failures isolated and retried, downloads audited."""

from __future__ import annotations

import datetime
import io
import threading

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kefu.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.notify.models import Notification, OutboxMessage
from kefu.reports import subscriptions as subs
from kefu.reports.models import Frequency, ReportDelivery, ReportSubscription
from kefu.reports.periods import period_for
from tests.factories_tickets import load_ticket_config, make_ticket

pytestmark = pytest.mark.django_db

VIEW, EXPORT, MANAGE = "view_reports", "export_reports", "manage_subscriptions"
# The role grants of the reports contract, granted here too so these tests do not hang
# on the order in which modules register their grants.
GRANTS = {
    "manager": [VIEW, EXPORT, MANAGE],
    "director": [VIEW, EXPORT, MANAGE],
    "supervisor": [VIEW, EXPORT],
    "quality_officer": [VIEW, EXPORT],
    "account_manager": [VIEW, EXPORT],
}


def _perm(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="reports", codename=codename)


@pytest.fixture
def report_roles(roles):
    for role, codenames in GRANTS.items():
        roles[role].permissions.add(*[_perm(c) for c in codenames])
    return roles


@pytest.fixture
def world(report_roles, ticket_world, make_user):
    """The ticket world, plus an account manager in each region."""
    w = dict(ticket_world)
    w["am_north"] = make_user("account_manager", username="am_n", region=w["north"], email="am_n@example.com")
    w["am_south"] = make_user("account_manager", username="am_s", region=w["south"], email="")
    return w


def _next_month_morning(today: datetime.date | None = None) -> datetime.datetime:
    """06:10 on the first day of next month: the morning after this month ends."""
    today = today or timezone.localdate()
    first = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return timezone.make_aware(datetime.datetime.combine(first, datetime.time(6, 10)))


def _this_month_key() -> str:
    return period_for("month", timezone.localdate()).key()


def _subscribe(actor, **kwargs) -> ReportSubscription:
    kwargs.setdefault("report_key", "complaints")
    kwargs.setdefault("frequency", Frequency.MONTHLY)
    return subs.subscription_create(actor=actor, **kwargs)


def _cells(content: bytes) -> list[list]:
    """Every row of every sheet of a delivered workbook, as values."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def _complaints_this_period(content: bytes) -> int:
    """The number of complaints registered in the period, read back from the file: the
    “登记量” column of the first row that starts with “本期”."""
    column = None
    for row in _cells(content):
        if column is None and "登记量" in row:
            column = row.index("登记量")
        elif column is not None and isinstance(row[0], str) and row[0].startswith("本期"):
            return int(row[column])
    raise AssertionError("no current-period row in the workbook")


# -- subscribing


def test_manager_subscribes_a_role_and_a_person_audited(world):
    manager = world["manager"]
    by_role = _subscribe(manager, role="account_manager")
    by_person = _subscribe(manager, user=world["supervisor"], frequency=Frequency.WEEKLY, by_email=True)

    assert (by_role.role, by_role.user_id) == ("account_manager", None)
    assert (by_person.role, by_person.user_id, by_person.by_email) == ("", world["supervisor"].pk, True)
    events = AuditEvent.objects.filter(code="report.subscription.created").order_by("id")
    assert [e.object_id for e in events] == [str(by_role.pk), str(by_person.pk)]
    assert events[0].actor == manager


def test_unknown_report_key_is_refused_in_chinese(world):
    with pytest.raises(ValidationFailed) as err:
        _subscribe(world["manager"], report_key="no-such-report", role="account_manager")

    assert err.value.code == "report_unknown"
    assert "没有这个报表" in err.value.message
    assert err.value.details == {"field": "report_key"}
    assert not ReportSubscription.objects.exists()
    assert not AuditEvent.objects.filter(code="report.subscription.created").exists()


def test_managing_needs_manage_subscriptions(world):
    # The supervisor may view and export reports, not subscribe others to them.
    with pytest.raises(AccessDenied):
        _subscribe(world["supervisor"], role="account_manager")
    sub = _subscribe(world["manager"], role="account_manager")
    with pytest.raises(AccessDenied):
        subs.subscription_delete(actor=world["supervisor"], subscription=sub)

    assert ReportSubscription.objects.count() == 1


@pytest.mark.parametrize(
    ("target", "field", "text"),
    [
        ({"role": "agent"}, "role", "没有查看统计报表的权限"),  # the agent role has no report permission
        ({"role": "no_such_role"}, "role", "没有这个角色"),
        ({}, "role", "二选一"),
        ({"role": "manager", "user": "supervisor"}, "role", "二选一"),
        ({"user": "agent"}, "user", "没有查看统计报表的权限"),
        ({"user": "inactive"}, "user", "已停用"),
        ({"frequency": "daily", "role": "manager"}, "frequency", "频率"),
    ],
)
def test_subscriptions_that_could_never_deliver_are_refused(world, make_user, target, field, text):
    inactive = make_user("supervisor", username="gone", is_active=False)
    people = {"supervisor": world["supervisor"], "agent": world["agent"], "inactive": inactive}
    if "user" in target:
        target = {**target, "user": people[target["user"]]}

    with pytest.raises(ValidationFailed) as err:
        _subscribe(world["manager"], **target)

    assert err.value.details == {"field": field}
    assert text in err.value.message
    assert not ReportSubscription.objects.exists()


def test_the_same_subscription_twice_is_refused(world):
    _subscribe(world["manager"], role="account_manager")
    _subscribe(world["manager"], user=world["supervisor"])
    with pytest.raises(Conflict) as by_role:
        _subscribe(world["manager"], role="account_manager")
    with pytest.raises(Conflict) as by_person:
        _subscribe(world["manager"], user=world["supervisor"])

    assert by_role.value.code == by_person.value.code == "subscription_duplicate"
    # Another frequency is another subscription.
    _subscribe(world["manager"], role="account_manager", frequency=Frequency.QUARTERLY)
    assert ReportSubscription.objects.count() == 3


# -- recipients


def test_recipients_are_active_holders_of_view_reports(world, make_user):
    gone = make_user("account_manager", username="am_gone", region=world["north"], is_active=False)
    by_role = _subscribe(world["manager"], role="account_manager")
    by_person = _subscribe(world["manager"], user=world["supervisor"])

    assert {u.username for u in subs.recipients_of(by_role)} == {"am_n", "am_s"}
    assert gone not in subs.recipients_of(by_role)
    assert subs.recipients_of(by_person) == [world["supervisor"]]

    # The supervisor loses the role (and with it the permission); the role loses it too.
    world["supervisor"].groups.clear()
    Group.objects.get(name="account_manager").permissions.remove(_perm(VIEW))
    assert subs.recipients_map([by_role, by_person]) == {by_role.pk: [], by_person.pk: []}


def test_a_permission_granted_directly_counts(world, make_user):
    agent = world["agent"]
    agent.user_permissions.add(_perm(VIEW))
    sub = _subscribe(world["manager"], user=agent)

    assert subs.recipients_of(sub) == [agent]


# -- delivering


def test_delivery_happens_once_per_period_however_often_the_job_runs(world):
    make_ticket(world["agent"], region=world["north"])
    sub = _subscribe(world["manager"], role="account_manager")
    now = _next_month_morning()

    first = subs.deliver_due(now=now)
    second = subs.deliver_due(now=now)
    later_that_day = subs.deliver_due(now=now + datetime.timedelta(hours=12))

    key = _this_month_key()
    assert sorted(first.delivered) == sorted([(sub.pk, world["am_north"].pk, key), (sub.pk, world["am_south"].pk, key)])
    assert second.delivered == later_that_day.delivered == []
    assert second.already == later_that_day.already == 2
    assert ReportDelivery.objects.count() == 2
    assert Notification.objects.filter(category="report").count() == 2
    assert AuditEvent.objects.filter(code="report.delivered").count() == 2


def test_next_period_is_delivered_again(world):
    sub = _subscribe(world["manager"], user=world["am_north"])
    now = _next_month_morning()

    subs.deliver_due(now=now)
    subs.deliver_due(now=_next_month_morning(now.date()))

    keys = list(ReportDelivery.objects.filter(subscription=sub).order_by("id").values_list("period_key", flat=True))
    assert keys == [_this_month_key(), period_for("month", now.date()).key()]


def _created_on(sub, day: datetime.date) -> None:
    ReportSubscription.objects.filter(pk=sub.pk).update(
        created_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    )


def test_a_month_the_job_missed_is_delivered_by_the_next_run(world):
    """Subscribed in September, the server down from the end of September until December:
    the first run in December owes September, October and November, oldest first."""
    sub = _subscribe(world["manager"], user=world["am_north"])
    _created_on(sub, datetime.date(2026, 9, 20))
    run = subs.deliver_due(now=timezone.make_aware(datetime.datetime(2026, 12, 1, 6, 10)))
    assert [k for _s, _r, k in run.delivered] == ["2026-09", "2026-10", "2026-11"]
    again = subs.deliver_due(now=timezone.make_aware(datetime.datetime(2026, 12, 2, 6, 10)))
    assert again.delivered == [] and again.already == 3


def test_catching_up_stops_at_the_subscription_and_at_the_bound(world):
    weekly = _subscribe(world["manager"], user=world["am_north"], frequency=Frequency.WEEKLY)
    monthly = _subscribe(world["manager"], user=world["am_north"])
    _created_on(weekly, datetime.date(2025, 1, 6))  # a year and more of weeks missed
    _created_on(monthly, datetime.date(2026, 10, 15))  # September ended before it existed
    run = subs.deliver_due(now=timezone.make_aware(datetime.datetime(2026, 12, 1, 6, 10)))
    delivered = {(s, k) for s, _r, k in run.delivered}
    assert {k for s, k in delivered if s == weekly.pk} == {"2026-W45", "2026-W46", "2026-W47", "2026-W48"}
    assert {k for s, k in delivered if s == monthly.pk} == {"2026-10", "2026-11"}


def test_pausing_stops_deliveries_and_resuming_owes_only_the_last_period(world):
    sub = _subscribe(world["manager"], user=world["am_north"])
    _created_on(sub, datetime.date(2026, 8, 20))
    paused = subs.subscription_set_active(actor=world["manager"], subscription=sub, active=False)
    assert not paused.is_active
    assert subs.deliver_due(now=timezone.make_aware(datetime.datetime(2026, 11, 1, 6, 10))).delivered == []

    subs.subscription_set_active(actor=world["manager"], subscription=sub, active=True)
    ReportSubscription.objects.filter(pk=sub.pk).update(
        active_since=timezone.make_aware(datetime.datetime(2026, 11, 20, 9))
    )
    run = subs.deliver_due(now=timezone.make_aware(datetime.datetime(2026, 12, 1, 6, 10)))
    # September and October ended while it was paused: not owed.
    assert [k for _s, _r, k in run.delivered] == ["2026-11"]
    codes = list(
        AuditEvent.objects.filter(code__startswith="report.subscription.").order_by("id").values_list("code", flat=True)
    )
    assert codes[-2:] == ["report.subscription.paused", "report.subscription.resumed"]


def test_pausing_needs_the_right_and_a_repeat_changes_nothing(world):
    sub = _subscribe(world["manager"], user=world["am_north"])
    with pytest.raises(AccessDenied):
        subs.subscription_set_active(actor=world["am_north"], subscription=sub, active=False)
    before = AuditEvent.objects.count()
    subs.subscription_set_active(actor=world["manager"], subscription=sub, active=True)
    assert AuditEvent.objects.count() == before
    assert ReportSubscription.objects.get(pk=sub.pk).active_since is None


@pytest.mark.parametrize(
    ("frequency", "today", "created", "keys"),
    [
        (Frequency.MONTHLY, datetime.date(2026, 12, 1), datetime.date(2026, 12, 1), ["2026-11"]),
        (Frequency.MONTHLY, datetime.date(2026, 12, 1), datetime.date(2026, 11, 30), ["2026-11"]),
        (Frequency.MONTHLY, datetime.date(2026, 12, 1), datetime.date(2026, 10, 31), ["2026-11", "2026-10"]),
        (Frequency.QUARTERLY, datetime.date(2027, 1, 1), datetime.date(2020, 1, 1), ["2026-Q4", "2026-Q3"]),
        (Frequency.YEARLY, datetime.date(2027, 1, 1), datetime.date(2020, 1, 1), ["2026"]),
    ],
)
def test_the_periods_a_subscription_still_owes(frequency, today, created, keys):
    assert [p.key() for p in subs.due_periods(frequency, today, created_on=created)] == keys


@pytest.mark.parametrize(
    ("frequency", "today", "key"),
    [
        (Frequency.WEEKLY, datetime.date(2026, 11, 24), "2026-W47"),  # a Tuesday: last ISO week
        (Frequency.WEEKLY, datetime.date(2027, 1, 4), "2026-W53"),  # across the year end
        (Frequency.MONTHLY, datetime.date(2026, 12, 1), "2026-11"),
        (Frequency.MONTHLY, datetime.date(2027, 1, 31), "2026-12"),
        (Frequency.QUARTERLY, datetime.date(2027, 1, 1), "2026-Q4"),
        (Frequency.YEARLY, datetime.date(2027, 3, 5), "2026"),
    ],
)
def test_the_period_delivered_is_the_one_that_just_ended(frequency, today, key):
    assert subs.due_period(frequency, today).key() == key


def test_weekly_and_monthly_in_one_run(world):
    weekly = _subscribe(world["manager"], user=world["am_north"], frequency=Frequency.WEEKLY)
    monthly = _subscribe(world["manager"], user=world["am_north"])
    now = _next_month_morning()

    run = subs.deliver_due(now=now)

    today = timezone.localdate(now)
    assert sorted(run.delivered) == sorted(
        [
            (weekly.pk, world["am_north"].pk, period_for("week", today).previous().key()),
            (monthly.pk, world["am_north"].pk, period_for("month", today).previous().key()),
        ]
    )


def test_each_recipient_gets_their_own_scope(world, monkeypatch):
    # Two complaints in the north, one in the south, all registered this month.
    make_ticket(world["agent"], region=world["north"])
    make_ticket(world["agent"], region=world["north"], customer_name="李四")
    make_ticket(world["agent_south"], region=world["south"], customer_name="王五")
    _subscribe(world["manager"], role="account_manager")
    _subscribe(world["manager"], user=world["manager"])
    built_for = []
    real_build = subs.build_report

    def spy(key, *, user, period):
        built_for.append(user.pk)
        return real_build(key, user=user, period=period)

    monkeypatch.setattr(subs, "build_report", spy)

    subs.deliver_due(now=_next_month_morning())

    content = {d.recipient_id: bytes(d.content) for d in ReportDelivery.objects.all()}
    assert sorted(built_for) == sorted([world["am_north"].pk, world["am_south"].pk, world["manager"].pk])
    assert _complaints_this_period(content[world["am_north"].pk]) == 2
    assert _complaints_this_period(content[world["am_south"].pk]) == 1
    # The regions sum to what the manager (who sees everything) received.
    assert _complaints_this_period(content[world["manager"].pk]) == 3


def test_inactive_users_and_users_without_the_permission_get_nothing(world, make_user):
    make_user("account_manager", username="am_gone", region=world["north"], is_active=False)
    _subscribe(world["manager"], role="account_manager")
    person = _subscribe(world["manager"], user=world["supervisor"])
    # After subscribing, the supervisor's role loses the report permission.
    Group.objects.get(name="supervisor").permissions.remove(_perm(VIEW))

    subs.deliver_due(now=_next_month_morning())

    assert set(ReportDelivery.objects.values_list("recipient__username", flat=True)) == {"am_n", "am_s"}
    assert not ReportDelivery.objects.filter(subscription=person).exists()
    assert not Notification.objects.filter(recipient=world["supervisor"]).exists()


def test_a_paused_subscription_delivers_nothing(world):
    sub = _subscribe(world["manager"], role="account_manager")
    ReportSubscription.objects.filter(pk=sub.pk).update(is_active=False)

    run = subs.deliver_due(now=_next_month_morning())

    assert run.delivered == [] and run.already == 0
    assert not ReportDelivery.objects.exists()


def test_a_delivery_stored_meanwhile_by_another_run_is_not_repeated(world, monkeypatch):
    """Two runs at once: while this run renders, the other stores the same delivery.
    The unique constraint refuses the second row; this run sends no second message
    and carries on with the next recipient."""
    sub = _subscribe(world["manager"], role="account_manager")
    key = _this_month_key()
    real_xlsx = subs.report_xlsx
    am_north = world["am_north"]

    def render_while_the_other_run_wins(report):
        content = real_xlsx(report)
        if not ReportDelivery.objects.filter(recipient=am_north).exists():
            ReportDelivery.objects.create(
                subscription=sub,
                recipient=am_north,
                report_key=sub.report_key,
                title="投诉统计报表",
                period_key=key,
                period_label="其他进程",
                delivered_at=timezone.now(),
                file_name="other.xlsx",
                content=b"other",
            )
        return content

    monkeypatch.setattr(subs, "report_xlsx", render_while_the_other_run_wins)

    run = subs.deliver_due(now=_next_month_morning())

    assert run.delivered == [(sub.pk, world["am_south"].pk, key)]
    assert run.already == 1 and run.failed == []
    assert ReportDelivery.objects.get(recipient=am_north).period_label == "其他进程"
    assert not Notification.objects.filter(recipient=am_north).exists()
    assert Notification.objects.filter(recipient=world["am_south"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_deliver_once(report_roles, make_user):
    """Two real runs in two threads (two connections), both past the "not yet
    delivered" check before either inserts: one row and one message per recipient."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the unique constraint is covered above")
    load_ticket_config()
    manager = make_user("manager", username="mgr_c", scope_all=True)
    for name in ("sup_c1", "sup_c2"):
        make_user("supervisor", username=name)
    sub = _subscribe(manager, role="supervisor")
    both_rendered = threading.Barrier(2, timeout=30)
    real_xlsx = subs.report_xlsx
    first_render = {}

    def render_then_wait(report):
        content = real_xlsx(report)
        # Only each thread's first render waits: then both are about to insert.
        if threading.get_ident() not in first_render:
            first_render[threading.get_ident()] = True
            both_rendered.wait()
        return content

    runs, errors = [], []

    def worker():
        from django.db import connection as thread_connection

        try:
            runs.append(subs.deliver_due(now=_next_month_morning()))
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            thread_connection.close()

    original = subs.report_xlsx
    subs.report_xlsx = render_then_wait
    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        subs.report_xlsx = original

    assert errors == []
    assert sum(len(r.delivered) for r in runs) == 2
    assert sum(r.already for r in runs) == 2
    assert ReportDelivery.objects.filter(subscription=sub).count() == 2
    assert Notification.objects.filter(category="report").count() == 2


def test_one_recipients_failure_does_not_block_the_others_and_is_retried(world, monkeypatch):
    sub = _subscribe(world["manager"], role="account_manager")
    real_build = subs.build_report
    broken = {world["am_north"].pk}

    def flaky(key, *, user, period):
        if user.pk in broken:
            raise RuntimeError("database went away")
        return real_build(key, user=user, period=period)

    monkeypatch.setattr(subs, "build_report", flaky)
    now = _next_month_morning()

    first = subs.deliver_due(now=now)
    assert first.failed == [(sub.pk, world["am_north"].pk, _this_month_key())]
    assert list(ReportDelivery.objects.values_list("recipient_id", flat=True)) == [world["am_south"].pk]
    assert not Notification.objects.filter(recipient=world["am_north"]).exists()

    broken.clear()
    second = subs.deliver_due(now=now)
    assert second.delivered == [(sub.pk, world["am_north"].pk, _this_month_key())]
    assert second.already == 1
    assert ReportDelivery.objects.count() == 2


def test_a_failure_after_storing_rolls_the_delivery_back(world, monkeypatch):
    """The row, the audit event and the message commit together: if the message cannot
    be written, no delivery is recorded and the next run tries again."""
    _subscribe(world["manager"], user=world["am_north"])

    def inbox_down(**kwargs):
        raise RuntimeError("inbox unavailable")

    monkeypatch.setattr(subs, "notify_user", inbox_down)
    run = subs.deliver_due(now=_next_month_morning())

    assert len(run.failed) == 1
    assert not ReportDelivery.objects.exists()
    assert not AuditEvent.objects.filter(code="report.delivered").exists()


def test_notification_links_to_the_download_and_email_goes_through_the_outbox(world):
    _subscribe(world["manager"], role="account_manager", by_email=True)
    _subscribe(world["manager"], user=world["am_north"], frequency=Frequency.QUARTERLY)

    subs.deliver_due(now=_next_month_morning())

    monthly = ReportDelivery.objects.get(recipient=world["am_north"], subscription__frequency=Frequency.MONTHLY)
    note = Notification.objects.get(
        recipient=world["am_north"], link=reverse("reports:delivery_download", args=[monthly.pk])
    )
    assert "投诉统计报表" in note.title and monthly.period_label in note.title
    # am_north has an address and a by_email subscription: one mail, with the link.
    mail = OutboxMessage.objects.get()
    assert (mail.channel, mail.to) == ("email", "am_n@example.com")
    assert reverse("reports:delivery_download", args=[monthly.pk]) in mail.body
    # am_south has no address; the quarterly subscription is not by email.
    assert Notification.objects.filter(recipient=world["am_south"]).count() == 1


def test_an_invalid_email_address_still_delivers_in_app(world):
    world["am_north"].email = "not-an-address"
    world["am_north"].save(update_fields=["email"])
    _subscribe(world["manager"], user=world["am_north"], by_email=True)

    run = subs.deliver_due(now=_next_month_morning())

    assert len(run.delivered) == 1 and run.failed == []
    assert not OutboxMessage.objects.exists()


def test_a_run_with_nothing_due_costs_a_fixed_number_of_queries(world, make_user, django_assert_max_num_queries):
    for i in range(6):
        make_user("account_manager", username=f"am_extra{i}", region=world["north"])
    _subscribe(world["manager"], role="account_manager")
    _subscribe(world["manager"], user=world["supervisor"], frequency=Frequency.WEEKLY)
    now = _next_month_morning()
    subs.deliver_due(now=now)

    # subscriptions, role members, persons, users, existing deliveries
    with django_assert_max_num_queries(5):
        run = subs.deliver_due(now=now)
    assert run.already == 9 and run.delivered == []


def test_ending_a_subscription_keeps_what_was_delivered(world):
    sub = _subscribe(world["manager"], user=world["am_north"])
    subs.deliver_due(now=_next_month_morning())

    subs.subscription_delete(actor=world["manager"], subscription=sub)

    delivery = ReportDelivery.objects.get()
    assert delivery.subscription_id is None
    assert subs.delivery_download(user=world["am_north"], pk=delivery.pk) == delivery
    assert AuditEvent.objects.filter(code="report.subscription.deleted", object_id=str(sub.pk)).exists()
    assert not ReportSubscription.objects.exists()


# -- reading deliveries


def test_download_is_audited_and_only_for_the_recipient(world):
    _subscribe(world["manager"], role="account_manager")
    subs.deliver_due(now=_next_month_morning())
    north = ReportDelivery.objects.get(recipient=world["am_north"])

    got = subs.delivery_download(user=world["am_north"], pk=north.pk)
    assert bytes(got.content)[:2] == b"PK"  # an .xlsx is a zip
    event = AuditEvent.objects.get(code="report.delivery.downloaded")
    assert (event.actor, event.object_id) == (world["am_north"], str(north.pk))

    for other in (world["am_south"], world["manager"]):
        with pytest.raises(NotFound):
            subs.delivery_download(user=other, pk=north.pk)
    assert AuditEvent.objects.filter(code="report.delivery.downloaded").count() == 1


def test_deliveries_for_lists_only_ones_own_without_the_file(world):
    _subscribe(world["manager"], role="account_manager")
    subs.deliver_due(now=_next_month_morning())

    mine = list(subs.deliveries_for(world["am_south"]))

    assert [d.recipient_id for d in mine] == [world["am_south"].pk]
    assert "content" in mine[0].get_deferred_fields()


def test_the_daily_job_delivers_the_last_finished_period_once(world):
    from kefu.reports.tasks import reports_deliver_due

    _subscribe(world["manager"], user=world["am_north"])

    reports_deliver_due()
    reports_deliver_due()

    last_month = period_for("month", timezone.localdate()).previous().key()
    assert list(ReportDelivery.objects.values_list("period_key", flat=True)) == [last_month]
