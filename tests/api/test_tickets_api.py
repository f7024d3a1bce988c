"""The tickets API: register (idempotent), read, correct (409 on a stale version),
phone masking, bad input (never a 500) and the OpenAPI document. The list and scope
are in test_tickets_api_list.py, the transitions in test_tickets_api_flow.py."""

import json

import pytest

from kefu.core.models import AuditEvent, IdempotencyRecord
from kefu.core.tokens import token_create
from kefu.customers.services.customers import ContactInput
from kefu.tickets.models import Ticket, TicketEvent
from kefu.tickets.services import flow
from tests.factories_customers import make_customer
from tests.factories_tickets import category, make_ticket

pytestmark = pytest.mark.django_db


class Api:
    """A client speaking JSON to /api/v1 with a Bearer token."""

    def __init__(self, client, user):
        self.client = client
        self.user = user
        _token, raw = token_create(user=user, name="test")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def _headers(self, key):
        return {**self.headers, "HTTP_IDEMPOTENCY_KEY": key} if key is not None else self.headers

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def post(self, path, body=None, *, key=None, raw=None):
        data = raw if raw is not None else json.dumps({} if body is None else body)
        return self.client.post(f"/api/v1{path}", data=data, content_type="application/json", **self._headers(key))

    def patch(self, path, body, *, raw=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.patch(f"/api/v1{path}", data=data, content_type="application/json", **self.headers)


@pytest.fixture
def w(ticket_world):
    return ticket_world


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


@pytest.fixture
def customer(w):
    contacts = [ContactInput(name="张三", phone="13812345678"), ContactInput(name="李秘书", phone="13900001111")]
    return make_customer(w["manager"], name="张三", contacts=contacts, region=w["north"])


def _body(customer, **fields):
    return {
        "kind": "complaint",
        "title": "卫生间漏水",
        "description": "业主来电：卫生间地面渗水到楼下。",
        "customer_id": customer.pk,
        **fields,
    }


def ticket_count():
    return Ticket.objects.count()


# --- create -------------------------------------------------------------------------


def test_create_registers_the_ticket_through_the_service(as_user, w, customer):
    contact = customer.contacts.get(name="李秘书")
    leak = category("防水渗漏")
    response = as_user(w["agent"]).post(
        "/tickets",
        _body(
            customer,
            contact_id=contact.pk,
            category_id=leak.pk,
            severity="important",
            caller_name="张三",
            caller_phone="13812345678",
            extra={"project_stage": "中期"},
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["id"] == ticket.pk and body["number"] == ticket.number and body["number"].startswith("TS-")
    assert body["status"] == "registered" and body["status_name"] == "已登记"
    assert body["kind"] == {"id": ticket.kind_id, "code": "complaint", "name": "投诉"}
    assert body["customer"] == {"id": customer.pk, "archive_no": customer.archive_no, "name": "张三"}
    assert body["category"]["id"] == leak.pk and "防水渗漏" in body["category"]["name"]
    assert body["assignee"]["id"] == w["agent"].pk and body["region"]["id"] == w["north"].pk
    assert body["extra"] == {"project_stage": "中期"} and body["resolve_due_at"] and body["version"] == 1
    assert "route" in body["available_actions"] and "confirm" not in body["available_actions"]
    # An agent holds no core.reveal_pii: the numbers are masked, in the answer only.
    assert body["caller_phone"] == "138****5678" and body["contact"]["phone"] == "139****1111"
    assert ticket.caller_phone == "13812345678" and ticket.contact == contact
    assert TicketEvent.objects.filter(ticket=ticket, code="ticket.registered").count() == 1


@pytest.mark.parametrize(
    "who, fields",
    [
        ("agent", {"severity": "important", "caller_phone": "13812345678", "extra": {"project_stage": "中期"}}),
        ("agent", {"severity": "urgent"}),  # escalated at once, inside the create
        ("agent", {"against_staff": True}),  # counted against the staff member
        ("agent", {"kind": "inquiry", "customer_id": None, "region_id": "south"}),
        ("supervisor", {"assignee": "agent_south", "channel": "agency", "agency_name": "消协", "agency_ref": "X-1"}),
        ("manager", {"category": True, "contact": True}),
    ],
)
def test_the_create_answers_the_ticket_as_reading_it_gives_it(as_user, w, customer, who, fields):
    """The answer is built from the instance the service returned, not read back: it
    must say exactly what a read of the ticket says, whatever the create did."""
    fields = dict(fields)
    if fields.pop("against_staff", False):
        fields["against_staff_id"] = w["supervisor"].pk
    if "region_id" in fields:
        fields["region_id"] = w[fields["region_id"]].pk
    if "assignee" in fields:
        fields["assignee_id"] = w[fields.pop("assignee")].pk
    if fields.pop("category", False):
        fields["category_id"] = category("防水渗漏").pk
    if fields.pop("contact", False):
        fields["contact_id"] = customer.contacts.get(name="李秘书").pk
    api = as_user(w[who])
    response = api.post("/tickets", _body(customer, **fields))
    assert response.status_code == 201, response.content
    created = response.json()
    read = api.get(f"/tickets/{created['id']}")
    assert read.status_code == 200 and created == read.json()


def test_a_ticket_on_a_merged_archive_is_refused_with_where_it_went(as_user, w, customer):
    from kefu.customers.services.merge import customer_merge

    survivor = make_customer(w["manager"], name="张三（新档）", region=w["north"])
    customer_merge(actor=w["manager"], survivor=survivor, source=customer)
    response = as_user(w["agent"]).post("/tickets", _body(customer))
    assert response.status_code == 422 and survivor.archive_no in response.json()["message"]
    assert ticket_count() == 0


def test_same_idempotency_key_returns_the_first_ticket_and_creates_no_second_row(as_user, w, customer):
    api = as_user(w["agent"])
    first = api.post("/tickets", _body(customer), key="call-0001")
    again = api.post("/tickets", _body(customer), key="call-0001")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert ticket_count() == 1 and TicketEvent.objects.filter(code="ticket.registered").count() == 1

    other = api.post("/tickets", _body(customer, title="另一件事"), key="call-0001")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert api.post("/tickets", _body(customer), key="call-0002").status_code == 201
    assert ticket_count() == 2


def test_a_refused_create_keeps_the_key_free(as_user, w, customer):
    api = as_user(w["agent"])
    refused = api.post("/tickets", _body(customer, customer_id=None), key="k1")
    assert refused.status_code == 422 and refused.json()["code"] == "ticket_customer_required"
    assert not IdempotencyRecord.objects.exists() and ticket_count() == 0
    assert api.post("/tickets", _body(customer), key="k1").status_code == 201


def test_inquiry_needs_no_customer_and_takes_the_region_given(as_user, w):
    response = as_user(w["manager"]).post(
        "/tickets",
        {"kind": "inquiry", "title": "营业时间", "description": "问周末是否营业", "region_id": w["south"].pk},
    )
    assert response.status_code == 201, response.content
    assert response.json()["customer"] is None and response.json()["region"]["id"] == w["south"].pk


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"customer_id": None}, "ticket_customer_required", "customer"),
        ({"kind": "no-such-kind"}, "validation_error", "kind"),
        ({"customer_id": 999999}, "validation_error", "customer_id"),
        ({"contact_id": 999999}, "validation_error", "contact_id"),
        ({"category_id": 999999}, "validation_error", "category_id"),
        ({"assignee_id": 999999}, "validation_error", "assignee_id"),
        ({"against_staff_id": 999999}, "validation_error", "against_staff_id"),
        ({"extra": {"no_such_field": "x"}}, "validation_error", "extra.no_such_field"),
        ({"extra": {"project_stage": "火星期"}}, "validation_error", "extra.project_stage"),
        ({"channel": "agency"}, "validation_error", "agency_name"),
        ({"caller_phone": "12345"}, "validation_error", "caller_phone"),
        ({"title": "   "}, "validation_error", "title"),
    ],
)
def test_create_refusals_are_422_with_the_field_and_create_nothing(as_user, w, customer, fields, code, field):
    response = as_user(w["agent"]).post("/tickets", _body(customer, **fields))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code and response.json()["details"]["field"] == field
    assert ticket_count() == 0 and not AuditEvent.objects.filter(code="ticket.registered").exists()


