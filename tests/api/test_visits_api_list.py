"""The return-visits API over many visits: the list (sections, filters, keyset pages,
crafted cursors, a constant number of queries), scope (an agent sees only their own
visits, an account manager their region's, out of sight is a 404), statistics over the
same list, bulk reassignment (all or nothing), the rules and questionnaires, and the
OpenAPI document."""

import base64
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.visits.choices import RuleKind, VisitStatus
from kefu.visits.models import Questionnaire, Visit, VisitRule
from kefu.visits.questionnaires import questionnaire_publish
from kefu.visits.services.visits import visit_record
from tests.api.test_visits_api import QUESTIONS, Api, plan
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(ticket_world):
    return ticket_world


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


@pytest.fixture
def north(w):
    return make_customer(w["manager"], name="城北客户", phone="13812345678", region=w["north"])


@pytest.fixture
def south(w):
    return make_customer(w["manager"], name="城南客户", phone="13900001111", region=w["south"])


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def today():
    return timezone.localdate()


# --- list and filters ------------------------------------------------------------------


def test_sections_filters_and_cursor(as_user, w, north, south):
    days = datetime.timedelta
    overdue = plan(w, north, due=today() - days(3))
    due = plan(w, north)
    upcoming = plan(w, north, due=today() + days(4))
    theirs = plan(w, north, assignee=w["supervisor"])
    southern = plan(w, south, assignee=w["agent_south"])
    done = plan(w, north)
    visit_record(actor=w["agent"], visit=done, outcome="refused")
    api = as_user(w["manager"])

    assert ids(api.get("/visits")) == [overdue.pk, due.pk, theirs.pk, southern.pk, done.pk, upcoming.pk]
    first = api.get("/visits", limit=4).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    second = api.get("/visits", limit=4, cursor=first["next_cursor"]).json()
    assert [v["id"] for v in second["items"]] == [done.pk, upcoming.pk] and second["next_cursor"] is None
    assert first["items"][0]["overdue_days"] == 3 and first["items"][1]["overdue_days"] == 0

    agent = as_user(w["agent"])
    assert ids(agent.get("/visits", section="due")) == [overdue.pk, due.pk]
    assert ids(agent.get("/visits", section="upcoming")) == [upcoming.pk]
    assert ids(agent.get("/visits")) == [overdue.pk, due.pk, done.pk, upcoming.pk]

    assert ids(api.get("/visits", status="failed")) == [done.pk]
    assert ids(api.get("/visits", status="planned,failed", region=w["south"].pk)) == [southern.pk]
    assert ids(api.get("/visits", assignee=f"{w['supervisor'].pk},{w['agent_south'].pk}")) == [theirs.pk, southern.pk]
    assert ids(api.get("/visits", customer=south.pk)) == [southern.pk]
    window = {"due_from": (today() - days(3)).isoformat(), "due_to": (today() - days(1)).isoformat()}
    assert ids(api.get("/visits", **window)) == [overdue.pk]
    rule = VisitRule.objects.create(name="A 类月访", kind=RuleKind.CADENCE, visit_type="大客户跟踪")
    Visit.objects.filter(pk=due.pk).update(rule=rule)
    [item] = api.get("/visits", rule=rule.pk).json()["items"]
    assert item["id"] == due.pk and item["rule"] == {"id": rule.pk, "name": "A 类月访"}


def test_list_masks_the_phone_unless_the_user_may_reveal(as_user, w, north):
    plan(w, north)
    assert as_user(w["agent"]).get("/visits").json()["items"][0]["customer"]["phone"] == "138****5678"
    assert as_user(w["supervisor"]).get("/visits").json()["items"][0]["customer"]["phone"] == "13812345678"


def test_list_runs_a_constant_number_of_queries(as_user, w, north, south):
    api = as_user(w["manager"])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/visits").status_code == 200
        return len(queries)

    plan(w, north)
    plan(w, south, assignee=w["agent_south"])
    count()  # the token's first use is recorded once
    few = count()
    for _ in range(6):
        plan(w, north, assignee=w["supervisor"])
        plan(w, south, assignee=w["agent_south"])
    assert count() == few


