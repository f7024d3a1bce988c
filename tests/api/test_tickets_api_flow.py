"""The tickets API's transitions: the lifecycle end to end over HTTP, illegal moves
(409 `ticket_illegal_transition`, nothing changed), stale versions (409 `conflict`),
slips of other departments, extensions, the clock, chasing, refunds, penalties,
comments, attachments and the slip PDF."""

import base64
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kefu.core.models import ApprovalRequest
from kefu.core.services.approvals import approval_policies_seed
from kefu.customers.services.customers import ContactInput
from kefu.tickets.models import (
    Attachment,
    DeadlineExtension,
    Escalation,
    PenaltyProposal,
    RefundRequest,
    Ticket,
    TicketEvent,
    TicketRouting,
)
from kefu.tickets.services import flow
from tests.api.test_tickets_api import Api
from tests.factories_customers import make_customer
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(ticket_world):
    return ticket_world


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


@pytest.fixture
def ticket(w):
    contacts = [ContactInput(name="张三", phone="13812345678")]
    customer = make_customer(w["manager"], name="张三", contacts=contacts, region=w["north"])
    return make_ticket(w["agent"], customer=customer)


def _routed(w, ticket, *departments):
    return flow.ticket_route(
        actor=w["agent"], ticket=ticket, departments=[w[d] for d in departments or ["engineering"]]
    )


def _state(ticket):
    """What a refused move must leave untouched."""
    fresh = Ticket.objects.get(pk=ticket.pk)
    return fresh.status, fresh.version, TicketEvent.objects.filter(ticket=ticket).count()


# --- the lifecycle ------------------------------------------------------------------


def test_the_whole_lifecycle_over_the_api(as_user, w, ticket):
    agent, engineer = as_user(w["agent"]), as_user(w["engineer"])

    routed = agent.post(
        f"/tickets/{ticket.pk}/route",
        {"departments": [w["engineering"].pk], "instructions": "请两日内上门", "version": 1},
    )
    assert routed.status_code == 200, routed.content
    assert routed.json()["status"] == "routed" and routed.json()["version"] == 2
    [slip] = agent.get(f"/tickets/{ticket.pk}/slips").json()
    assert slip["department"]["id"] == w["engineering"].pk and slip["status"] == "sent"
    assert slip["instructions"] == "请两日内上门" and slip["pdf_url"] == f"/tickets/slips/{slip['id']}/pdf/"

    base = f"/tickets/{ticket.pk}/slips/{slip['id']}"
    accepted = engineer.post(f"{base}/accept")  # no body needed
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_progress", accepted.content
    handled = engineer.post(f"{base}/handling", {"note": "上门查看，已更换防水层", "outcome": "solved"})
    assert handled.status_code == 200, handled.content
    replied = engineer.post(f"{base}/reply", {"reply": "已修复，闭水试验无渗漏", "version": handled.json()["version"]})
    assert replied.status_code == 200, replied.content

    resolved = agent.post(
        f"/tickets/{ticket.pk}/resolve",
        {
            "resolution": "已修复",
            "cause_analysis": "防水层施工不规范",
            "responsible_department_id": w["engineering"].pk,
            "version": replied.json()["version"],
        },
    )
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["status"] == "resolved" and resolved.json()["responsible_department"]["name"] == "工程部"
    confirmed = agent.post(f"/tickets/{ticket.pk}/confirm", {"satisfied": True, "score": 5})
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["satisfaction"] == 5
    closed = agent.post(f"/tickets/{ticket.pk}/close", {"note": "结案"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert "reopen" in closed.json()["available_actions"] and "route" not in closed.json()["available_actions"]

    events = agent.get(f"/tickets/{ticket.pk}/events").json()
    assert [e["code"] for e in events["items"]] == [
        "ticket.registered",
        "ticket.routed",
        "ticket.accepted",
        "ticket.handling",
        "ticket.replied",
        "ticket.resolved",
        "ticket.confirmed",
        "ticket.closed",
    ]
    assert events["items"][1]["slip"] == {"id": slip["id"], "slip_no": slip["slip_no"]}
    assert events["items"][2]["actor"]["id"] == w["engineer"].pk
    page = agent.get(f"/tickets/{ticket.pk}/events", limit=3).json()
    rest = agent.get(f"/tickets/{ticket.pk}/events", limit=10, cursor=page["next_cursor"]).json()
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in events["items"]]


def test_not_satisfied_reopens_and_reopen_works_after_closing(as_user, w):
    api = as_user(w["agent"])
    inquiry = make_ticket(w["agent"], kind_code="inquiry", customer=None, region=w["north"])
    assert api.post(f"/tickets/{inquiry.pk}/resolve", {"resolution": "已答复"}).status_code == 200
    reopened = api.post(f"/tickets/{inquiry.pk}/confirm", {"satisfied": False, "note": "还是不清楚"})
    assert reopened.json()["status"] == "registered" and reopened.json()["reopen_count"] == 1
    api.post(f"/tickets/{inquiry.pk}/resolve", {"resolution": "再次答复"})
    assert api.post(f"/tickets/{inquiry.pk}/close").status_code == 200  # no confirmation needed for 咨询
    again = api.post(f"/tickets/{inquiry.pk}/reopen", {"reason": "客户再次来电"})
    assert again.status_code == 200 and again.json()["cycle"] == 3


# --- refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("confirm", {"satisfied": True, "score": 5}),
        ("close", {}),
        ("reopen", {"reason": "再看看"}),
        ("resume", {}),
    ],
)
def test_an_illegal_transition_is_409_and_changes_nothing(as_user, w, ticket, path, body):
    before = _state(ticket)
    response = as_user(w["manager"]).post(f"/tickets/{ticket.pk}/{path}", body)
    assert response.status_code == 409, response.content
    expected = "ticket_not_paused" if path == "resume" else "ticket_illegal_transition"
    assert response.json()["code"] == expected and response.json()["message"]
    assert _state(ticket) == before