def test_a_customer_out_of_sight_cannot_be_used(as_user, w, customer):
    response = as_user(w["agent_south"]).post("/tickets", _body(customer))
    assert response.status_code == 422 and response.json()["details"]["field"] == "customer_id"
    other = make_customer(w["manager"], name="李四", phone="13700000000", region=w["north"])
    contact_of_other = other.contacts.get()
    response = as_user(w["agent"]).post("/tickets", _body(customer, contact_id=contact_of_other.pk))
    assert response.status_code == 422 and response.json()["details"]["field"] == "contact_id"
    assert ticket_count() == 0


def test_only_supervisors_hand_a_new_ticket_to_somebody_else(as_user, w, customer):
    response = as_user(w["agent"]).post("/tickets", _body(customer, assignee_id=w["supervisor"].pk))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    response = as_user(w["supervisor"]).post("/tickets", _body(customer, assignee_id=w["agent"].pk))
    assert response.status_code == 201 and response.json()["assignee"]["id"] == w["agent"].pk
    assert ticket_count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": None},
        {"title": 123},
        {"title": ["漏水"]},
        {"title": "漏" * 121},
        {"description": "x" * 20001},
        {"caller_phone": "1" * 10_000},
        {"unknown_field": 1},
        {"severity": "apocalyptic"},
        {"channel": "pigeon"},
        {"customer_id": "abc"},
        {"customer_id": 10**30},
        {"customer_id": -1},
        {"category_id": 0},
        {"agency_deadline": "tomorrow"},
        {"extra": "x"},
        {"extra": {"project_stage": {"nested": True}}},
        {"extra": {f"k{i}": 1 for i in range(101)}},
        {"extra": {"project_stage": 10**16}},
        # PostgreSQL refuses NUL in text: refused before it gets there
        {"title": "漏\x00水"},
        {"kind": "complaint\x00"},
        {"extra": {"project_stage\x00": "中期"}},
        {"caller_name": "\x1b[31m"},
    ],
)
def test_create_bad_bodies_are_422_and_create_nothing(as_user, w, customer, fields):
    response = as_user(w["agent"]).post("/tickets", _body(customer, **fields))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert ticket_count() == 0


