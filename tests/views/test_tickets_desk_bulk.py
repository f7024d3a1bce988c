"""Bulk route / assign / close from the queue: a confirmation step first, then the
single-action services in one transaction — one refusal and nothing changes, and the
page names the ticket and the reason."""

import pytest
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.notify.models import Notification
from kefu.tickets.choices import TicketStatus
from kefu.tickets.models import Ticket, TicketEvent, TicketRouting
from kefu.tickets.services import flow
from kefu.tickets.views import bulk
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

BULK = "tickets:bulk"


def post(client, user, **data):
    client.force_login(user)
    return client.post(reverse(BULK), {"back": "/tickets/?queue=open", **data})


def two_tickets(w, actor=None):
    actor = actor or w["agent"]
    first = make_ticket(actor, region=w["north"])
    return first, make_ticket(actor, region=w["north"], customer=first.customer)


def resolve(w, ticket):
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    flow.routing_accept(actor=w["engineer"], routing=routing)
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已修复")
    flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复", cause_analysis="防水层破损")


def test_preview_lists_the_tickets_and_changes_nothing(client, ticket_world):
    w = ticket_world
    a, b = two_tickets(w)
    response = post(client, w["agent"], ids=[a.pk, b.pk], action="route", departments=[w["engineering"].pk])
    html = response.content.decode()
    assert response.status_code == 200
    assert "将处理 2 张工单：派单给责任部门" in html
    assert (
        f'name="departments" value="{w["engineering"].pk}" class="form-check-input" id="bulk_departments_0" checked'
        in html
    )
    assert a.number in html and b.number in html and 'name="confirm" value="1"' in html
    assert "invalid-feedback" not in html
    assert not TicketRouting.objects.exists()


def test_confirming_without_what_the_action_needs_asks_again(client, ticket_world):
    w = ticket_world
    a, _b = two_tickets(w)
    response = post(client, w["agent"], ids=[a.pk], action="route", confirm="1")
    assert response.status_code == 422
    assert "请至少选择一个责任部门" in response.content.decode()
    assert not TicketRouting.objects.exists()
    no_assignee = post(client, w["agent"], ids=[a.pk], action="assign", confirm="1")
    assert no_assignee.status_code == 422 and "请选择负责人" in no_assignee.content.decode()


def test_confirmed_route_uses_the_routing_service_for_every_ticket(client, ticket_world):
    w = ticket_world
    a, b = two_tickets(w)
    response = post(
        client,
        w["agent"],
        ids=[a.pk, b.pk],
        action="route",
        departments=[w["engineering"].pk, w["repair"].pk],
        instructions="三日内上门",
        confirm="1",
    )
    assert response.status_code == 302 and response["Location"] == "/tickets/?queue=open"
    assert TicketRouting.objects.filter(ticket__in=[a, b]).count() == 4
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.ROUTED}
    assert TicketEvent.objects.filter(code="ticket.routed", note="三日内上门").count() == 4
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("已批量处理 2 张工单" in m for m in messages)