def test_moves_on_a_withdrawn_ticket_are_illegal(as_user, w, ticket):
    (routing,) = _routed(w, ticket)
    api = as_user(w["manager"])
    assert api.post(f"/tickets/{ticket.pk}/withdraw", {"reason": "客户撤诉"}).json()["status"] == "withdrawn"
    before = _state(ticket)
    for path, body in (
        ("route", {"departments": [w["repair"].pk]}),
        (f"slips/{routing.pk}/handling", {"note": "继续处理"}),
        ("resolve", {"resolution": "x"}),
        ("pause", {"reason": "等客户"}),
        ("escalate", {"note": "加急"}),
        ("duplicate", {"original_id": make_ticket(w["agent"], customer=ticket.customer).pk}),
    ):
        response = api.post(f"/tickets/{ticket.pk}/{path}", body)
        assert response.status_code == 409 and response.json()["code"] == "ticket_illegal_transition", path
    assert _state(ticket) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("route", {"departments": [0]}),
        ("resolve", {"resolution": "已处理"}),
        ("pause", {"reason": "等客户"}),
        ("escalate", {"note": "加急"}),
        ("important", {"important": True, "reason": "媒体关注"}),
        ("assign", {}),
    ],
)
def test_a_stale_version_is_409_and_changes_nothing(as_user, w, path, body):
    inquiry = make_ticket(w["agent"], kind_code="inquiry", customer=None, region=w["north"])
    flow.ticket_pause(actor=w["agent"], ticket=inquiry, reason="等客户")
    flow.ticket_resume(actor=w["agent"], ticket=inquiry)  # version 3 now
    body = {**body, "version": 1}
    if path == "route":
        body["departments"] = [w["engineering"].pk]
    if path == "assign":
        body["assignee_id"] = w["supervisor"].pk
    before = _state(inquiry)
    response = as_user(w["supervisor"]).post(f"/tickets/{inquiry.pk}/{path}", body)
    assert response.status_code == 409 and response.json()["code"] == "conflict", response.content
    assert response.json()["details"] == {"version": 3}
    assert _state(inquiry) == before and not TicketRouting.objects.exists() and not Escalation.objects.exists()


def test_the_current_version_is_accepted(as_user, w, ticket):
    response = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/pause", {"reason": "客户出差", "version": 1})
    assert response.status_code == 200 and response.json()["sla_state"] == "paused"
    response = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/resume", {"version": 2})
    assert response.status_code == 200 and response.json()["sla_paused_at"] is None


