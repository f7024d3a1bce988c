"""The ticket page: what it shows, to whom (department staff only their routed tickets,
404 otherwise), masked numbers and the audited reveal, the history pages, which forms
appear, and a query budget that does not grow with the ticket's slips and history."""

import datetime
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.core.services.approvals import approval_policies_seed
from kefu.tickets.services import escalation, flow
from kefu.tickets.services.attachments import attachment_add
from kefu.tickets.services.refunds import refund_request
from kefu.tickets.services.tickets import ticket_comment, ticket_link
from kefu.tickets.views.detail import HISTORY_PAGE
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db


def page(client, user, ticket):
    client.force_login(user)
    return client.get(reverse("tickets:detail", args=[ticket.pk]))


def text(response) -> str:
    return response.content.decode()


def _routed(w, *departments):
    ticket = make_ticket(w["agent"], region=w["north"], caller_name="李四", caller_phone="13912345678")
    flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w[d] for d in departments])
    ticket.refresh_from_db()
    return ticket


def test_the_page_shows_the_ticket_and_everything_around_it(client, ticket_world):
    w = ticket_world
    approval_policies_seed()
    ticket = _routed(w, "engineering", "repair")
    other = make_ticket(w["agent"], region=w["north"], title="楼上也漏水")
    engineering, repair = ticket.routings.order_by("id")
    flow.routing_reply(actor=w["engineer"], routing=engineering, reply="已更换防水层")
    escalation.extension_request(
        actor=w["repairer"], routing=repair, until=repair.due_at + datetime.timedelta(days=3), reason="等配件"
    )
    escalation.ticket_supervise(actor=w["supervisor"], ticket=ticket, note="请今天内上门")
    refund_request(actor=w["agent"], ticket=ticket, amount="300", reason="地板泡水")
    ticket_link(actor=w["agent"], ticket=ticket, other=other)
    ticket_comment(actor=w["agent"], ticket=ticket, body="业主下午在家")
    attachment_add(actor=w["agent"], ticket=ticket, upload=SimpleUploadedFile("现场记录.txt", "渗水位置".encode()))

    response = page(client, w["manager"], ticket)

    assert response.status_code == 200
    html = text(response)
    for shown in (
        ticket.number,
        "卫生间漏水",
        "处理中",
        "投诉",
        "一般",
        'data-testid="ticket-sla"',
        "工程部",
        "维修部",
        "已更换防水层",
        "等配件",
        "请今天内上门",
        "¥300.00",
        "审批中",
        other.number,
        "现场记录.txt",
        "业主下午在家",
        "138****5678",
        "139****5678",
    ):
        assert shown in html, shown
    assert "13812345678" not in html and "13912345678" not in html
    assert reverse("customers:detail", args=[ticket.customer_id]) in html
    assert reverse("tickets:slip_pdf", args=[engineering.pk]) in html
    # The supervisor decides the pending extension; the manager may too.
    assert 'data-testid="form-extension-decide"' in html
    assert html.count('data-testid="history-entry"') == ticket.events.count()