@pytest.mark.parametrize(
    "params",
    [
        {"section": "yesterday"},
        {"status": "lost"},
        {"assignee": "abc"},
        {"region": "1,x"},
        {"rule": str(2**64)},
        {"customer": "abc"},
        {"customer": 0},
        {"due_from": "soon"},
        {"due_to": "0001-01-01"},
        {"limit": 0},
        {"limit": 1000},
        {"cursor": "garbage"},
        {"cursor": base64.urlsafe_b64encode(b'["x", 1]').decode()},
        {"cursor": base64.urlsafe_b64encode(b'["2026-01-01", "abc"]').decode()},
        {"cursor": base64.urlsafe_b64encode(b"[1]").decode()},
        {"cursor": "x" * 1001},
    ],
)
def test_bad_list_parameters_are_422(as_user, w, north, params):
    plan(w, north)
    response = as_user(w["manager"]).get("/visits", **params)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"


# --- scope -----------------------------------------------------------------------------


def test_agent_sees_only_their_own_visits(as_user, w, north, south):
    mine = plan(w, north)
    colleague = plan(w, north, assignee=w["supervisor"])
    southern = plan(w, south, assignee=w["agent_south"])
    agent = as_user(w["agent"])
    assert ids(agent.get("/visits")) == [mine.pk]
    for other in (colleague, southern):
        for response in (
            agent.get(f"/visits/{other.pk}"),
            agent.post(f"/visits/{other.pk}/record", {"outcome": "refused"}),
            agent.post(f"/visits/{other.pk}/reschedule", {"due_date": "2030-01-01"}),
        ):
            assert response.status_code == 404 and response.json()["code"] == "not_found", response.content
        other.refresh_from_db()
        assert other.status == VisitStatus.PLANNED and other.attempts == 0 and other.version == 1
    assert not AuditEvent.objects.filter(code__in=["visit.recorded", "visit.rescheduled"]).exists()


def test_account_manager_sees_their_region_and_manager_all(as_user, w, north, south, make_user):
    mine = plan(w, north)
    colleague = plan(w, north, assignee=w["supervisor"])
    southern = plan(w, south, assignee=w["agent_south"])
    account = make_user("account_manager", username="am", region=w["north"])
    assert ids(as_user(account).get("/visits")) == [mine.pk, colleague.pk]
    assert as_user(account).get(f"/visits/{southern.pk}").status_code == 404
    assert set(ids(as_user(w["manager"]).get("/visits"))) == {mine.pk, colleague.pk, southern.pk}
    assert set(ids(as_user(w["director"]).get("/visits"))) == {mine.pk, colleague.pk, southern.pk}


def test_staff_without_visits_get_403(as_user, w, north):
    plan(w, north)
    for path in ("/visits", "/visits/stats", "/questionnaires"):
        response = as_user(w["engineer"]).get(path)
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_anonymous_is_401(client):
    response = client.get("/api/v1/visits")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


# --- statistics ------------------------------------------------------------------------


def _survey():
    questionnaire = Questionnaire.objects.create(code="satisfaction", name="满意度回访")
    questionnaire_publish(actor=None, questionnaire=questionnaire, questions=QUESTIONS)
    return questionnaire


def test_stats_cover_the_filtered_scoped_list(as_user, w, north, south):
    survey = _survey()
    happy = plan(w, north, questionnaire=survey)
    visit_record(
        actor=w["agent"], visit=happy, outcome="reached", answers={"overall": 5, "recommend": 10}, arrived=True
    )
    unhappy = plan(w, north, questionnaire=survey)
    visit_record(actor=w["agent"], visit=unhappy, outcome="reached", answers={"overall": 2, "recommend": 3}, deal=True)
    unanswered = plan(w, north)
    visit_record(actor=w["agent"], visit=unanswered, outcome="no_answer")
    plan(w, north)
    southern = plan(w, south, assignee=w["agent_south"])
    visit_record(actor=w["agent_south"], visit=southern, outcome="refused")

    stats = as_user(w["agent"]).get("/visits/stats")
    assert stats.status_code == 200, stats.content
    assert stats.json() == {
        "planned": 4,
        "done": 2,
        "attempted": 3,
        "reached": 2,
        "reach_rate": round(2 / 3, 4),
        "satisfaction": 3.5,
        "nps": 0.0,
        "promoters": 1,
        "detractors": 1,
        "arrived": 1,
        "deals": 1,
    }
    manager = as_user(w["manager"])
    assert manager.get("/visits/stats").json()["planned"] == 5
    only_south = manager.get("/visits/stats", region=w["south"].pk).json()
    assert only_south["planned"] == 1 and only_south["attempted"] == 1 and only_south["reached"] == 0
    assert only_south["reach_rate"] == 0.0 and only_south["satisfaction"] is None and only_south["nps"] is None
    assert manager.get("/visits/stats", section="due").json()["planned"] == 0  # the manager's own call list
    assert manager.get("/visits/stats", status="nope").status_code == 422


