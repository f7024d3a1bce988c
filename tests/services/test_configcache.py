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
