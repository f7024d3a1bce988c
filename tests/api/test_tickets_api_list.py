"""The tickets API's list (the desk's queues and filters through the same parser,
keyset pages, crafted cursors, a constant number of queries) and scope: department
staff see only what was routed to them, the service desk its own region."""

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.tickets.models import TicketEvent
from kefu.tickets.services import flow
from tests.api.test_tickets_api import Api
from tests.factories_customers import make_customer
from tests.factories_tickets import category, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(ticket_world):
    return ticket_world


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


@pytest.fixture
def customer(w):
    return make_customer(w["manager"], name="张三", phone="13812345678", region=w["north"])


# --- list ---------------------------------------------------------------------------


def test_list_serves_the_queues_and_filters_of_the_desk_with_a_cursor(as_user, w, customer):
    agent = w["agent"]
    tickets = [make_ticket(agent, customer=customer, title=f"漏水{i}") for i in range(5)]
    flow.ticket_route(actor=agent, ticket=tickets[0], departments=[w["engineering"]])
    flow.ticket_route(actor=agent, ticket=tickets[1], departments=[w["repair"]])
    inquiry = make_ticket(agent, kind_code="inquiry", customer=None, region=w["north"], severity="urgent")
    api = as_user(w["manager"])

    first = api.get("/tickets", limit=4).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    second = api.get("/tickets", limit=4, cursor=first["next_cursor"]).json()
    assert second["next_cursor"] is None
    ids = [t["id"] for t in first["items"] + second["items"]]
    assert ids == sorted([t.pk for t in tickets] + [inquiry.pk], reverse=True)  # default sort -id

    def ids_of(**params):
        response = api.get("/tickets", **params)
        assert response.status_code == 200, response.content
        return {t["id"] for t in response.json()["items"]}

    assert ids_of(queue="unrouted") == {t.pk for t in tickets[2:]} | {inquiry.pk}
    assert ids_of(status="routed") == {tickets[0].pk, tickets[1].pk}
    assert ids_of(department=f"{w['engineering'].pk},{w['repair'].pk}") == {tickets[0].pk, tickets[1].pk}
    assert ids_of(department=w["engineering"].pk) == {tickets[0].pk}
    assert ids_of(kind=inquiry.kind_id) == {inquiry.pk}
    assert ids_of(severity="urgent", channel="phone") == {inquiry.pk}
    assert ids_of(customer=customer.pk, q="漏水3") == {tickets[3].pk}
    assert ids_of(q=tickets[4].number.lower()) == {tickets[4].pk}
    assert ids_of(queue="escalated") == {inquiry.pk}  # an emergency escalates at once
    assert ids_of(important="true") == set()
    assert ids_of(q="漏水\x001") == {tickets[1].pk}  # control characters never reach the database
    repeated = api.get("/tickets", status=["routed", "registered"]).json()["items"]
    assert {t["id"] for t in repeated} == {t.pk for t in tickets} | {inquiry.pk}
    by_due = [t["id"] for t in api.get("/tickets", sort="due", limit=2).json()["items"]]
    assert len(by_due) == 2


def test_list_masks_the_callers_phone_unless_the_user_may_reveal(as_user, w, customer):
    make_ticket(w["agent"], customer=customer, caller_phone="13812345678")
    [seen_by_agent] = as_user(w["agent"]).get("/tickets").json()["items"]
    assert seen_by_agent["caller_phone"] == "138****5678"
    [seen_by_supervisor] = as_user(w["supervisor"]).get("/tickets").json()["items"]
    assert seen_by_supervisor["caller_phone"] == "13812345678"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"limit": "many"},
        {"sort": "password"},
        {"queue": "everything"},
        {"status": "open,nonsense"},
        {"severity": "x"},
        {"channel": "fax"},
        {"sla_state": "late"},
        {"kind": "abc"},
        {"region": "99999999999999999999999999"},
        {"department": "-1"},
        {"customer": "abc"},
        {"customer": str(10**30)},
        {"created_from": "2026-13-45"},
        {"created_from": "0001-01-01"},
        {"created_from": "2026-05-02", "created_to": "2026-05-01"},
        {"important": "perhaps"},
        {"q": "字" * 201},
        {"cursor": "!!nonsense"},
        {"cursor": base64.urlsafe_b64encode(b'["not-a-number"]').decode()},
        {"cursor": base64.urlsafe_b64encode(b"[1e999]").decode()},
        {"cursor": "x" * 1001},
    ],
)
def test_list_bad_parameters_are_422(as_user, w, customer, params):
    make_ticket(w["agent"], customer=customer)
    response = as_user(w["manager"]).get("/tickets", **params)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("-id", b"[99999999999999999999999999]"),
        ("-id", b"[-1]"),
        ("-id", b"[null]"),
        ("-id", b"[true]"),
        ("-id", b'[{"a": 1}]'),
        ("due", b"[null, 1]"),
        ("due", b'["not a date", 1]'),
        ("due", b'["2026-01-01T00:00:00", "x"]'),
        ("-updated_at", b'["9999-99-99", 1]'),
    ],
)
def test_list_crafted_cursors_never_fail(as_user, w, customer, sort, values):
    make_ticket(w["agent"], customer=customer)
    response = as_user(w["manager"]).get("/tickets", sort=sort, cursor=base64.urlsafe_b64encode(values).decode())
    assert response.status_code in {200, 422}, response.content