@pytest.mark.parametrize("raw", ["{not json", "\x00\x01", '{"title": NaN}x', "null", "[1, 2]", ""])
def test_create_garbage_body_is_a_4xx_json_error(as_user, w, raw):
    response = as_user(w["agent"]).post("/tickets", raw=raw)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] in {"bad_request", "validation_error"}
    assert ticket_count() == 0


def test_department_staff_may_not_register(as_user, w, customer):
    response = as_user(w["engineer"]).post("/tickets", _body(customer))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert ticket_count() == 0


# --- read and update ----------------------------------------------------------------


def test_detail_names_only_related_tickets_the_viewer_may_see(as_user, w, customer):
    from kefu.tickets.services.tickets import ticket_link

    ticket = make_ticket(w["agent"], customer=customer)
    south_customer = make_customer(w["manager"], name="王五", phone="13700000001", region=w["south"])
    elsewhere = make_ticket(w["agent_south"], customer=south_customer)
    ticket_link(actor=w["manager"], ticket=ticket, other=elsewhere)
    assert as_user(w["manager"]).get(f"/tickets/{ticket.pk}").json()["related"] == [
        {"id": elsewhere.pk, "number": elsewhere.number}
    ]
    assert as_user(w["agent"]).get(f"/tickets/{ticket.pk}").json()["related"] == []