def test_one_refusal_rolls_back_the_tickets_already_done(client, ticket_world):
    """The first ticket is routed by the service, the second refuses (already routed to
    that department): the first one's slip, event and notice are gone too."""
    w = ticket_world
    a, b = two_tickets(w)
    flow.ticket_route(actor=w["agent"], ticket=b, departments=[w["engineering"]])
    before = {
        "routings": TicketRouting.objects.count(),
        "events": TicketEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notices": Notification.objects.count(),
    }
    response = post(
        client, w["agent"], ids=[a.pk, b.pk], action="route", departments=[w["engineering"].pk], confirm="1"
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert f"工单 {b.number} 未能处理" in html and "已向以下部门派发过告知单且尚未回复：工程部" in html
    assert "所有工单均未修改" in html
    assert f'data-number="{b.number}" class="table-danger" data-refused="1"' in html
    a.refresh_from_db()
    assert a.status == TicketStatus.REGISTERED and a.version == 1
    assert before == {
        "routings": TicketRouting.objects.count(),
        "events": TicketEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notices": Notification.objects.count(),
    }


def test_close_refused_by_status_is_flagged_in_the_preview_and_changes_nothing(client, ticket_world):
    w = ticket_world
    a, b = two_tickets(w)
    for ticket in (a, b):
        resolve(w, ticket)
    flow.ticket_confirm(actor=w["agent"], ticket=a, satisfied=True, score=5, note="满意")
    c = make_ticket(w["agent"], region=w["north"], customer=a.customer)

    preview = post(client, w["agent"], ids=[a.pk, c.pk], action="close", note="批量关闭")
    assert preview.status_code == 200
    assert "工单当前状态为“已登记”，不能关闭。" in preview.content.decode()

    response = post(client, w["agent"], ids=[a.pk, c.pk], action="close", note="批量关闭", confirm="1")
    assert response.status_code == 409 and c.number in response.content.decode()
    a.refresh_from_db()
    assert a.status == TicketStatus.CONFIRMED and a.closed_at is None
    assert not TicketEvent.objects.filter(code="ticket.closed").exists()

    done = post(client, w["agent"], ids=[a.pk], action="close", note="批量关闭", confirm="1")
    assert done.status_code == 302
    a.refresh_from_db()
    assert a.status == TicketStatus.CLOSED
    # A resolved complaint still needs the customer's confirmation: the service says so.
    refused = post(client, w["agent"], ids=[b.pk], action="close", confirm="1")
    assert refused.status_code == 409 and "须经客户回访确认后才能关闭" in refused.content.decode()


def test_supervisor_assigns_to_a_colleague_an_agent_only_to_themselves(client, ticket_world, make_user):
    w = ticket_world
    colleague = make_user("agent", username="agent2", region=w["north"], department=w["service"])
    a, b = two_tickets(w)
    response = post(client, w["supervisor"], ids=[a.pk, b.pk], action="assign", assignee=colleague.pk, confirm="1")
    assert response.status_code == 302
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {colleague.pk}
    assert TicketEvent.objects.filter(code="ticket.assigned").count() == 2

    refused = post(client, w["agent"], ids=[a.pk], action="assign", assignee=w["supervisor"].pk, confirm="1")
    assert refused.status_code == 422 and "选择一个有效的选项" in refused.content.decode()
    assert Ticket.objects.get(pk=a.pk).assignee == colleague


def test_tickets_outside_the_scope_make_the_whole_batch_refused(client, ticket_world):
    w = ticket_world
    mine = make_ticket(w["agent"], region=w["north"])
    theirs = make_ticket(w["agent_south"], region=w["south"])
    response = post(
        client, w["agent"], ids=[mine.pk, theirs.pk], action="route", departments=[w["engineering"].pk], confirm="1"
    )
    html = response.content.decode()
    assert response.status_code == 404
    assert "有 1 张工单不存在或不在您的可见范围内" in html
    assert theirs.number not in html
    assert not TicketRouting.objects.exists()


def test_a_role_the_service_refuses_changes_nothing(client, ticket_world, make_user):
    """An account manager may change tickets but not route them: the service's 403."""
    w = ticket_world
    account_manager = make_user("account_manager", username="am", region=w["north"])
    a, _b = two_tickets(w)
    response = post(client, account_manager, ids=[a.pk], action="route", departments=[w["repair"].pk], confirm="1")
    assert response.status_code == 403 and "您没有执行此操作的权限" in response.content.decode()
    assert not TicketRouting.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ids": ["abc"], "action": "close"}, "工单编号无效"),
        ({"ids": ["１"], "action": "close"}, "工单编号无效"),
        ({"action": "close"}, "请先勾选"),
        ({"ids": ["1"], "action": "explode"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_goes_back_with_a_message(client, ticket_world, data, message):
    response = post(client, ticket_world["agent"], **data)
    assert response.status_code == 302 and response["Location"] == "/tickets/?queue=open"
    assert any(message in str(m) for m in response.wsgi_request._messages)


def test_too_many_tickets_and_foreign_back_urls(client, ticket_world, monkeypatch):
    w = ticket_world
    monkeypatch.setattr(bulk, "MAX_BULK", 1)
    a, b = two_tickets(w)
    client.force_login(w["agent"])
    response = client.post(reverse(BULK), {"ids": [a.pk, b.pk], "action": "close", "back": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("tickets:list")
    assert any("一次最多批量处理 1 张工单" in str(m) for m in response.wsgi_request._messages)


def test_all_on_page_takes_the_page_ids(client, ticket_world):
    w = ticket_world
    a, b = two_tickets(w)
    response = post(client, w["agent"], page_ids=[a.pk, b.pk], all_on_page="1", action="assign", assignee=w["agent"].pk)
    assert response.status_code == 200 and response.context["ids"] == sorted([a.pk, b.pk])


def test_bulk_needs_the_change_permission_and_post(client, ticket_world):
    w = ticket_world
    a, _b = two_tickets(w)
    assert post(client, w["director"], ids=[a.pk], action="close").status_code == 403
    assert post(client, w["engineer"], ids=[a.pk], action="close").status_code == 403
    client.force_login(w["agent"])
    assert client.get(reverse(BULK)).status_code == 405
