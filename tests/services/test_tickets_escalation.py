"""Supervision and escalation: warnings before the deadline, a level per rule after it,
emergencies at once, manual 督办, extensions — and exactly once, however often the job
runs or wherever it dies."""

import datetime

import pytest
from django.utils import timezone

from kefu.core.errors import AccessDenied, InvalidState
from kefu.notify.models import Notification
from kefu.tickets.choices import EscalationReason, Severity, SlaState
from kefu.tickets.models import Escalation, Ticket
from kefu.tickets.services import escalation as esc
from kefu.tickets.services import flow
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db


def _overdue(w, *, hours_late=1, **fields):
    """A routed ticket whose deadlines lie in the past (set directly: the clock of the
    test is `now`, the ticket was due `hours_late` before it)."""
    ticket = make_ticket(w["agent"], region=w["north"], **fields)
    flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    now = timezone.now()
    due = now - datetime.timedelta(hours=hours_late)
    Ticket.objects.filter(pk=ticket.pk).update(
        resolve_due_at=due, warn_at=due - datetime.timedelta(hours=1), next_escalation_at=due
    )
    ticket.refresh_from_db()
    return ticket, now


def _messages(user, needle="升级"):
    return Notification.objects.filter(recipient=user, title__contains=needle).count()


def test_job_warns_marks_and_escalates_once(ticket_world):
    w = ticket_world
    ticket, now = _overdue(w)
    result = esc.supervision_run(now=now)
    assert result.marked_breached == 1 and result.warned == 1 and result.escalations == 1
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.BREACHED and ticket.escalation_level == 1
    assert _messages(w["supervisor"]) == 1
    assert _messages(w["engineer"], "即将超时") == 1
    # The manager (level 2) is not told yet; the next level is 240 working minutes on.
    assert _messages(w["manager"]) == 0
    assert ticket.next_escalation_at > ticket.resolve_due_at

    again = esc.supervision_run(now=now)
    assert (again.warned, again.escalations) == (0, 0)
    assert _messages(w["supervisor"]) == 1 and Escalation.objects.count() == 1


def test_job_catches_up_level_by_level_after_downtime(ticket_world):
    w = ticket_world
    ticket, now = _overdue(w, hours_late=24 * 10)
    esc.supervision_run(now=now)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 3
    assert list(ticket.escalations.values_list("level", flat=True)) == [1, 2, 3]
    assert _messages(w["supervisor"]) == 1 and _messages(w["manager"]) == 1 and _messages(w["director"]) == 1
    assert ticket.next_escalation_at is None


def test_job_killed_halfway_and_rerun_tells_everyone_exactly_once(ticket_world, monkeypatch):
    w = ticket_world
    tickets = [_overdue(w, customer_name=f"客户{i}")[0] for i in range(3)]
    now = timezone.now()
    real = esc.notify_many
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(esc, "notify_many", dying)
    with pytest.raises(SystemExit):
        esc.supervision_run(now=now)
    monkeypatch.setattr(esc, "notify_many", real)
    esc.supervision_run(now=now)
    esc.supervision_run(now=now)
    for ticket in tickets:
        assert Escalation.objects.filter(ticket=ticket, level=1).count() == 1
        assert Notification.objects.filter(idempotency_key__startswith=f"ticket:{ticket.pk}:warn:").count() >= 1
    assert _messages(w["supervisor"]) == 3


def test_paused_ticket_is_neither_warned_nor_escalated(ticket_world):
    w = ticket_world
    ticket, now = _overdue(w)
    flow.ticket_pause(actor=w["agent"], ticket=ticket, reason="等业主回来")
    result = esc.supervision_run(now=now)
    assert (result.warned, result.escalations, result.marked_breached) == (0, 0, 0)


def test_emergency_goes_to_the_top_at_once(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"], severity=Severity.URGENT)
    assert ticket.escalation_level == 3
    assert set(ticket.escalations.values_list("reason", flat=True)) == {EscalationReason.EMERGENCY}
    assert _messages(w["director"]) == 1 and _messages(w["manager"]) == 1 and _messages(w["supervisor"]) == 1


def test_manual_escalation_and_supervision(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    with pytest.raises(AccessDenied):
        esc.ticket_supervise(actor=w["agent"], ticket=ticket, note="请尽快")
    esc.ticket_supervise(actor=w["supervisor"], ticket=ticket, note="请今天内上门")
    assert Notification.objects.filter(recipient=w["engineer"], title__startswith="督办").count() == 1
    esc.ticket_escalate(actor=w["supervisor"], ticket=ticket, note="业主情绪激动")
    esc.ticket_escalate(actor=w["supervisor"], ticket=ticket, note="再升")
    esc.ticket_escalate(actor=w["supervisor"], ticket=ticket, note="到顶")
    with pytest.raises(InvalidState):
        esc.ticket_escalate(actor=w["supervisor"], ticket=ticket, note="超过")
    ticket.refresh_from_db()
    assert ticket.escalation_level == 3


def test_extension_granted_moves_slip_and_ticket_deadline(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    until = ticket.resolve_due_at + datetime.timedelta(days=5)
    extension = esc.extension_request(actor=w["engineer"], routing=routing, until=until, reason="材料到货需一周")
    with pytest.raises(InvalidState):
        esc.extension_request(actor=w["engineer"], routing=routing, until=until, reason="再申请")
    with pytest.raises(AccessDenied):
        esc.extension_decide(actor=w["engineer"], extension=extension, grant=True)
    esc.extension_decide(actor=w["supervisor"], extension=extension, grant=True)
    routing.refresh_from_db()
    ticket.refresh_from_db()
    assert routing.due_at == until and ticket.resolve_due_at == until
    assert Notification.objects.filter(recipient=w["engineer"], title__startswith="延期已批准").count() == 1


def test_periodic_job_runs_the_supervision(ticket_world):
    from huey.contrib.djhuey import HUEY

    from kefu import schedule

    w = ticket_world
    ticket, _now = _overdue(w)
    assert any(task.__name__ == "ticket_supervision" for task in HUEY._registry._periodic_tasks)
    schedule.ticket_supervision.call_local()
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.sla_state == SlaState.BREACHED