def test_list_runs_a_constant_number_of_queries(as_user, w, django_assert_max_num_queries):
    api = as_user(w["agent"])
    leak = category("防水渗漏")

    def add(n, start):
        for i in range(start, start + n):
            customer = make_customer(w["manager"], name=f"客户{i}", phone=f"138{i:08d}", region=w["north"])
            make_ticket(w["agent"], customer=customer, category=leak)

    add(2, 0)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/tickets").json()["items"]) == 2
    add(20, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        items = api.get("/tickets").json()["items"]
    assert len(items) == 22 and all(t["customer"] and t["category"] and t["assignee"] for t in items)


# --- scope --------------------------------------------------------------------------


def test_department_staff_see_only_what_was_routed_to_their_department(as_user, w, customer):
    agent = w["agent"]
    routed = make_ticket(agent, customer=customer, title="已派工程部")
    other = make_ticket(agent, customer=customer, title="已派维修部")
    unrouted = make_ticket(agent, customer=customer, title="未派单")
    (slip,) = flow.ticket_route(actor=agent, ticket=routed, departments=[w["engineering"]])
    (other_slip,) = flow.ticket_route(actor=agent, ticket=other, departments=[w["repair"]])
    engineer = as_user(w["engineer"])

    assert [t["id"] for t in engineer.get("/tickets").json()["items"]] == [routed.pk]
    assert [t["id"] for t in engineer.get("/tickets", queue="department").json()["items"]] == [routed.pk]
    assert engineer.get(f"/tickets/{routed.pk}").status_code == 200
    assert engineer.get(f"/tickets/slips/{slip.pk}/pdf").status_code == 302
    for ticket, routing in ((other, other_slip), (unrouted, None)):
        for path in ("", "/events", "/slips", "/comments", "/attachments", "/refunds"):
            response = engineer.get(f"/tickets/{ticket.pk}{path}")
            assert response.status_code == 404 and response.json()["code"] == "not_found", path
        for response in (
            engineer.patch(f"/tickets/{ticket.pk}", {"version": 1, "title": "改"}),
            engineer.post(f"/tickets/{ticket.pk}/comments", {"body": "看看"}),
        ):
            assert response.status_code == 404 and response.json()["code"] == "not_found"
        if routing is not None:
            assert engineer.get(f"/tickets/slips/{routing.pk}/pdf").status_code == 404
            response = engineer.post(f"/tickets/{ticket.pk}/slips/{routing.pk}/accept")
            assert response.status_code == 404
    assert not TicketEvent.objects.filter(code="ticket.comment").exists()
    other.refresh_from_db()
    assert other.title == "已派维修部"


def test_service_desk_sees_its_own_region(as_user, w, customer):
    ticket = make_ticket(w["agent"], customer=customer)
    south = as_user(w["agent_south"])
    assert south.get("/tickets").json()["items"] == []
    response = south.get(f"/tickets/{ticket.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_roles_without_tickets_get_403(as_user, w):
    finance = as_user(w["finance"])
    for response in (finance.get("/tickets"), finance.get("/tickets/1"), finance.get("/ticket-settings")):
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999", "0", "-3"])
def test_unknown_ticket_is_404(as_user, w, pk):
    response = as_user(w["manager"]).get(f"/tickets/{pk}")
    assert response.status_code in {404, 422} and response.json()["code"] in {"not_found", "validation_error"}


def test_non_numeric_id_is_422(as_user, w):
    response = as_user(w["manager"]).get("/tickets/abc")
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
