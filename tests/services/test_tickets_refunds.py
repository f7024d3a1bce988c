"""Refunds and compensation through the approvals engine (director AND finance), the
rule that nobody tells the customer or resolves before the last approval, and exactly
one payout however many approve clicks; penalty proposals and the discipline flag."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from kefu.core.errors import Conflict, InvalidState
from kefu.core.models import ApprovalRequest
from kefu.core.services.approvals import approval_decide, approval_policies_seed
from kefu.notify.models import Notification, OutboxMessage
from kefu.tickets.choices import PenaltyStatus, RefundStatus, TicketStatus
from kefu.tickets.models import Payout, PenaltyProposal, RefundRequest
from kefu.tickets.services import flow
from kefu.tickets.services.discipline import complaints_against, penalty_propose
from kefu.tickets.services.refunds import refund_request, refund_tell_customer
from tests.factories_tickets import make_ticket


@pytest.fixture
def world(ticket_world):
    approval_policies_seed()
    return ticket_world


def _handled(w):
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="同意赔偿地板")
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
def test_refund_blocks_resolution_and_telling_until_the_last_approval(world):
    w = world
    ticket = _handled(w)
    refund = refund_request(actor=w["agent"], ticket=ticket, amount="1200.50", reason="泡坏的木地板")
    assert refund.approval.status == "pending"
    with pytest.raises(InvalidState) as err:
        flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="赔偿 1200.50 元")
    assert err.value.code == "ticket_refund_pending"
    with pytest.raises(InvalidState):
        refund_tell_customer(actor=w["agent"], refund=refund)
    approval_decide(actor=w["director"], request=refund.approval, approve=True)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING  # finance has not decided yet
    with pytest.raises(InvalidState):
        refund_tell_customer(actor=w["agent"], refund=refund)
    assert not OutboxMessage.objects.exists() and not Payout.objects.exists()

    approval_decide(actor=w["finance"], request=ApprovalRequest.objects.get(pk=refund.approval_id), approve=True)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.APPROVED
    assert Payout.objects.get(refund=refund).amount == refund.amount
    assert Notification.objects.filter(recipient=w["agent"], title__contains="已审批通过").exists()
    refund_tell_customer(actor=w["agent"], refund=refund)
    refund_tell_customer(actor=w["agent"], refund=refund)  # a second click sends nothing more
    assert OutboxMessage.objects.filter(channel="sms").count() == 1
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="赔偿 1200.50 元")
    assert ticket.status == TicketStatus.RESOLVED


@pytest.mark.django_db
def test_rejected_refund_ends_without_payout(world):
    w = world
    ticket = _handled(w)
    refund = refund_request(actor=w["agent"], ticket=ticket, amount="300", reason="补偿")
    approval_decide(actor=w["director"], request=refund.approval, approve=False, comment="责任不在公司")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REJECTED and not Payout.objects.exists()
    assert ticket.events.filter(code="ticket.refund_rejected").count() == 1


@pytest.mark.django_db
def test_repeated_clicks_make_one_payout(world):
    w = world
    ticket = _handled(w)
    refund = refund_request(actor=w["agent"], ticket=ticket, amount="99", reason="退差价")
    approval_decide(actor=w["director"], request=refund.approval, approve=True)
    approval = ApprovalRequest.objects.get(pk=refund.approval_id)
    approval_decide(actor=w["finance"], request=approval, approve=True)
    for _ in range(19):
        with pytest.raises((InvalidState, Conflict)):
            approval_decide(
                actor=w["finance"], request=ApprovalRequest.objects.get(pk=refund.approval_id), approve=True
            )
    assert Payout.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_approve_clicks_make_one_payout(world):
    w = world
    ticket = _handled(w)
    refund = refund_request(actor=w["agent"], ticket=ticket, amount="500", reason="返工补偿")
    approval_decide(actor=w["director"], request=refund.approval, approve=True)
    barrier = threading.Barrier(20)
    outcomes = []

    def click():
        from django.db import connections

        try:
            barrier.wait()
            approval_decide(
                actor=w["finance"], request=ApprovalRequest.objects.get(pk=refund.approval_id), approve=True
            )
            outcomes.append("ok")
        except (InvalidState, Conflict) as err:
            outcomes.append(err.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == 20
    assert Payout.objects.filter(refund=refund).count() == 1
    assert RefundRequest.objects.get(pk=refund.pk).status == RefundStatus.APPROVED


@pytest.mark.django_db
def test_refund_not_allowed_for_repairs(world):
    w = world
    ticket = make_ticket(w["agent"], region=w["north"], kind_code="repair")
    with pytest.raises(InvalidState):
        refund_request(actor=w["agent"], ticket=ticket, amount="10", reason="x")
    assert not RefundRequest.objects.exists()


@pytest.mark.django_db
def test_third_complaint_in_a_month_flags_one_penalty(world):
    w = world
    agent = w["agent_south"]
    tickets = [
        make_ticket(w["agent"], region=w["north"], against_staff=agent, customer_name=f"客户{i}") for i in range(4)
    ]
    assert PenaltyProposal.objects.count() == 1
    flag = PenaltyProposal.objects.get()
    assert flag.staff == agent and flag.status == PenaltyStatus.SUGGESTED and flag.complaint_count == 3
    assert flag.month == timezone.localdate().replace(day=1)
    assert Notification.objects.filter(recipient=w["manager"], title__contains="被投诉").count() == 1
    counts = {row["against_staff"]: row["n"] for row in complaints_against(timezone.localdate())}
    assert counts == {agent.pk: 4}
    # A withdrawn complaint does not count.
    flow.ticket_withdraw(actor=w["agent"], ticket=tickets[0], reason="误会")
    counts = {row["against_staff"]: row["n"] for row in complaints_against(timezone.localdate())}
    assert counts == {agent.pk: 3}


@pytest.mark.django_db
def test_two_complaints_flag_nothing_and_last_month_does_not_count(world):
    w = world
    agent = w["agent_south"]
    last_month = timezone.now() - datetime.timedelta(days=40)
    make_ticket(w["agent"], region=w["north"], against_staff=agent, customer_name="甲", now=last_month)
    make_ticket(w["agent"], region=w["north"], against_staff=agent, customer_name="乙")
    make_ticket(w["agent"], region=w["north"], against_staff=agent, customer_name="丙")
    assert not PenaltyProposal.objects.exists()


@pytest.mark.django_db
def test_penalty_proposal_goes_through_approval(world):
    w = world
    ticket = _handled(w)
    proposal = penalty_propose(
        actor=w["supervisor"],
        ticket=ticket,
        reason="施工不规范导致渗漏",
        responsible_party="工程部 王工长",
        amount="200",
    )
    assert proposal.status == PenaltyStatus.PENDING
    approval_decide(actor=w["manager"], request=proposal.approval, approve=True)
    approval_decide(actor=w["director"], request=ApprovalRequest.objects.get(pk=proposal.approval_id), approve=True)
    proposal.refresh_from_db()
    assert proposal.status == PenaltyStatus.APPROVED