# --- bulk reassignment -----------------------------------------------------------------


def test_reassign_hands_visits_over_all_at_once(as_user, w, north):
    first, second = plan(w, north), plan(w, north)
    response = as_user(w["supervisor"]).post(
        "/visits/reassign", {"ids": [first.pk, second.pk, first.pk], "assignee_id": w["supervisor"].pk}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2 and body["assignee"]["id"] == w["supervisor"].pk
    assert [v["id"] for v in body["items"]] == [first.pk, second.pk]
    assert all(v["assignee"]["id"] == w["supervisor"].pk and v["version"] == 2 for v in body["items"])
    assert AuditEvent.objects.filter(code="visit.reassigned").count() == 2
    assert ids(as_user(w["agent"]).get("/visits")) == []


@pytest.mark.parametrize("problem", ["out_of_sight", "finished", "bad_assignee", "unknown"])
def test_reassign_is_all_or_nothing(as_user, w, north, south, problem):
    fine = plan(w, north)
    other = plan(w, north)
    assignee = w["supervisor"]
    expected = 404
    if problem == "out_of_sight":
        other = plan(w, south, assignee=w["agent_south"])
    elif problem == "finished":
        visit_record(actor=w["agent"], visit=other, outcome="refused")
        expected = 409
    elif problem == "bad_assignee":
        assignee, expected = w["finance"], 422
    visit_ids = [fine.pk, other.pk] if problem != "unknown" else [fine.pk, 999999]
    response = as_user(w["supervisor"]).post("/visits/reassign", {"ids": visit_ids, "assignee_id": assignee.pk})
    assert response.status_code == expected, response.content
    fine.refresh_from_db()
    assert fine.assignee == w["agent"] and fine.version == 1
    assert not AuditEvent.objects.filter(code="visit.reassigned").exists()


def test_agents_may_not_reassign(as_user, w, north):
    visit = plan(w, north)
    response = as_user(w["agent"]).post("/visits/reassign", {"ids": [visit.pk], "assignee_id": w["agent"].pk})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [], "assignee_id": 1},
        {"ids": list(range(1, 202)), "assignee_id": 1},
        {"ids": ["a"], "assignee_id": 1},
    ],
)
def test_bad_reassign_bodies_are_422(as_user, w, body):
    response = as_user(w["supervisor"]).post("/visits/reassign", body)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


# --- rules and questionnaires ----------------------------------------------------------


def test_visit_rules_are_listed_and_read(as_user, w):
    survey = _survey()
    cadence = VisitRule.objects.create(
        name="A 类月访", kind=RuleKind.CADENCE, visit_type="大客户跟踪", questionnaire=survey, visits_per_month=2
    )
    event = VisitRule.objects.create(
        name="术后回访", kind=RuleKind.EVENT, visit_type="术后回访", trigger="service_done", offsets_days=[1, 7, 30]
    )
    paused = VisitRule.objects.create(name="旧规则", kind=RuleKind.CADENCE, visit_type="跟踪", is_active=False)
    api = as_user(w["supervisor"])
    assert ids(api.get("/visit-rules")) == [cadence.pk, event.pk, paused.pk]
    assert ids(api.get("/visit-rules", kind="event")) == [event.pk]
    assert ids(api.get("/visit-rules", active="false")) == [paused.pk]
    page = api.get("/visit-rules", limit=2).json()
    assert ids(api.get("/visit-rules", limit=2, cursor=page["next_cursor"])) == [paused.pk]
    body = api.get(f"/visit-rules/{event.pk}").json()
    assert body["offsets_days"] == [1, 7, 30] and body["trigger"] == "service_done" and body["kind_name"]
    assert api.get(f"/visit-rules/{cadence.pk}").json()["questionnaire"] == {"id": survey.pk, "name": "满意度回访"}
    assert api.get("/visit-rules/999999").status_code == 404
    assert api.get("/visit-rules", kind="weekly").status_code == 422
    # Agents work visits; the rules are the supervisors' and managers' business.
    assert as_user(w["agent"]).get("/visit-rules").status_code == 403


