"""More of the ticket page's moves through the views (withdraw, duplicate and merge,
link, the clock, escalation and 督办, the important archive, comments): each one done
and refused with nothing written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.core.services.approvals import approval_policies_seed
from kefu.tickets.choices import EscalationReason, TicketStatus
from kefu.tickets.models import Escalation, Ticket
from kefu.tickets.services import flow
from kefu.tickets.services.attachments import attachment_add
from kefu.tickets.services.refunds import refund_request
from tests.factories_tickets import make_ticket
from tests.views.test_tickets_detail_actions import done, post, refused, snapshot

pytestmark = pytest.mark.django_db


# --- withdraw, duplicate, merge, link -------------------------------------------------------


def test_withdraw(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    refused(post(client, w["agent"], "withdraw", ticket, {"reason": ""}), 422, "请检查填写的内容", before, ticket)
    approval_policies_seed()
    refund_request(actor=w["agent"], ticket=ticket, amount="50", reason="误工")
    before = snapshot(ticket)
    response = post(client, w["agent"], "withdraw", ticket, {"reason": "业主撤诉"})
    refused(response, 409, "请先撤回申请", before, ticket)

    other = make_ticket(w["agent"], region=w["north"])
    done(post(client, w["agent"], "withdraw", other, {"reason": "业主撤诉"}), other, "工单已撤销。")
    assert Ticket.objects.get(pk=other.pk).status == TicketStatus.WITHDRAWN


def test_mark_duplicate_and_merge_by_number(client, ticket_world):
    w = ticket_world
    original = make_ticket(w["agent"], region=w["north"])
    twin = make_ticket(w["agent"], region=w["north"], customer=original.customer)
    attachment_add(actor=w["agent"], ticket=twin, upload=SimpleUploadedFile("照片说明.txt", b"leak"))
    response = post(client, w["agent"], "duplicate", twin, {"number": original.number.lower(), "merge": "on"})
    done(response, twin, "已并入目标工单。")
    twin.refresh_from_db()
    assert twin.status == TicketStatus.MERGED and twin.merged_into == original
    assert original.attachments.count() == 1

    third = make_ticket(w["agent"], region=w["north"])
    done(post(client, w["agent"], "duplicate", third, {"number": original.number}), third, "已标记为重复工单。")
    assert Ticket.objects.get(pk=third.pk).status == TicketStatus.DUPLICATE
    html = client.get(reverse("tickets:detail", args=[original.pk])).content.decode()
    assert twin.number in html and third.number in html


def test_duplicate_refuses_unknown_hidden_and_foreign_tickets(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    south = make_ticket(w["agent_south"], region=w["south"])
    other_customer = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    response = post(client, w["agent"], "duplicate", ticket, {"number": "TS-19990101-0001"})
    refused(response, 422, "找不到工单 TS-19990101-0001", before, ticket)
    # A ticket outside the agent's region is "not found", like one that does not exist.
    response = post(client, w["agent"], "duplicate", ticket, {"number": south.number})
    refused(response, 422, f"找不到工单 {south.number}", before, ticket)
    response = post(client, w["agent"], "duplicate", ticket, {"number": other_customer.number, "merge": "on"})
    refused(response, 422, "只能合并同一客户的工单", before, ticket)


def test_link_relates_two_tickets(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    other = make_ticket(w["agent"], region=w["north"])
    done(post(client, w["agent"], "link", ticket, {"number": other.number}), ticket, "已关联工单。")
    assert list(ticket.related.all()) == [other]
    before = snapshot(ticket)
    refused(post(client, w["agent"], "link", ticket, {"number": ticket.number}), 422, "不能与自身关联", before, ticket)


# --- the clock, escalation, supervision --------------------------------------------------------


def test_pause_and_resume(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    refused(post(client, w["agent"], "resume", ticket), 409, "工单没有暂停计时", before, ticket)
    done(post(client, w["agent"], "pause", ticket, {"reason": "业主出差"}), ticket, "已暂停计时。")
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is not None
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert 'data-testid="form-resume"' in html and 'data-testid="form-pause"' not in html
    before = snapshot(ticket)
    refused(post(client, w["agent"], "pause", ticket, {"reason": "再停"}), 409, "工单已在暂停计时中", before, ticket)
    done(post(client, w["agent"], "resume", ticket), ticket, "已恢复计时，期限已顺延。")
    assert Ticket.objects.get(pk=ticket.pk).sla_paused_at is None


def test_escalate_and_supervise_are_for_supervisors(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    assert post(client, w["agent"], "escalate", ticket, {"reason": "拖太久"}).status_code == 403
    assert post(client, w["agent"], "supervise", ticket, {"reason": "请加快"}).status_code == 403
    assert snapshot(ticket) == before

    done(post(client, w["supervisor"], "escalate", ticket, {"reason": "拖太久"}), ticket, "工单已升级。")
    assert Ticket.objects.get(pk=ticket.pk).escalation_level == 1
    done(post(client, w["supervisor"], "supervise", ticket, {"reason": "请今天处理"}), ticket, "已发出督办。")
    assert Escalation.objects.filter(ticket=ticket, reason=EscalationReason.MANUAL, note="请今天处理").exists()


def test_escalate_stops_at_the_top_of_the_chain(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    for level in (1, 2, 3):
        done(post(client, w["supervisor"], "escalate", ticket, {"reason": f"第{level}次"}), ticket, "工单已升级。")
    before = snapshot(ticket)
    refused(post(client, w["supervisor"], "escalate", ticket, {"reason": "再升"}), 409, "最高升级级别", before, ticket)


def test_supervise_is_refused_on_a_finished_ticket(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    flow.ticket_withdraw(actor=w["agent"], ticket=ticket, reason="撤诉")
    before = snapshot(ticket)
    refused(post(client, w["supervisor"], "supervise", ticket, {"reason": "x"}), 409, "不能督办", before, ticket)


def test_mark_important_and_take_it_back(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    assert (
        post(client, w["agent"], "mark_important", ticket, {"important": "1", "reason": "媒体关注"}).status_code == 403
    )
    refused(
        post(client, w["supervisor"], "mark_important", ticket, {"important": "1"}), 422, "请填写原因", before, ticket
    )

    response = post(client, w["supervisor"], "mark_important", ticket, {"important": "1", "reason": "媒体关注"})
    done(response, ticket, "已列入重要投诉档案。")
    ticket.refresh_from_db()
    assert ticket.is_important and ticket.important_reason == "媒体关注"
    response = post(client, w["supervisor"], "mark_important", ticket, {"important": "0"})
    done(response, ticket, "已移出重要投诉档案。")
    assert not Ticket.objects.get(pk=ticket.pk).is_important


# --- comments (plain and htmx) ----------------------------------------------------------------


def test_comment_plain_and_with_htmx(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    done(post(client, w["agent"], "comment", ticket, {"body": "业主下午在家"}), ticket, "备注已添加。")

    response = post(client, w["agent"], "comment", ticket, {"body": "已约周六"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="ticket-history"' in html
    assert html.index("已约周六") < html.index("业主下午在家")
    assert ticket.events.filter(code="ticket.comment").count() == 2


def test_an_empty_comment_is_refused(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    refused(post(client, w["agent"], "comment", ticket, {"body": "  "}), 422, "请检查填写的内容", before, ticket)
    response = post(client, w["agent"], "comment", ticket, {"body": ""}, HTTP_HX_REQUEST="true")
    # htmx swaps only 2xx answers: the refusal comes inside the card.
    assert response.status_code == 200 and 'data-testid="comment-error"' in response.content.decode()
    assert snapshot(ticket) == before


def test_actions_on_a_ticket_out_of_sight_are_404(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    for name, data in (("withdraw", {"reason": "x"}), ("route", {"departments": [w["repair"].pk]})):
        assert post(client, w["agent_south"], name, ticket, data).status_code == 404
    assert snapshot(ticket) == before


def test_a_get_on_an_action_goes_back_to_the_ticket(client, ticket_world):
    """The address bar shows the action after a refused form: opening it again is the page."""
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    before = snapshot(ticket)
    client.force_login(w["agent"])
    response = client.get(reverse("tickets:withdraw", args=[ticket.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert client.put(reverse("tickets:withdraw", args=[ticket.pk])).status_code == 405
    assert snapshot(ticket) == before