def test_slips_belong_to_their_ticket_and_their_department(as_user, w, ticket):
    engineering, repair = _routed(w, ticket, "engineering", "repair")
    other = make_ticket(w["agent"], customer=ticket.customer)
    (other_slip,) = _routed(w, other)
    repairer = as_user(w["repairer"])
    response = repairer.post(f"/tickets/{ticket.pk}/slips/{engineering.pk}/accept")
    assert response.status_code == 403 and response.json()["code"] == "ticket_not_routed_to_you"
    response = as_user(w["engineer"]).post(f"/tickets/{ticket.pk}/slips/{other_slip.pk}/accept")
    assert response.status_code == 404  # the slip of another ticket, even a visible one
    for slip_id in (999999, 10**30, 0):
        response = repairer.post(f"/tickets/{ticket.pk}/slips/{slip_id}/reply", {"reply": "x"})
        assert response.status_code in {404, 422} and response.json()["code"] in {"not_found", "validation_error"}
    assert TicketRouting.objects.filter(status="sent").count() == 3
    assert repairer.post(f"/tickets/{ticket.pk}/slips/{repair.pk}/accept").status_code == 200


def test_who_may_not_act_hears_403_before_any_id_in_the_body_is_checked(as_user, w, ticket):
    _routed(w, ticket)
    engineer = as_user(w["engineer"])  # sees the ticket, may only work its slip
    for method, path, body in (
        ("patch", "", {"version": 2, "category_id": 999999}),
        ("post", "/route", {"departments": [999999]}),
        ("post", "/resolve", {"resolution": "x", "responsible_department_id": 999999}),
        ("post", "/duplicate", {"original_id": 999999}),
        ("post", "/assign", {"assignee_id": 999999}),
        ("post", "/penalties", {"reason": "x", "staff_id": 999999}),
    ):
        response = getattr(engineer, method)(f"/tickets/{ticket.pk}{path}", body)
        assert response.status_code == 403 and response.json()["code"] == "permission_denied", path
    assert _state(ticket)[1] == 2


def test_route_refuses_an_already_routed_department_and_unknown_ones(as_user, w, ticket):
    _routed(w, ticket)
    api = as_user(w["agent"])
    again = api.post(f"/tickets/{ticket.pk}/route", {"departments": [w["engineering"].pk]})
    assert again.status_code == 409 and again.json()["code"] == "ticket_already_routed"
    unknown = api.post(f"/tickets/{ticket.pk}/route", {"departments": [w["repair"].pk, 999999]})
    assert unknown.status_code == 422 and unknown.json()["details"]["field"] == "departments"
    assert TicketRouting.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"departments": []},
        {"departments": "1"},
        {"departments": ["工程部"]},
        {"departments": [10**30]},
        {"departments": [1] * 21},
        {"departments": [1], "due_at": "tomorrow"},
        {"departments": [1], "due_at": "99999-01-01T00:00:00"},
        {"departments": [1], "due_at": "1900-01-01T00:00:00+08:00"},
        {"departments": [1], "instructions": "x" * 5001},
        {"departments": [1], "version": "new"},
        {"departments": [1], "version": 10**20},
        {"departments": [1], "urgent": True},
        {"departments": [1], "instructions": "请\x00上门"},
    ],
)
def test_route_bad_bodies_are_422_and_route_nothing(as_user, w, ticket, body):
    response = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/route", body)
    assert response.status_code == 422, response.content
    assert not TicketRouting.objects.exists()


def test_a_past_due_time_is_refused_and_a_naive_one_is_local_time(as_user, w, ticket):
    api = as_user(w["agent"])
    past = api.post(f"/tickets/{ticket.pk}/route", {"departments": [w["engineering"].pk], "due_at": "2020-01-01T00:00"})
    assert past.status_code == 422 and past.json()["details"]["field"] == "due_at"
    due = (timezone.localtime() + datetime.timedelta(days=3)).replace(tzinfo=None, microsecond=0)
    response = api.post(
        f"/tickets/{ticket.pk}/route", {"departments": [w["engineering"].pk], "due_at": due.isoformat()}
    )
    assert response.status_code == 200, response.content
    assert TicketRouting.objects.get().due_at == timezone.make_aware(due)


