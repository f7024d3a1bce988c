"""Each profile's demo tickets (`kefu init --profile X --demo`): a year of tickets in
every state, played through the services and dated in the past; the demo department
login sees only its department's slips; loading again adds nothing."""

import datetime
import logging

import pytest
from django.db.models import F, Q
from django.utils import timezone

from kefu.core.models import ApprovalStatus, User
from kefu.notify.models import Notification
from kefu.profiles.definitions import PROFILES as DEFINITIONS
from kefu.profiles.services import profile_load
from kefu.tickets.choices import OPEN_STATUSES, RefundStatus, RoutingStatus, SlaState, TicketStatus
from kefu.tickets.demo import DEMO_COUNT, DEMO_MARKER, demo_tickets_exist
from kefu.tickets.models import (
    Escalation,
    PenaltyProposal,
    RefundRequest,
    Ticket,
    TicketEvent,
    TicketRouting,
)
from kefu.tickets.profile_data import PROFILES
from kefu.tickets.selectors import TicketFilters, ticket_base, ticket_list
from kefu.tickets.services.discipline import complaints_against

pytestmark = pytest.mark.django_db


def _load(code, caplog):
    started = timezone.now()
    with caplog.at_level(logging.WARNING, logger="kefu.tickets.demo"):
        result = profile_load(code=code, demo=True)
    return started, result


@pytest.mark.parametrize("code", sorted(PROFILES))
def test_demo_tickets_cover_every_state_through_the_services(code, caplog):
    started, result = _load(code, caplog)

    assert not caplog.records, [r.getMessage() for r in caplog.records]  # no move was refused
    tickets = Ticket.objects.all()
    assert tickets.count() == DEMO_COUNT
    assert any(f"{DEMO_COUNT} 张演示工单" in note for note in result.notes)
    assert demo_tickets_exist(code)
    statuses = set(tickets.values_list("status", flat=True))
    assert statuses == set(TicketStatus.values)
    open_tickets = tickets.filter(status__in=OPEN_STATUSES)
    assert tickets.filter(reopen_count__gt=0, status__in=OPEN_STATUSES).exists()
    assert tickets.filter(reopen_count__gt=0, status=TicketStatus.CLOSED).exists()
    assert open_tickets.filter(sla_state=SlaState.BREACHED).exists()
    assert open_tickets.filter(escalation_level__gt=0).exists()
    assert open_tickets.filter(sla_paused_at__isnull=False, sla_state=SlaState.PAUSED).exists()
    assert tickets.filter(is_important=True, important_at__lt=started).exists()
    assert Escalation.objects.filter(reason="manual").exists()  # 督办
    assert tickets.filter(merged_into__isnull=False, status=TicketStatus.MERGED).exists()
    assert not tickets.filter(status__in=(TicketStatus.MERGED, TicketStatus.DUPLICATE), merged_into__isnull=True)
    # Outcomes: handling records, replies, satisfaction scores, late ones kept as late.
    assert TicketEvent.objects.filter(code="ticket.handling").exists()
    assert TicketRouting.objects.filter(status=RoutingStatus.REPLIED).exclude(reply="").exists()
    scores = set(tickets.filter(status=TicketStatus.CLOSED).values_list("satisfaction", flat=True))
    assert {4, 5} <= scores
    assert tickets.filter(status=TicketStatus.CLOSED, sla_state=SlaState.BREACHED).exists()

    # Slips go to the departments the profile names for the category.
    mapped = {d for departments in PROFILES[code].departments_for.values() for d in departments}
    worker = next(s.department for s in DEFINITIONS[code].demo_staff if s.username == "dept")
    routed = set(TicketRouting.objects.values_list("department__code", flat=True))
    assert routed <= mapped | {worker} and worker in routed and len(routed) >= 2

    # Refunds: pending ones block the ticket; approved ones went through director and
    # finance in the approvals engine, with exactly one payout each.
    pending = RefundRequest.objects.filter(status=RefundStatus.PENDING)
    assert pending.exists() and not pending.exclude(ticket__status__in=OPEN_STATUSES).exists()
    approved = RefundRequest.objects.filter(status=RefundStatus.APPROVED).select_related("approval", "payout")
    assert approved.exists()
    for refund in approved:
        assert refund.payout.amount == refund.amount
        deciders = refund.approval.steps.filter(status=ApprovalStatus.APPROVED)
        assert set(deciders.values_list("decided_by__username", flat=True)) == {"director", "finance"}
        assert refund.requested_at < refund.decided_at < started

    # Seed 003: three complaints this month against one agent raise the flag.
    month = timezone.localdate().replace(day=1)
    agent2 = User.objects.get(username="agent2")
    assert {r["against_staff"]: r["n"] for r in complaints_against(month)}.get(agent2.pk) == 3
    flag = PenaltyProposal.objects.get(staff=agent2, month=month)
    assert flag.status == "suggested" and flag.complaint_count == 3
    assert PenaltyProposal.objects.filter(staff__username="dept", status="approved").exists()

    # Dated over the past year, each row at its planned moment, in order.
    first = tickets.order_by("created_at").first().created_at
    assert first < started - datetime.timedelta(days=300)
    assert not tickets.filter(created_at__gte=started).exists()
    # Only the final supervision run (live SLA states) writes at today's time.
    late = TicketEvent.objects.filter(at__gte=started).exclude(code="ticket.escalated")
    assert not late.exists(), list(late.values_list("code", flat=True)[:5])
    escalated_now = TicketEvent.objects.filter(at__gte=started).values("ticket_id")
    assert not tickets.filter(Q(closed_at__gte=started) | Q(updated_at__gte=started)).exclude(pk__in=escalated_now)
    assert not tickets.filter(events__at__lt=F("created_at")).exists()
    assert not tickets.filter(closed_at__lt=F("resolved_at")).exists()
    for ticket in tickets.order_by("?")[:30]:
        assert ticket.number.split("-")[1] == timezone.localtime(ticket.created_at).strftime("%Y%m%d")
    daytime = [8 <= timezone.localtime(t).hour < 20 for t in tickets.values_list("created_at", flat=True)]
    assert sum(daytime) >= 0.95 * len(daytime)  # customers call in the daytime
    unread_old = Notification.objects.filter(created_at__lt=started - datetime.timedelta(days=4), read_at=None)
    assert not unread_old.exists()


