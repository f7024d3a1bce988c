"""Slips (投诉告知单), extensions and refunds from the ticket page: each move done and
refused with nothing changed; department staff act on their own department's slip
only, and see nothing of a ticket not routed to them."""

import datetime

import pytest
from django.urls import reverse

from kefu.core.models import ApprovalRequest, AuditEvent
from kefu.core.services.approvals import approval_decide, approval_policies_seed
from kefu.notify.models import Notification, OutboxMessage
from kefu.tickets.choices import ExtensionStatus, RefundStatus, RoutingStatus, TicketStatus
from kefu.tickets.models import DeadlineExtension, RefundRequest, Ticket, TicketEvent, TicketRouting
from kefu.tickets.services import escalation, flow
from kefu.tickets.services.refunds import refund_request
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db


def url(name, ticket, *ids):
    return reverse(f"tickets:{name}", args=[ticket.pk, *ids])


def post(client, user, address, data=None):
    client.force_login(user)
    return client.post(address, data or {})


def snapshot(ticket) -> tuple:
    t = Ticket.objects.get(pk=ticket.pk)
    slips = tuple(t.routings.order_by("id").values_list("status", "due_at", "reply"))
    return (
        t.version,
        t.status,
        t.failed_attempts,
        slips,
        tuple(DeadlineExtension.objects.values_list("status", flat=True)),
        tuple(RefundRequest.objects.values_list("status", "customer_told_at")),
        TicketEvent.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


def done(response, ticket, message):
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert any(message in str(m) for m in response.wsgi_request._messages)


def refused(response, status, message, before, ticket):
    assert response.status_code == status, response.content.decode()[:800]
    assert message in response.content.decode()
    assert snapshot(ticket) == before


@pytest.fixture
def two_slips(ticket_world):
    """A ticket routed to engineering and repair."""
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    engineering, repair = flow.ticket_route(
        actor=w["agent"], ticket=ticket, departments=[w["engineering"], w["repair"]]
    )
    ticket.refresh_from_db()
    return ticket, engineering, repair


# --- department staff ---------------------------------------------------------------------


def test_department_staff_get_buttons_on_their_own_slip_only(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, repair = two_slips
    client.force_login(w["engineer"])
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert url("slip_accept", ticket, engineering.pk) in html
    assert url("slip_reply", ticket, engineering.pk) in html
    assert url("slip_accept", ticket, repair.pk) not in html
    assert url("slip_reply", ticket, repair.pk) not in html
    assert url("slip_cancel", ticket, engineering.pk) not in html  # withdrawing is the desk's


def test_department_staff_cannot_act_on_another_departments_slip(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, repair = two_slips
    before = snapshot(ticket)
    for name, data in (
        ("slip_accept", {}),
        ("slip_handle", {"note": "看过了", "outcome": "progress"}),
        ("slip_reply", {"reply": "不归我们"}),
    ):
        response = post(client, w["engineer"], url(name, ticket, repair.pk), data)
        refused(response, 403, "这张告知单派给了“维修部”", before, ticket)


def test_department_staff_get_404_on_a_ticket_not_routed_to_them(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    (repair,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["repair"]])
    before = snapshot(ticket)
    response = post(client, w["engineer"], url("slip_accept", ticket, repair.pk))
    assert response.status_code == 404 and snapshot(ticket) == before


def test_a_slip_of_another_ticket_is_not_found(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, _repair = two_slips
    other = make_ticket(w["agent"], region=w["north"])
    response = post(client, w["manager"], url("slip_accept", other, engineering.pk))
    assert response.status_code == 404
    assert TicketRouting.objects.get(pk=engineering.pk).status == RoutingStatus.SENT


# --- accept, handle, reply ----------------------------------------------------------------


def test_accept_handle_and_reply(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, _repair = two_slips
    done(post(client, w["engineer"], url("slip_accept", ticket, engineering.pk)), ticket, "已接收告知单")
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.IN_PROGRESS

    response = post(
        client, w["engineer"], url("slip_handle", ticket, engineering.pk), {"note": "未修好", "outcome": "failed"}
    )
    done(response, ticket, "处理记录已保存。")
    assert Ticket.objects.get(pk=ticket.pk).failed_attempts == 1

    response = post(client, w["engineer"], url("slip_reply", ticket, engineering.pk), {"reply": "已修复"})
    done(response, ticket, "已回复告知单")
    engineering.refresh_from_db()
    assert engineering.status == RoutingStatus.REPLIED and engineering.reply == "已修复"


def test_slip_moves_refused_in_the_wrong_state(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, _repair = two_slips
    flow.routing_reply(actor=w["engineer"], routing=engineering, reply="已修复")
    before = snapshot(ticket)
    refused(post(client, w["engineer"], url("slip_accept", ticket, engineering.pk)), 409, "不能接收", before, ticket)
    response = post(client, w["engineer"], url("slip_reply", ticket, engineering.pk), {"reply": "再回一次"})
    refused(response, 409, "该告知单已回复或已撤回", before, ticket)
    response = post(client, w["engineer"], url("slip_handle", ticket, engineering.pk), {"note": "", "outcome": "x"})
    refused(response, 422, "请检查填写的内容", before, ticket)


def test_the_desk_withdraws_a_slip(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, repair = two_slips
    before = snapshot(ticket)
    response = post(client, w["engineer"], url("slip_cancel", ticket, repair.pk), {"reason": "不归我们"})
    assert response.status_code == 403 and snapshot(ticket) == before

    response = post(client, w["agent"], url("slip_cancel", ticket, repair.pk), {"reason": "派错部门"})
    done(response, ticket, "已撤回")
    assert TicketRouting.objects.get(pk=repair.pk).status == RoutingStatus.CANCELLED

    flow.routing_reply(actor=w["engineer"], routing=engineering, reply="已修复")
    before = snapshot(ticket)
    response = post(client, w["agent"], url("slip_cancel", ticket, engineering.pk), {"reason": "x"})
    refused(response, 409, "不能撤回", before, ticket)


# --- extensions ---------------------------------------------------------------------------


def _until(routing, days=3):
    return (routing.due_at + datetime.timedelta(days=days)).astimezone().strftime("%Y-%m-%dT%H:%M")


def test_extension_requested_and_granted(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, _repair = two_slips
    response = post(
        client,
        w["engineer"],
        url("slip_extension", ticket, engineering.pk),
        {"until": _until(engineering), "reason": "等配件"},
    )
    done(response, ticket, "延期申请已提交")
    extension = DeadlineExtension.objects.get(routing=engineering)
    assert extension.status == ExtensionStatus.PENDING

    client.force_login(w["supervisor"])
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert url("extension_decide", ticket, extension.pk) in html
    response = post(client, w["supervisor"], url("extension_decide", ticket, extension.pk), {"grant": "1"})
    done(response, ticket, "已批准延期。")
    engineering.refresh_from_db()
    assert engineering.due_at == DeadlineExtension.objects.get(pk=extension.pk).until


def test_extension_refusals(client, ticket_world, two_slips):
    w = ticket_world
    ticket, engineering, _repair = two_slips
    before = snapshot(ticket)
    earlier = _until(engineering, days=-1)
    response = post(
        client, w["engineer"], url("slip_extension", ticket, engineering.pk), {"until": earlier, "reason": "等配件"}
    )
    refused(response, 422, "延期后的期限必须晚于当前期限", before, ticket)

    extension = escalation.extension_request(
        actor=w["engineer"], routing=engineering, until=engineering.due_at + datetime.timedelta(days=2), reason="等"
    )
    before = snapshot(ticket)
    decide = url("extension_decide", ticket, extension.pk)
    assert post(client, w["agent"], decide, {"grant": "1"}).status_code == 403
    refused(post(client, w["supervisor"], decide, {"grant": "0"}), 422, "请填写批复意见", before, ticket)
    done(post(client, w["supervisor"], decide, {"grant": "0", "note": "先上门"}), ticket, "已拒绝延期。")
    before = snapshot(ticket)
    refused(post(client, w["supervisor"], decide, {"grant": "1"}), 409, "该延期申请已处理", before, ticket)


# --- refunds ------------------------------------------------------------------------------


def test_refund_request_cancel_and_tell(client, ticket_world):
    w = ticket_world
    approval_policies_seed()
    ticket = make_ticket(w["agent"], region=w["north"])
    response = post(
        client,
        w["agent"],
        url("refund_request", ticket),
        {"kind": "compensation", "amount": "800", "reason": "泡坏地板"},
    )
    done(response, ticket, "申请已提交审批")
    refund = RefundRequest.objects.get(ticket=ticket)
    assert refund.status == RefundStatus.PENDING and refund.approval is not None

    before = snapshot(ticket)
    response = post(client, w["agent"], url("refund_tell", ticket, refund.pk))
    refused(response, 409, "尚未审批通过，不能答复客户", before, ticket)

    done(post(client, w["agent"], url("refund_cancel", ticket, refund.pk)), ticket, "退款/补偿申请已撤回。")
    assert RefundRequest.objects.get(pk=refund.pk).status == RefundStatus.CANCELLED
    before = snapshot(ticket)
    response = post(client, w["agent"], url("refund_cancel", ticket, refund.pk))
    refused(response, 409, "只能撤回审批中的申请", before, ticket)

    second = refund_request(actor=w["agent"], ticket=ticket, amount="500", reason="补偿")
    approval_decide(actor=w["director"], request=second.approval, approve=True)
    approval_decide(actor=w["finance"], request=ApprovalRequest.objects.get(pk=second.approval_id), approve=True)
    client.force_login(w["agent"])
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert url("refund_tell", ticket, second.pk) in html
    done(post(client, w["agent"], url("refund_tell", ticket, second.pk)), ticket, "已记录告知客户。")
    assert RefundRequest.objects.get(pk=second.pk).customer_told_at is not None
    assert OutboxMessage.objects.filter(channel="sms").count() == 1


def test_refund_refusals(client, ticket_world):
    w = ticket_world
    approval_policies_seed()
    repair = make_ticket(w["agent"], region=w["north"], kind_code="repair")
    before = snapshot(repair)
    response = post(
        client, w["agent"], url("refund_request", repair), {"kind": "refund", "amount": "10", "reason": "x"}
    )
    refused(response, 409, "不能申请退款/补偿", before, repair)
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    response = post(
        client, w["agent"], url("refund_request", ticket), {"kind": "refund", "amount": "-5", "reason": "x"}
    )
    refused(response, 422, "请检查填写的内容", before, ticket)
    response = post(
        client, w["engineer"], url("refund_request", ticket), {"kind": "refund", "amount": "5", "reason": "x"}
    )
    assert response.status_code == 403 and snapshot(ticket) == before