def test_questionnaires_list_every_version_newest_first(as_user, w):
    survey = _survey()
    questionnaire_publish(actor=None, questionnaire=survey, questions=[{"key": "o", "text": "整体", "type": "score"}])
    retired = Questionnaire.objects.create(code="old", name="旧问卷", is_active=False)
    api = as_user(w["agent"])
    assert ids(api.get("/questionnaires")) == [survey.pk, retired.pk]
    assert ids(api.get("/questionnaires", active="true")) == [survey.pk]
    body = api.get(f"/questionnaires/{survey.pk}").json()
    assert body["current_version"] == 2 and [v["number"] for v in body["versions"]] == [2, 1]
    assert body["versions"][1]["questions"][0]["key"] == "overall"
    assert api.get(f"/questionnaires/{retired.pk}").json()["versions"] == []
    assert api.get("/questionnaires/999999").status_code == 404
    assert api.get("/questionnaires/abc").status_code == 422


# --- the document ----------------------------------------------------------------------


def test_openapi_documents_every_visit_endpoint_and_its_errors(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    operations = [
        (path, method, op)
        for path, item in doc["paths"].items()
        if path.startswith(("/api/v1/visits", "/api/v1/visit-rules", "/api/v1/questionnaires"))
        for method, op in item.items()
    ]
    assert len(operations) == 18
    op_ids = [op["operationId"] for _p, _m, op in operations]
    assert len(set(op_ids)) == len(op_ids)
    assert all(i.startswith(("visits_", "visit_rules_", "questionnaires_")) for i in op_ids)
    for path, method, op in operations:
        statuses = set(op["responses"])
        assert {"401", "403"} <= statuses, (method, path, statuses)
        if "{" in path:
            assert {"404", "422"} <= statuses, (method, path, statuses)
        if method in {"post", "patch"}:
            assert {"409", "422"} <= statuses, (method, path, statuses)
        for status in statuses - {"200", "201"}:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorOut"), (method, path, status)
    for path in ("/api/v1/visits", "/api/v1/visits/{visit_id}/record", "/api/v1/visit-rules", "/api/v1/questionnaires"):
        parameters = doc["paths"][path]["post"]["parameters"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parameters)
    assert doc["paths"]["/api/v1/visit-rules"]["get"]["tags"] == ["visit-rules"]
    assert doc["paths"]["/api/v1/questionnaires"]["get"]["tags"] == ["questionnaires"]


def test_funnel_filters_finished_outcome_arrival_deal_and_unassigned(as_user, w, north, south):
    reached = plan(w, north)
    visit_record(actor=w["agent"], visit=reached, outcome="reached")
    Visit.objects.filter(pk=reached.pk).update(arrived=True, deal=True)
    failed = plan(w, north)
    visit_record(actor=w["agent"], visit=failed, outcome="refused")
    planned = plan(w, south, assignee=w["agent_south"])
    team = plan(w, south, assignee=w["agent_south"])
    Visit.objects.filter(pk=team.pk).update(assignee=None, team=w["service"])
    api = as_user(w["manager"])

    assert ids(api.get("/visits", status="finished")) == [reached.pk, failed.pk]
    assert ids(api.get("/visits", status="finished,planned")) == [reached.pk, failed.pk, planned.pk, team.pk]
    assert ids(api.get("/visits", outcome="reached")) == [reached.pk]
    assert ids(api.get("/visits", arrived="1")) == [reached.pk]
    assert ids(api.get("/visits", deal="0")) == [failed.pk, planned.pk, team.pk]
    assert ids(api.get("/visits", assignee="none")) == [team.pk]
    assert ids(api.get("/visits", assignee=f"none,{w['agent_south'].pk}")) == [planned.pk, team.pk]
    for bad in ({"outcome": "maybe"}, {"arrived": "yes"}, {"status": "finished,x"}, {"assignee": "none,abc"}):
        response = api.get("/visits", **bad)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "validation_error"