def test_department_login_sees_only_its_slips_and_loading_again_adds_nothing(caplog):
    started, _result = _load("decoration", caplog)
    dept = User.objects.get(username="dept")

    visible = set(ticket_base(dept).values_list("pk", flat=True))
    live = set(
        TicketRouting.objects.filter(department=dept.department)
        .exclude(status=RoutingStatus.CANCELLED)
        .values_list("ticket_id", flat=True)
    )
    assert visible == live and 0 < len(visible) < Ticket.objects.count()
    # A slip sent to the wrong department and withdrawn shows nothing to it.
    withdrawn_only = (
        Ticket.objects.filter(routings__department=dept.department, routings__status=RoutingStatus.CANCELLED)
        .exclude(pk__in=live)
        .exclude(status__in=(TicketStatus.WITHDRAWN, TicketStatus.DUPLICATE, TicketStatus.MERGED))
    )
    assert withdrawn_only.exists() and not (set(withdrawn_only.values_list("pk", flat=True)) & visible)
    queue = ticket_list(user=dept, filters=TicketFilters(queue="department"))
    assert queue.exists() and not queue.exclude(status__in=OPEN_STATUSES).exists()

    counts = {
        model: model.objects.count()
        for model in (Ticket, TicketEvent, TicketRouting, RefundRequest, Escalation, Notification)
    }
    _started, again = _load("decoration", caplog)

    assert {model: model.objects.count() for model in counts} == counts
    assert not any("演示工单" in note for note in again.notes)
    marked = TicketEvent.objects.filter(code="ticket.registered", **{f"data__{DEMO_MARKER}": "decoration"})
    assert marked.count() == counts[Ticket]
