"""The return-visits API, one visit at a time: read it with its questionnaire, record
an outcome (idempotent, 409 on a stale version, a problem becoming a ticket, the
confirmation visit confirming or reopening its ticket), reschedule, plan by hand, and
bad input (never a 500). The list, scope, statistics, bulk reassignment, rules,
questionnaires and the OpenAPI document are in test_visits_api_list.py."""

import datetime
import json

import pytest
from django.utils import timezone

from kefu.core.models import AuditEvent, IdempotencyRecord
from kefu.core.tokens import token_create
from kefu.customers.models import TimelineEntry
from kefu.tickets.choices import TicketStatus
from kefu.tickets.models import Ticket
from kefu.tickets.services import flow
from kefu.visits.choices import AssignTo, RuleKind, Trigger, VisitStatus
from kefu.visits.models import Questionnaire, Visit, VisitRule
from kefu.visits.questionnaires import questionnaire_publish
from kefu.visits.services.visits import visit_create
from tests.factories_customers import make_customer
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"key": "overall", "text": "您对本次服务满意吗？", "type": "score", "required": True},
    {"key": "recommend", "text": "您愿意向朋友推荐我们吗？", "type": "nps"},
    {"key": "good", "text": "哪些方面做得好？", "type": "multiple", "choices": ["态度", "速度", "质量"]},
]


class Api:
    """A client speaking JSON to /api/v1 with a Bearer token."""

    def __init__(self, client, user):
        self.client = client
        _token, raw = token_create(user=user, name="test")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def post(self, path, body=None, *, key=None, raw=None):
        data = raw if raw is not None else json.dumps({} if body is None else body)
        headers = {**self.headers, "HTTP_IDEMPOTENCY_KEY": key} if key is not None else self.headers
        return self.client.post(f"/api/v1{path}", data=data, content_type="application/json", **headers)


@pytest.fixture
def w(ticket_world):
    return ticket_world


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


@pytest.fixture
def survey(w):
    questionnaire = Questionnaire.objects.create(code="satisfaction", name="满意度回访")
    questionnaire_publish(actor=None, questionnaire=questionnaire, questions=QUESTIONS)
    return questionnaire


@pytest.fixture
def customer(w):
    return make_customer(w["manager"], name="回访客户", phone="13812345678", region=w["north"])


def plan(w, customer, *, assignee=None, questionnaire=None, due=None):
    """A planned visit (through the service), optionally moved to another due date."""
    visit = visit_create(
        actor=w["manager"],
        customer=customer,
        visit_type="满意度回访",
        due_date=timezone.localdate(),
        assignee=assignee or w["agent"],
        questionnaire=questionnaire,
    )
    if due is not None:
        Visit.objects.filter(pk=visit.pk).update(due_date=due)
        visit.refresh_from_db()
    return visit


def recorded_events(visit):
    return AuditEvent.objects.filter(code="visit.recorded", object_id=str(visit.pk)).count()


# --- read ------------------------------------------------------------------------------