def test_sla_colours_follow_the_deadlines(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    html = text(page(client, w["agent"], ticket))
    assert 'data-state="on_track"' in html
    overdue = make_ticket(w["agent"], region=w["north"], now=timezone.now() - datetime.timedelta(days=30))
    html = text(page(client, w["agent"], overdue))
    assert 'data-testid="ticket-resolve-due-note">已超时' in html
    paused = flow.ticket_pause(actor=w["agent"], ticket=ticket, reason="业主出差")
    html = text(page(client, w["agent"], paused))
    assert 'data-testid="ticket-paused"' in html and 'data-state="paused"' in html


def test_department_staff_see_only_tickets_routed_to_them(client, ticket_world):
    w = ticket_world
    unrouted = make_ticket(w["agent"], region=w["north"])
    for_repair = _routed(w, "repair")
    for_engineering = _routed(w, "engineering")

    assert page(client, w["engineer"], unrouted).status_code == 404
    assert page(client, w["engineer"], for_repair).status_code == 404
    response = page(client, w["engineer"], for_engineering)
    assert response.status_code == 200
    html = text(response)
    # No customer archive link for a role without the archive; no desk actions.
    assert 'data-testid="customer-link"' not in html
    assert 'data-testid="form-route"' not in html and 'data-testid="form-resolve"' not in html

    flow.routing_cancel(actor=w["agent"], routing=for_engineering.routings.get(), reason="派错部门")
    assert page(client, w["engineer"], for_engineering).status_code == 404
    # Nor its history pages or any action.
    assert client.get(reverse("tickets:history", args=[for_engineering.pk])).status_code == 404
    before = for_engineering.events.count()
    response = client.post(reverse("tickets:comment", args=[for_engineering.pk]), {"body": "看看"})
    assert response.status_code == 404 and for_engineering.events.count() == before


def test_the_service_desk_sees_its_region_only(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    assert page(client, w["agent_south"], ticket).status_code == 404
    assert page(client, w["director"], ticket).status_code == 200


def test_roles_without_tickets_and_anonymous_users_are_refused(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    assert page(client, w["finance"], ticket).status_code == 403
    client.logout()
    response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_missing_ticket_is_a_404(client, ticket_world):
    client.force_login(ticket_world["manager"])
    assert client.get(reverse("tickets:detail", args=[999999])).status_code == 404


def test_forms_follow_status_and_role(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    html = text(page(client, w["agent"], ticket))
    for shown in ("route", "resolve", "withdraw", "duplicate", "pause", "assign", "refund", "comment"):
        assert f'data-testid="form-{shown}"' in html, shown
    for hidden in ("confirm", "close", "reopen", "escalate", "supervise", "important", "resume"):
        assert f'data-testid="form-{hidden}"' not in html, hidden
    html = text(page(client, w["supervisor"], ticket))
    for shown in ("escalate", "supervise", "important"):
        assert f'data-testid="form-{shown}"' in html, shown

    closed = make_ticket(w["agent"], region=w["north"])
    flow.ticket_withdraw(actor=w["agent"], ticket=closed, reason="业主撤诉")
    html = text(page(client, w["manager"], closed))
    assert 'data-testid="ticket-actions"' in html  # only "important" is left for a manager
    for hidden in ("route", "resolve", "withdraw", "pause", "escalate", "refund", "confirm"):
        assert f'data-testid="form-{hidden}"' not in html, hidden
    assert 'data-testid="form-comment"' in html  # a note may always be added


def test_phone_numbers_are_masked_and_revealed_only_with_an_audit_record(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"], caller_name="李四", caller_phone="13912345678")
    url = reverse("tickets:reveal_caller_phone", args=[ticket.pk])

    html = text(page(client, w["agent"], ticket))
    assert "139****5678" in html and 'data-testid="reveal-caller-phone"' not in html
    assert client.post(url).status_code == 403
    assert not AuditEvent.objects.filter(code__endswith=".revealed").exists()

    html = text(page(client, w["supervisor"], ticket))
    assert 'data-testid="reveal-caller-phone"' in html and 'data-testid="reveal-contact-phone"' in html
    response = client.post(url)
    assert response.status_code == 200 and "13912345678" in text(response)
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(code="ticket.caller_phone.revealed")
    assert event.object_id == str(ticket.pk)


def test_history_comes_a_page_at_a_time_newest_first(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    for n in range(HISTORY_PAGE + 5):
        ticket_comment(actor=w["agent"], ticket=ticket, body=f"第{n}次来电")
    html = text(page(client, w["agent"], ticket))
    assert html.count('data-testid="history-entry"') == HISTORY_PAGE
    assert html.index(f"第{HISTORY_PAGE + 4}次来电") < html.index(f"第{HISTORY_PAGE}次来电")
    assert 'data-testid="history-more"' in html and "第0次来电" not in html

    more = re.search(r'href="([^"]+)"[^>]*data-testid="history-more"', html).group(1)
    response = client.get(unescape(more))
    older = text(response)
    assert response.status_code == 200
    assert older.count('data-testid="history-entry"') == 6  # 5 comments + the registration
    assert "第0次来电" in older and 'data-testid="history-more"' not in older

    response = client.get(reverse("tickets:history", args=[ticket.pk]), {"cursor": "%%%garbage"})
    assert response.status_code == 200 and text(response).count('data-testid="history-entry"') == HISTORY_PAGE


def _count_page_queries(client, ticket) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Session, user, permissions and scope, the ticket, its slips, extensions, escalations,
# refunds, penalties, links, attachments, one page of history, the forms' choices and
# the page shell (menu, bell): a fixed number, whatever the ticket holds.
PAGE_BUDGET = 26


def test_the_page_has_a_fixed_query_budget(client, ticket_world):
    w = ticket_world
    approval_policies_seed()
    small = _routed(w, "engineering")
    big = _routed(w, "engineering", "repair", "service")
    for routing in big.routings.all():
        flow.routing_accept(actor=w["manager"], routing=routing)
        flow.routing_record_handling(actor=w["manager"], routing=routing, note="上门")
        escalation.extension_request(
            actor=w["manager"], routing=routing, until=routing.due_at + datetime.timedelta(days=2), reason="等配件"
        )
    for n in range(3):
        escalation.ticket_supervise(actor=w["supervisor"], ticket=big, note=f"督办{n}")
        ticket_link(actor=w["agent"], ticket=big, other=make_ticket(w["agent"], region=w["north"]))
        attachment_add(actor=w["agent"], ticket=big, upload=SimpleUploadedFile(f"f{n}.txt", b"evidence"))
    refund_request(actor=w["agent"], ticket=big, amount="100", reason="补偿")
    client.force_login(w["supervisor"])

    few = _count_page_queries(client, small)
    many = _count_page_queries(client, big)

    assert many <= PAGE_BUDGET, many
    # One more for the customer's primary contact never depends on the rows shown.
    assert many == few, (few, many)