# --- extensions, the clock, chasing -------------------------------------------------


def test_extension_requested_by_the_department_and_decided_by_a_supervisor(as_user, w, ticket):
    (routing,) = _routed(w, ticket)
    until = routing.due_at + datetime.timedelta(days=2)
    base = f"/tickets/{ticket.pk}"
    asked = as_user(w["engineer"]).post(
        f"{base}/slips/{routing.pk}/extensions", {"until": until.isoformat(), "reason": "等材料"}
    )
    assert asked.status_code == 200, asked.content
    [slip] = as_user(w["engineer"]).get(f"{base}/slips").json()
    [extension] = slip["extensions"]
    assert extension["status"] == "pending" and extension["requested_by"]["id"] == w["engineer"].pk

    path = f"{base}/extensions/{extension['id']}/decide"
    assert as_user(w["engineer"]).post(path, {"grant": True}).status_code == 403
    assert as_user(w["supervisor"]).post(f"{base}/extensions/999999/decide", {"grant": True}).status_code == 404
    decided = as_user(w["supervisor"]).post(path, {"grant": True, "note": "同意"})
    assert decided.status_code == 200, decided.content
    routing.refresh_from_db()
    assert DeadlineExtension.objects.get().status == "granted" and routing.due_at == until
    twice = as_user(w["supervisor"]).post(path, {"grant": False, "note": "改主意"})
    assert twice.status_code == 409 and twice.json()["code"] == "extension_decided"


def test_escalate_supervise_assign_and_mark_important(as_user, w, ticket):
    supervisor = as_user(w["supervisor"])
    escalated = supervisor.post(f"/tickets/{ticket.pk}/escalate", {"note": "客户第三次来电"})
    assert escalated.status_code == 200 and escalated.json()["escalation_level"] == 1
    assert supervisor.post(f"/tickets/{ticket.pk}/supervise", {"note": "今天必须回复"}).status_code == 200
    assert Escalation.objects.filter(ticket=ticket).count() == 2
    assert as_user(w["agent"]).post(f"/tickets/{ticket.pk}/escalate", {"note": "x"}).status_code == 403

    assigned = supervisor.post(f"/tickets/{ticket.pk}/assign", {"assignee_id": w["supervisor"].pk})
    assert assigned.status_code == 200 and assigned.json()["assignee"]["id"] == w["supervisor"].pk
    handed = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/assign", {"assignee_id": w["agent_south"].pk})
    assert handed.status_code in {403, 422}
    unknown = supervisor.post(f"/tickets/{ticket.pk}/assign", {"assignee_id": 999999})
    assert unknown.status_code == 422 and unknown.json()["details"]["field"] == "assignee_id"

    important = supervisor.post(f"/tickets/{ticket.pk}/important", {"important": True, "reason": "媒体关注"})
    assert important.json()["is_important"] and important.json()["important_reason"] == "媒体关注"
    assert supervisor.get("/tickets", queue="important").json()["items"][0]["id"] == ticket.pk
    refused = supervisor.post(f"/tickets/{ticket.pk}/important", {"important": True, "reason": ""})
    assert refused.status_code == 422
    assert as_user(w["agent"]).post(f"/tickets/{ticket.pk}/important", {"reason": "x"}).status_code == 403


def test_duplicate_needs_a_visible_original(as_user, w, ticket):
    south_customer = make_customer(w["manager"], name="王五", phone="13700000001", region=w["south"])
    elsewhere = make_ticket(w["agent_south"], customer=south_customer)
    api = as_user(w["agent"])
    hidden = api.post(f"/tickets/{ticket.pk}/duplicate", {"original_id": elsewhere.pk})
    assert hidden.status_code == 422 and hidden.json()["details"]["field"] == "original_id"
    original = make_ticket(w["agent"], customer=ticket.customer)
    merged = api.post(f"/tickets/{ticket.pk}/duplicate", {"original_id": original.pk, "merge": True})
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    assert merged.json()["merged_into"] == {"id": original.pk, "number": original.number}