def test_detail_shows_the_questions_of_the_version_asked_and_masks_the_phone(as_user, w, customer, survey):
    visit = plan(w, customer, questionnaire=survey)
    response = as_user(w["agent"]).get(f"/visits/{visit.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == visit.pk and body["status"] == "planned" and body["status_name"] == "待回访"
    assert body["customer"] == {
        "id": customer.pk,
        "archive_no": customer.archive_no,
        "name": "回访客户",
        "phone": "138****5678",
    }
    assert body["assignee"]["id"] == w["agent"].pk and body["region"]["id"] == w["north"].pk
    asked = body["asked"]
    assert asked["questionnaire"] == {"id": survey.pk, "name": "满意度回访"} and asked["version"] == 1
    assert [q["key"] for q in asked["questions"]] == ["overall", "recommend", "good"]
    assert asked["questions"][2]["choices"] == ["态度", "速度", "质量"] and asked["questions"][0]["required"]
    assert body["answers"] == {} and body["version"] == 1 and body["overdue_days"] == 0
    # A supervisor holds core.reveal_pii: the full number.
    assert as_user(w["supervisor"]).get(f"/visits/{visit.pk}").json()["customer"]["phone"] == "13812345678"


@pytest.mark.parametrize("visit_id", ["abc", "0", "-1", str(2**63), "1.5"])
def test_a_bad_visit_id_is_a_4xx_json_error(as_user, w, visit_id):
    response = as_user(w["agent"]).get(f"/visits/{visit_id}")
    assert response.status_code in (404, 422), response.content
    assert response.json()["code"] in {"not_found", "validation_error"}


# --- record ----------------------------------------------------------------------------


def test_record_reached_with_answers_completes_the_visit(as_user, w, customer, survey):
    visit = plan(w, customer, questionnaire=survey)
    response = as_user(w["agent"]).post(
        f"/visits/{visit.pk}/record",
        {
            "version": 1,
            "outcome": "reached",
            "channel": "onsite",
            "answers": {"overall": "4", "recommend": 9, "good": ["态度", "质量"]},
            "notes": "客户满意",
            "next_action": "下月再访",
            "arrived": True,
            "deal": True,
            "deal_amount": "1280.50",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "done" and body["outcome"] == "reached" and body["channel"] == "onsite"
    assert body["answers"] == {"overall": 4, "recommend": 9, "good": ["态度", "质量"]}
    assert body["satisfaction"] == 4 and body["nps"] == 9 and body["attempts"] == 1 and body["version"] == 2
    assert body["arrived"] and body["deal"] and body["deal_amount"] == "1280.50"
    assert body["done_by"]["id"] == w["agent"].pk and body["done_at"]
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE and visit.notes == "客户满意" and visit.next_action == "下月再访"
    assert TimelineEntry.objects.filter(customer=customer, kind="visit.recorded").count() == 1


def test_same_idempotency_key_records_one_attempt(as_user, w, customer):
    visit = plan(w, customer)
    api = as_user(w["agent"])
    first = api.post(f"/visits/{visit.pk}/record", {"outcome": "no_answer"}, key="call-0001")
    again = api.post(f"/visits/{visit.pk}/record", {"outcome": "no_answer"}, key="call-0001")
    assert first.status_code == again.status_code == 200, again.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    visit.refresh_from_db()
    assert visit.attempts == 1 and visit.status == VisitStatus.PLANNED and visit.due_date > timezone.localdate()
    assert recorded_events(visit) == 1

    reused = api.post(f"/visits/{visit.pk}/record", {"outcome": "refused"}, key="call-0001")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    # A new key is a new call.
    assert api.post(f"/visits/{visit.pk}/record", {"outcome": "no_answer"}, key="call-0002").status_code == 200
    visit.refresh_from_db()
    assert visit.attempts == 2 and recorded_events(visit) == 2


def test_a_refused_record_keeps_the_key_free(as_user, w, customer, survey):
    visit = plan(w, customer, questionnaire=survey)
    api = as_user(w["agent"])
    refused = api.post(f"/visits/{visit.pk}/record", {"outcome": "reached", "answers": {}}, key="k1")
    assert refused.status_code == 422 and refused.json()["details"]["field"] == "answers.overall"
    assert not IdempotencyRecord.objects.exists() and recorded_events(visit) == 0
    ok = api.post(f"/visits/{visit.pk}/record", {"outcome": "reached", "answers": {"overall": 5}}, key="k1")
    assert ok.status_code == 200 and ok.json()["status"] == "done"


def test_stale_version_is_409_and_records_nothing(as_user, w, customer):
    visit = plan(w, customer)
    api = as_user(w["agent"])
    assert api.post(f"/visits/{visit.pk}/record", {"version": 1, "outcome": "no_answer"}).status_code == 200
    stale = api.post(f"/visits/{visit.pk}/record", {"version": 1, "outcome": "refused"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert stale.json()["details"] == {"version": 2}
    visit.refresh_from_db()
    assert visit.attempts == 1 and visit.status == VisitStatus.PLANNED and recorded_events(visit) == 1


def test_a_finished_visit_cannot_be_recorded_again(as_user, w, customer):
    visit = plan(w, customer)
    api = as_user(w["agent"])
    assert api.post(f"/visits/{visit.pk}/record", {"outcome": "wrong_number"}).json()["status"] == "failed"
    again = api.post(f"/visits/{visit.pk}/record", {"outcome": "reached"})
    assert again.status_code == 409 and again.json()["code"] == "visit_not_planned"
    visit.refresh_from_db()
    assert visit.attempts == 1 and recorded_events(visit) == 1


def test_call_back_moves_the_visit_to_that_day(as_user, w, customer):
    visit = plan(w, customer)
    api = as_user(w["agent"])
    refused = api.post(f"/visits/{visit.pk}/record", {"outcome": "call_back"})
    assert refused.status_code == 422 and refused.json()["details"]["field"] == "call_back_at"
    later = timezone.localtime() + datetime.timedelta(days=3)
    # Without a zone the moment is read in the site's time zone.
    naive = later.replace(tzinfo=None, microsecond=0).isoformat()
    response = api.post(f"/visits/{visit.pk}/record", {"outcome": "call_back", "call_back_at": naive})
    assert response.status_code == 200, response.content
    assert response.json()["due_date"] == later.date().isoformat() and response.json()["status"] == "planned"


def test_a_problem_found_becomes_a_linked_ticket(as_user, w, customer, survey):
    visit = plan(w, customer, questionnaire=survey)
    response = as_user(w["agent"]).post(
        f"/visits/{visit.pk}/record",
        {
            "outcome": "reached",
            "answers": {"overall": 2},
            "problem": {"kind": "repair", "title": "阳台门关不严", "description": "回访中客户反映阳台门变形"},
        },
    )
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert response.json()["created_ticket"] == {"id": ticket.pk, "number": ticket.number}
    assert ticket.customer == customer and ticket.kind.code == "repair" and ticket.title == "阳台门关不严"


@pytest.mark.parametrize(
    ("problem", "field"),
    [
        ({"kind": "no-such-kind", "title": "门坏了", "description": "变形"}, "problem.kind"),
        ({"kind": "repair", "title": "   ", "description": "变形"}, "problem.title"),
    ],
)
def test_a_refused_problem_records_nothing(as_user, w, customer, survey, problem, field):
    visit = plan(w, customer, questionnaire=survey)
    response = as_user(w["agent"]).post(
        f"/visits/{visit.pk}/record", {"outcome": "reached", "answers": {"overall": 2}, "problem": problem}
    )
    assert response.status_code == 422, response.content
    assert response.json()["details"]["field"] == field
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 0 and not Ticket.objects.exists()
    assert recorded_events(visit) == 0


def _resolved_ticket(w):
    VisitRule.objects.create(
        name="工单回访确认",
        kind=RuleKind.EVENT,
        trigger=Trigger.TICKET_RESOLVED,
        visit_type="投诉回访",
        assign_to=AssignTo.TICKET_ASSIGNEE,
    )
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已修复")
    return flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复")


def test_confirmation_visit_confirms_the_ticket(as_user, w):
    ticket = _resolved_ticket(w)
    visit = Visit.objects.get(ticket=ticket)
    api = as_user(w["agent"])
    detail = api.get(f"/visits/{visit.pk}").json()
    assert detail["ticket"] == {"id": ticket.pk, "number": ticket.number}
    missing = api.post(f"/visits/{visit.pk}/record", {"outcome": "reached"})
    assert missing.status_code == 422 and missing.json()["details"]["field"] == "satisfied"
    response = api.post(f"/visits/{visit.pk}/record", {"outcome": "reached", "satisfied": True, "notes": "已修好"})
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CONFIRMED and response.json()["status"] == "done"


def test_confirmation_visit_not_satisfied_reopens_the_ticket(as_user, w):
    ticket = _resolved_ticket(w)
    visit = Visit.objects.get(ticket=ticket)
    response = as_user(w["agent"]).post(
        f"/visits/{visit.pk}/record", {"outcome": "reached", "satisfied": False, "notes": "还在渗水"}
    )
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ROUTED


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"outcome": "teleported"},
        {"outcome": None},
        {"outcome": "reached", "channel": "pigeon"},
        {"outcome": "reached", "unknown_field": 1},
        {"outcome": "reached", "answers": "overall=5"},
        {"outcome": "reached", "answers": {"overall": 6}},
        {"outcome": "reached", "answers": {"overall": "很好"}},
        {"outcome": "reached", "answers": {"good": ["价格"]}},
        {"outcome": "reached", "answers": {"unknown": 1}},
        {"outcome": "reached", "answers": {"overall": {"nested": 1}}},
        {"outcome": "reached", "answers": {"overall": 10**40}},
        {"outcome": "reached", "answers": {f"k{i}": 1 for i in range(101)}},
        {"outcome": "reached", "answers": {"overall": 5}, "notes": "x" * 5001},
        {"outcome": "reached", "answers": {"overall": 5}, "notes": "记\x00录"},
        {"outcome": "reached", "answers": {"overall": 5}, "deal_amount": "NaN"},
        {"outcome": "reached", "answers": {"overall": 5}, "deal_amount": "-1"},
        {"outcome": "reached", "answers": {"overall": 5}, "deal_amount": "1e20"},
        {"outcome": "reached", "answers": {"overall": 5}, "deal_amount": "1.234"},
        {"outcome": "call_back", "call_back_at": "tomorrow"},
        {"outcome": "call_back", "call_back_at": "9999-01-01T10:00:00"},
        {"outcome": "call_back", "call_back_at": "2020-01-01T10:00:00+08:00"},
        {"outcome": "reached", "answers": {"overall": 5}, "problem": {"kind": "repair"}},
        {
            "outcome": "reached",
            "answers": {"overall": 5},
            "problem": {"kind": "r", "title": "t", "description": "d", "severity": "x"},
        },
        {"outcome": "no_answer", "version": -1},
        {"outcome": "no_answer", "version": "one"},
        {"outcome": "no_answer", "version": 2**40},
    ],
)
def test_bad_record_bodies_are_422_and_record_nothing(as_user, w, customer, survey, body):
    visit = plan(w, customer, questionnaire=survey)
    response = as_user(w["agent"]).post(f"/visits/{visit.pk}/record", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    visit.refresh_from_db()
    assert visit.attempts == 0 and visit.status == VisitStatus.PLANNED and visit.version == 1
    assert recorded_events(visit) == 0


@pytest.mark.parametrize("raw", ["{not json", "\x00\x01", '{"outcome": NaN}x', "null", "[1, 2]", ""])
def test_garbage_record_body_is_a_4xx_json_error(as_user, w, customer, raw):
    visit = plan(w, customer)
    response = as_user(w["agent"]).post(f"/visits/{visit.pk}/record", raw=raw)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] in {"bad_request", "validation_error"}
    visit.refresh_from_db()
    assert visit.attempts == 0


def test_who_may_not_record_gets_403_and_nothing_changes(as_user, w, customer, make_user):
    visit = plan(w, customer)
    quality = make_user("quality_officer", username="qo", region=w["north"])
    api = as_user(quality)
    assert api.get(f"/visits/{visit.pk}").status_code == 200  # may read the region's visits
    response = api.post(f"/visits/{visit.pk}/record", {"outcome": "refused"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    response = as_user(w["engineer"]).post(f"/visits/{visit.pk}/record", {"outcome": "refused"})
    assert response.status_code == 403
    visit.refresh_from_db()
    assert visit.attempts == 0 and recorded_events(visit) == 0


# --- reschedule ------------------------------------------------------------------------


def test_reschedule_moves_the_due_date_and_checks_the_version(as_user, w, customer):
    visit = plan(w, customer)
    api = as_user(w["agent"])
    target = timezone.localdate() + datetime.timedelta(days=5)
    response = api.post(f"/visits/{visit.pk}/reschedule", {"due_date": target.isoformat(), "reason": "客户出差"})
    assert response.status_code == 200, response.content
    assert response.json()["due_date"] == target.isoformat() and response.json()["version"] == 2
    assert AuditEvent.objects.filter(code="visit.rescheduled", object_id=str(visit.pk)).count() == 1

    stale = api.post(f"/visits/{visit.pk}/reschedule", {"due_date": timezone.localdate().isoformat(), "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    visit.refresh_from_db()
    assert visit.due_date == target and visit.version == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"due_date": "next week"},
        {"due_date": "2020-01-01"},
        {"due_date": "9999-12-31"},
        {"due_date": "2030-01-01", "reason": "x" * 201},
        {"due_date": "2030-01-01", "extra": 1},
    ],
)
def test_bad_reschedules_are_422_and_change_nothing(as_user, w, customer, body):
    visit = plan(w, customer)
    response = as_user(w["agent"]).post(f"/visits/{visit.pk}/reschedule", body)
    assert response.status_code == 422, response.content
    visit.refresh_from_db()
    assert visit.version == 1 and visit.due_date == timezone.localdate()


def test_a_finished_visit_cannot_be_rescheduled(as_user, w, customer):
    visit = plan(w, customer)
    api = as_user(w["agent"])
    api.post(f"/visits/{visit.pk}/record", {"outcome": "refused"})
    response = api.post(f"/visits/{visit.pk}/reschedule", {"due_date": "2030-01-01"})
    assert response.status_code == 409 and response.json()["code"] == "visit_not_planned"


# --- plan by hand ----------------------------------------------------------------------


def _new(customer, **fields):
    return {
        "customer_id": customer.pk,
        "visit_type": "跟踪回访",
        "due_date": timezone.localdate().isoformat(),
        **fields,
    }


def test_create_plans_a_visit_idempotently(as_user, w, customer, survey):
    api = as_user(w["agent"])
    first = api.post("/visits", _new(customer, questionnaire_id=survey.pk, channel="onsite"), key="trip-1")
    again = api.post("/visits", _new(customer, questionnaire_id=survey.pk, channel="onsite"), key="trip-1")
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json()
    visit = Visit.objects.get()
    body = first.json()
    assert body["id"] == visit.pk and body["assignee"]["id"] == w["agent"].pk and body["channel"] == "onsite"
    assert body["asked"]["version"] == 1 and body["region"]["id"] == w["north"].pk
    assert AuditEvent.objects.filter(code="visit.created").count() == 1


def test_only_supervisors_plan_visits_for_somebody_else(as_user, w, customer):
    response = as_user(w["agent"]).post("/visits", _new(customer, assignee_id=w["supervisor"].pk))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Visit.objects.exists()
    response = as_user(w["supervisor"]).post("/visits", _new(customer, assignee_id=w["agent"].pk))
    assert response.status_code == 201 and response.json()["assignee"]["id"] == w["agent"].pk


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"customer_id": 999999}, "customer_id"),
        ({"questionnaire_id": 999999}, "questionnaire_id"),
        ({"assignee_id": 999999}, "assignee_id"),
        ({"visit_type": "   "}, "visit_type"),
        ({"due_date": "2020-01-01"}, "due_date"),
    ],
)
def test_create_refusals_name_the_field_and_create_nothing(as_user, w, customer, fields, field):
    response = as_user(w["agent"]).post("/visits", _new(customer, **fields))
    assert response.status_code == 422, response.content
    assert response.json()["details"]["field"] == field
    assert not Visit.objects.exists()


def test_a_customer_out_of_sight_cannot_be_visited(as_user, w, customer):
    response = as_user(w["agent_south"]).post("/visits", _new(customer))
    assert response.status_code == 422 and response.json()["details"]["field"] == "customer_id"
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"customer_id": "abc"},
        {"customer_id": 10**30},
        {"visit_type": "x" * 41},
        {"channel": "pigeon"},
        {"due_date": "soon"},
        {"visit_type": "回\x00访"},
        {"status": "done"},
    ],
)
def test_create_bad_bodies_are_422(as_user, w, customer, fields):
    response = as_user(w["agent"]).post("/visits", _new(customer, **fields))
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert not Visit.objects.exists()
