"""Configuration read on every ticket is cached per process (kefu.core.configcache):
a change in this process applies at once, one in another process within the TTL, and a
rolled-back change is never served."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kefu.core import configcache
from kefu.tickets import sla
from kefu.tickets.models import SlaPolicy
from tests.factories_tickets import kind, make_ticket

CONFIG_TABLES = (
    "tickets_slapolicy",
    "tickets_escalationrule",
    "tickets_ticketsettings",
    "core_workinghours",
    "core_calendarday",
    "core_calendaryear",
)


@pytest.fixture
def settled(ticket_world):
    """The world as if committed: caching on, cache empty."""
    configcache._committed()
    yield ticket_world
    configcache._committed()


def _config_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if any(table in q["sql"] for table in CONFIG_TABLES)]


@pytest.mark.django_db
def test_a_second_ticket_reads_no_configuration(settled):
    w = settled
    make_ticket(w["agent"], region=w["north"])
    with CaptureQueriesContext(connection) as captured:
        make_ticket(w["agent"], region=w["north"], customer_name="李四")
    assert _config_queries(captured.captured_queries) == []


@pytest.mark.django_db
def test_a_policy_saved_in_this_process_applies_to_the_next_ticket(settled):
    complaint = kind("complaint")
    before = sla.match_policy(kind_id=complaint.pk, severity="urgent", category=None)
    strict = SlaPolicy.objects.create(
        name="紧急投诉 2 小时", kind=complaint, severity="urgent", response_minutes=10, resolve_minutes=120
    )
    assert before != strict
    assert sla.match_policy(kind_id=complaint.pk, severity="urgent", category=None) == strict


@pytest.mark.django_db
def test_a_change_from_another_process_applies_after_the_ttl(settled, monkeypatch):
    complaint = kind("complaint")
    first = sla.active_policies()
    # Another process's write: no signal reaches this one.
    SlaPolicy.objects.filter(is_active=True).update(is_active=False)
    assert sla.active_policies() is first
    clock = configcache.time.monotonic() + configcache.TTL + 0.1
    monkeypatch.setattr(configcache.time, "monotonic", lambda: clock)
    assert sla.active_policies() == []
    assert sla.match_policy(kind_id=complaint.pk, severity="normal", category=None) is None


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_is_never_served(ticket_world):
    complaint = kind("complaint")
    configcache._committed()
    assert not [p for p in sla.active_policies() if p.name == "回滚的规则"]
    with pytest.raises(RuntimeError), transaction.atomic():
        SlaPolicy.objects.create(
            name="回滚的规则", kind=complaint, severity="urgent", response_minutes=5, resolve_minutes=30
        )
        # Inside its own transaction the change is seen (read through, not cached) …
        assert [p for p in sla.active_policies() if p.name == "回滚的规则"]
        assert "tickets.sla_policies" not in configcache._entries
        raise RuntimeError("rolled back")
    # … and after the rollback it is gone, for this thread and everyone else.
    assert not [p for p in sla.active_policies() if p.name == "回滚的规则"]


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_clears_what_other_threads_cached_meanwhile(ticket_world):
    complaint = kind("complaint")
    configcache._committed()
    with transaction.atomic():
        SlaPolicy.objects.create(
            name="新规则", kind=complaint, severity="urgent", response_minutes=5, resolve_minutes=30
        )
        # Another thread caches the committed (old) rows while this transaction is open.
        configcache._entries["tickets.sla_policies"] = (configcache.time.monotonic(), [])
    assert [p.name for p in sla.active_policies() if p.name == "新规则"] == ["新规则"]


@pytest.mark.django_db
def test_a_value_read_before_a_commit_cleared_the_cache_is_not_kept(settled):
    def read_then_another_thread_commits():
        rows = list(SlaPolicy.objects.filter(is_active=True))
        configcache.clear()  # what another thread's commit of a new policy does meanwhile
        return rows

    configcache.cached("tickets.sla_policies", read_then_another_thread_commits)
    assert "tickets.sla_policies" not in configcache._entries
    first = sla.active_policies()  # nothing raced this read: kept
    assert sla.active_policies() is first


@pytest.mark.django_db
def test_working_hours_and_holidays_changed_in_this_process_apply_at_once(settled):
    import datetime
    from zoneinfo import ZoneInfo

    from kefu.core.models import CalendarDay, CalendarYear, DaySource, WorkingHours
    from kefu.core.services.calendar import calendar_seed
    from kefu.core.workcal import WorkingCalendar

    monday_8 = datetime.datetime(2026, 11, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    one_hour = monday_8 + datetime.timedelta(hours=1)
    assert WorkingCalendar().working_minutes_between(monday_8, one_hour) == 0  # starts at 9:00
    WorkingHours.objects.update_or_create(department=None, defaults={"morning_start": datetime.time(8, 0)})
    assert WorkingCalendar().working_minutes_between(monday_8, one_hour) == 60

    # The seed writes the days in bulk (no signals) and clears the cache itself; the year
    # is marked already, so no row of it is saved one by one either.
    CalendarDay.objects.filter(date__year=2026).delete()
    CalendarYear.objects.update_or_create(year=2026, defaults={"source": DaySource.SEED})
    configcache._committed()  # as if that was committed: caching on again
    national_day = datetime.date(2026, 10, 1)
    assert WorkingCalendar().is_working_day(national_day)  # a Thursday without holiday data
    assert any(key[0] == "workcal.years" for key in configcache._entries if isinstance(key, tuple))
    calendar_seed(years=[2026])
    assert not WorkingCalendar().is_working_day(national_day)