# --- refunds and penalties ----------------------------------------------------------


def test_refund_request_is_idempotent_and_blocks_telling_the_customer(as_user, w, ticket):
    approval_policies_seed()
    api = as_user(w["agent"])
    body = {"amount": "1200.50", "reason": "泡坏的木地板", "kind": "compensation"}
    first = api.post(f"/tickets/{ticket.pk}/refunds", body, key="refund-1")
    again = api.post(f"/tickets/{ticket.pk}/refunds", body, key="refund-1")
    assert first.status_code == again.status_code == 201, first.content
    assert first.json() == again.json() and RefundRequest.objects.count() == 1
    refund = first.json()
    assert refund["amount"] == "1200.50" and refund["status"] == "pending" and refund["approval_id"]
    second = api.post(f"/tickets/{ticket.pk}/refunds", body)
    assert second.status_code == 409 and second.json()["code"] == "ticket_refund_pending"

    told = api.post(f"/tickets/{ticket.pk}/refunds/{refund['id']}/tell-customer")
    assert told.status_code == 409 and told.json()["code"] == "ticket_refund_pending"
    assert [r["id"] for r in api.get(f"/tickets/{ticket.pk}/refunds").json()] == [refund["id"]]
    cancelled = api.post(f"/tickets/{ticket.pk}/refunds/{refund['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert ApprovalRequest.objects.get(pk=refund["approval_id"]).status == "cancelled"
    other = make_ticket(w["agent"], customer=ticket.customer)
    assert api.post(f"/tickets/{other.pk}/refunds/{refund['id']}/cancel").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "-5", "reason": "x"},
        {"amount": "0", "reason": "x"},
        {"amount": "NaN", "reason": "x"},
        {"amount": "1e999", "reason": "x"},
        {"amount": "12.345", "reason": "x"},
        {"amount": "1000000000000", "reason": "x"},
        {"amount": "abc", "reason": "x"},
        {"amount": "10", "reason": "x", "kind": "bitcoin"},
        {"amount": "10"},
    ],
)
def test_refund_bad_bodies_are_422_and_request_nothing(as_user, w, ticket, body):
    approval_policies_seed()
    response = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/refunds", body)
    assert response.status_code == 422, response.content
    assert not RefundRequest.objects.exists()