def test_patch_corrects_the_ticket(as_user, w, customer):
    ticket = make_ticket(w["agent"], customer=customer)
    contact = customer.contacts.get(name="李秘书")
    leak = category("防水渗漏")
    response = as_user(w["agent"]).patch(
        f"/tickets/{ticket.pk}",
        {"version": 1, "title": "楼下渗水", "category_id": leak.pk, "contact_id": contact.pk, "severity": "major"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "楼下渗水" and body["category"]["id"] == leak.pk and body["contact"]["id"] == contact.pk
    assert body["severity"] == "major" and body["version"] == 2
    response = as_user(w["agent"]).patch(f"/tickets/{ticket.pk}", {"version": 2, "category_id": None})
    assert response.status_code == 200 and response.json()["category"] is None
    assert TicketEvent.objects.filter(ticket=ticket, code="ticket.updated").count() == 2


def test_patch_with_a_stale_version_is_409_and_changes_nothing(as_user, w, customer):
    ticket = make_ticket(w["agent"], customer=customer)
    api = as_user(w["agent"])
    assert api.patch(f"/tickets/{ticket.pk}", {"version": 1, "title": "第一次"}).status_code == 200
    stale = api.patch(f"/tickets/{ticket.pk}", {"version": 1, "title": "第二次"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    ticket.refresh_from_db()
    assert ticket.title == "第一次" and ticket.version == 2
    assert TicketEvent.objects.filter(ticket=ticket, code="ticket.updated").count() == 1


def test_patch_of_a_finished_ticket_is_an_illegal_transition(as_user, w, customer):
    ticket = make_ticket(w["agent"], customer=customer)
    flow.ticket_withdraw(actor=w["agent"], ticket=ticket, reason="客户撤诉")
    ticket.refresh_from_db()
    response = as_user(w["agent"]).patch(f"/tickets/{ticket.pk}", {"version": ticket.version, "title": "改"})
    assert response.status_code == 409 and response.json()["code"] == "ticket_illegal_transition"
    assert Ticket.objects.get(pk=ticket.pk).title == "卫生间漏水"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "没有版本"},
        {"version": "one", "title": "x"},
        {"version": 1, "title": None},
        {"version": 1, "severity": None},
        {"version": 1, "status": "closed"},
        {"version": 1, "number": "TS-1"},
        {"version": 1, "title": "x" * 121},
        {"version": 1, "category_id": 999999},
        {"version": 1, "contact_id": 999999},
        {"version": 1, "extra": {"unknown": 1}},
        {"version": 1, "agency_deadline": "soon"},
        {"version": 1, "description": "\x00"},
    ],
)
def test_patch_bad_bodies_are_422_and_change_nothing(as_user, w, customer, body):
    ticket = make_ticket(w["agent"], customer=customer)
    response = as_user(w["agent"]).patch(f"/tickets/{ticket.pk}", body)
    assert response.status_code == 422, response.content
    ticket.refresh_from_db()
    assert ticket.version == 1 and ticket.status == "registered" and ticket.title == "卫生间漏水"


# --- configuration and the document -------------------------------------------------


def test_ticket_settings_list_kinds_fields_and_categories(as_user, w):
    body = as_user(w["engineer"]).get("/ticket-settings").json()
    complaint = next(k for k in body["kinds"] if k["code"] == "complaint")
    assert complaint["prefix"] == "TS" and complaint["requires_customer"] and complaint["allows_refund"]
    stage = next(f for f in complaint["fields"] if f["key"] == "project_stage")
    assert stage["type"] == "choice" and "中期" in stage["choices"]
    leak = category("防水渗漏")
    assert any(c["id"] == leak.pk and c["parent_id"] == leak.parent_id for c in body["categories"])


def test_openapi_documents_every_ticket_endpoint_and_its_errors(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    operations = [
        (path, method, op)
        for path, item in doc["paths"].items()
        if path.startswith(("/api/v1/tickets", "/api/v1/ticket-settings"))
        for method, op in item.items()
    ]
    assert len(operations) >= 35
    ids = [op["operationId"] for _p, _m, op in operations]
    assert len(set(ids)) == len(ids) and all(i.startswith("tickets_") for i in ids)
    for path, method, op in operations:
        statuses = set(op["responses"])
        assert {"401", "403"} <= statuses, (method, path, statuses)
        if "{" in path:
            assert {"404", "422"} <= statuses, (method, path, statuses)  # unknown id, non-numeric id
        assert "tickets" in op["tags"]
        for status in statuses - {"200", "201", "302"}:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorOut"), (method, path, status)
        if method in {"post", "patch"} and "/pdf" not in path:
            assert {"409", "422"} <= statuses, (method, path, statuses)
    create = doc["paths"]["/api/v1/tickets"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "201" in create["responses"]
    assert "302" in doc["paths"]["/api/v1/tickets/slips/{routing_id}/pdf"]["get"]["responses"]