def test_penalty_proposal(as_user, w, ticket):
    approval_policies_seed()
    response = as_user(w["supervisor"]).post(
        f"/tickets/{ticket.pk}/penalties", {"reason": "施工不规范", "staff_id": w["agent"].pk, "amount": "200"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending" and response.json()["staff"]["id"] == w["agent"].pk
    refused = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/penalties", {"reason": "x", "responsible_party": "外包"})
    assert refused.status_code == 403
    assert PenaltyProposal.objects.count() == 1


# --- comments, attachments, slip PDF ------------------------------------------------


def test_comments_are_listed_and_added_idempotently(as_user, w, ticket):
    _routed(w, ticket)
    engineer = as_user(w["engineer"])
    first = engineer.post(f"/tickets/{ticket.pk}/comments", {"body": "周三上门"}, key="c1")
    again = engineer.post(f"/tickets/{ticket.pk}/comments", {"body": "周三上门"}, key="c1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    as_user(w["agent"]).post(f"/tickets/{ticket.pk}/comments", {"body": "已告知客户"})
    comments = engineer.get(f"/tickets/{ticket.pk}/comments").json()["items"]
    assert [c["note"] for c in comments] == ["周三上门", "已告知客户"]
    assert comments[0]["actor"]["id"] == w["engineer"].pk and comments[0]["code"] == "ticket.comment"
    for body in ({"body": ""}, {"body": "x" * 5001}, {"body": 5}, {}, {"body": "周三\x00上门"}):
        assert engineer.post(f"/tickets/{ticket.pk}/comments", body).status_code == 422
    assert TicketEvent.objects.filter(code="ticket.comment").count() == 2


def test_attachments_list_metadata_and_the_download_path(as_user, w, ticket):
    attachment = Attachment.objects.create(
        ticket=ticket,
        original_name="漏水照片.jpg",
        stored_name="a1b2c3.jpg",
        content_type="image/jpeg",
        size=2048,
        sha256="0" * 64,
        uploaded_by=w["agent"],
        uploaded_at=timezone.now(),
    )
    [item] = as_user(w["agent"]).get(f"/tickets/{ticket.pk}/attachments").json()
    assert item["id"] == attachment.pk and item["original_name"] == "漏水照片.jpg" and item["size"] == 2048
    assert item["url"] == f"/tickets/attachments/{attachment.pk}/" and item["uploaded_by"]["id"] == w["agent"].pk
    assert "stored_name" not in item
    assert as_user(w["engineer"]).get(f"/tickets/{ticket.pk}/attachments").status_code == 404


def test_slip_pdf_redirects_to_the_printable_slip_for_those_who_see_the_ticket(as_user, w, ticket):
    (routing,) = _routed(w, ticket)
    response = as_user(w["engineer"]).get(f"/tickets/slips/{routing.pk}/pdf")
    assert response.status_code == 302 and response["Location"] == f"/tickets/slips/{routing.pk}/pdf/"
    for user, slip_id in ((w["repairer"], routing.pk), (w["agent_south"], routing.pk), (w["manager"], 999999)):
        response = as_user(user).get(f"/tickets/slips/{slip_id}/pdf")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert as_user(w["finance"]).get(f"/tickets/slips/{routing.pk}/pdf").status_code == 403


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def upload(client, settings, tmp_path):
    """POST one file (multipart) as `user`; files land in a temporary data dir."""
    settings.DATA_DIR = tmp_path / "data"

    def post(user, ticket, name, content, **fields):
        api = Api(client, user)
        data = {"file": SimpleUploadedFile(name, content, content_type="text/html"), **fields}
        return client.post(f"/api/v1/tickets/{ticket.pk}/attachments", data, **api.headers)

    return post


def test_upload_stores_a_checked_file_and_lists_it(as_user, w, ticket, upload):
    response = upload(w["agent"], ticket, "../漏水照片.png", PNG)
    assert response.status_code == 201, response.content
    body = response.json()
    attachment = Attachment.objects.get()
    assert body["id"] == attachment.pk and body["original_name"] == "漏水照片.png"
    assert body["content_type"] == "image/png" and body["size"] == len(PNG)  # from the bytes, not the client
    assert body["url"] == f"/tickets/attachments/{attachment.pk}/"
    assert as_user(w["agent"]).get(f"/tickets/{ticket.pk}/attachments").json() == [body]
    assert TicketEvent.objects.filter(ticket=ticket, code="ticket.attachment.added").count() == 1

    note = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/comments", {"body": "现场照片"}).json()
    evidence = upload(w["agent"], ticket, "b.png", PNG, event_id=note["id"])
    assert evidence.status_code == 201 and evidence.json()["event_id"] == note["id"]


def test_upload_refusals_store_nothing(as_user, w, ticket, upload):
    other = make_ticket(w["agent"], customer=ticket.customer)
    other_note = as_user(w["agent"]).post(f"/tickets/{other.pk}/comments", {"body": "别的工单"}).json()
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    disguised = upload(w["agent"], ticket, "photo.png", html)
    assert disguised.status_code == 422 and disguised.json()["code"] == "ticket_attachment_rejected"
    wrong_event = upload(w["agent"], ticket, "a.png", PNG, event_id=other_note["id"])
    assert wrong_event.status_code == 422 and wrong_event.json()["details"]["field"] == "event_id"
    assert upload(w["agent"], ticket, "a.png", PNG, event_id="abc").status_code == 422
    assert upload(w["engineer"], ticket, "a.png", PNG).status_code == 404  # not routed to engineering
    assert upload(w["finance"], ticket, "a.png", PNG).status_code == 403
    no_file = as_user(w["agent"]).post(f"/tickets/{ticket.pk}/attachments", {"name": "a.png"})
    assert 400 <= no_file.status_code < 500
    flow.ticket_withdraw(actor=w["agent"], ticket=ticket, reason="撤诉")
    finished = upload(w["agent"], ticket, "a.png", PNG)
    assert finished.status_code == 409 and finished.json()["code"] == "ticket_illegal_transition"
    assert not Attachment.objects.exists()
