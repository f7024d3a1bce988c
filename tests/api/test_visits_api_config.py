"""Changing the visit configuration through the API: rules created (idempotent),
edited (409 on a stale `updated_at`), paused and resumed; questionnaires created, given
new versions and retired — all through the configuration services, refused with the
field named and nothing changed, and only for whoever configures visits."""

import datetime
import json

import pytest
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.visits.choices import VisitStatus
from kefu.visits.models import Questionnaire, Visit, VisitRule
from tests.api.test_visits_api import Api, plan
from tests.factories_customers import CustomerClassFactory, make_customer

pytestmark = pytest.mark.django_db

QUESTIONS = [{"key": "overall", "text": "总体满意度", "type": "score", "required": True}]


@pytest.fixture
def w(ticket_world):
    w = dict(ticket_world)
    w["A"] = CustomerClassFactory(code="A", visits_per_month=1)
    return w


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


def _cadence(w, **fields):
    return {"name": "A类跟踪", "kind": "cadence", "visit_type": "定期跟踪", "customer_class_id": w["A"].pk, **fields}


def _patch(api, path, body):
    return api.client.patch(f"/api/v1{path}", data=json.dumps(body), content_type="application/json", **api.headers)


# --- rules -----------------------------------------------------------------------------


def test_create_a_rule_idempotently(as_user, w):
    api = as_user(w["manager"])
    first = api.post("/visit-rules", _cadence(w, visits_per_month=2, channel="onsite"), key="rule-1")
    again = api.post("/visit-rules", _cadence(w, visits_per_month=2, channel="onsite"), key="rule-1")
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json()
    rule = VisitRule.objects.get()
    body = first.json()
    assert body["id"] == rule.pk and body["customer_class"]["id"] == w["A"].pk and body["visits_per_month"] == 2
    assert body["channel"] == "onsite" and body["is_active"] and body["assign_to"] == "owner"
    assert AuditEvent.objects.filter(code="visit_rule.created").count() == 1


def test_an_event_rule_keeps_only_what_applies_to_it(as_user, w):
    response = as_user(w["manager"]).post(
        "/visit-rules",
        {
            "name": "术后回访",
            "kind": "event",
            "visit_type": "术后回访",
            "trigger": "service_done",
            "offsets_days": [30, 1, 7, 7],
            "visits_per_month": 3,
            "assign_to": "team",
            "team_id": w["service"].pk,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["offsets_days"] == [1, 7, 30] and body["visits_per_month"] is None
    assert body["team"]["id"] == w["service"].pk


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"customer_class_id": None}, "customer_class"),
        ({"customer_class_id": 999999}, "customer_class_id"),
        ({"questionnaire_id": 999999}, "questionnaire_id"),
        ({"name": "   "}, "name"),
        ({"assign_to": "team"}, "team"),
        ({"assign_to": "user", "assignee_id": 999999}, "assignee_id"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"retry_working_days": 31}, "retry_working_days"),
        ({"kind": "event", "trigger": "full_moon"}, "trigger"),
        ({"kind": "event", "trigger": "service_done", "offsets_days": [400]}, "offsets_days"),
    ],
)
def test_rule_refusals_name_the_field_and_create_nothing(as_user, w, fields, field):
    response = as_user(w["manager"]).post("/visit-rules", _cadence(w, **fields))
    assert response.status_code == 422, response.content
    assert response.json()["details"]["field"] == field
    assert not VisitRule.objects.exists() and not AuditEvent.objects.filter(code="visit_rule.created").exists()


@pytest.mark.parametrize(
    "fields",
    [{"kind": "weekly"}, {"name": "x" * 61}, {"offsets_days": "1,7"}, {"unknown": 1}, {"name": "A\x00"}],
)
def test_rule_bad_bodies_are_422(as_user, w, fields):
    response = as_user(w["manager"]).post("/visit-rules", _cadence(w, **fields))
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert not VisitRule.objects.exists()


def test_update_changes_only_what_is_sent_and_checks_updated_at(as_user, w):
    api = as_user(w["manager"])
    created = api.post("/visit-rules", _cadence(w)).json()
    response = _patch(api, f"/visit-rules/{created['id']}", {"updated_at": created["updated_at"], "max_attempts": 5})
    assert response.status_code == 200, response.content
    assert response.json()["max_attempts"] == 5 and response.json()["name"] == "A类跟踪"
    stale = _patch(api, f"/visit-rules/{created['id']}", {"updated_at": created["updated_at"], "name": "改名"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert VisitRule.objects.get().name == "A类跟踪"
    for body, field in (({"kind": "event"}, None), ({"name": None}, "name"), ({"max_attempts": 99}, "max_attempts")):
        refused = _patch(api, f"/visit-rules/{created['id']}", body)
        assert refused.status_code == 422, refused.content
        assert field is None or refused.json()["details"]["field"] == field
    assert VisitRule.objects.get().max_attempts == 5
    assert _patch(api, "/visit-rules/999999", {"name": "x"}).status_code == 404


def test_pause_cancels_planned_visits_and_resume_brings_them_back(as_user, w):
    api = as_user(w["manager"])
    rule_id = api.post("/visit-rules", _cadence(w)).json()["id"]
    customer = make_customer(w["manager"], name="A类客户", region=w["north"], customer_class=w["A"])
    visit = plan(w, customer)
    Visit.objects.filter(pk=visit.pk).update(rule_id=rule_id, due_date=timezone.localdate() + datetime.timedelta(1))
    paused = api.post(f"/visit-rules/{rule_id}/pause")
    assert paused.status_code == 200, paused.content
    assert paused.json()["visits"] == 1 and paused.json()["rule"]["is_active"] is False
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    again = api.post(f"/visit-rules/{rule_id}/pause")
    assert again.status_code == 409 and again.json()["code"] == "visit_rule_paused"
    resumed = api.post(f"/visit-rules/{rule_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["rule"]["is_active"] is True
    assert resumed.json()["visits"] == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED


# --- questionnaires --------------------------------------------------------------------


def test_questionnaire_create_publish_and_retire(as_user, w):
    api = as_user(w["manager"])
    created = api.post("/questionnaires", {"code": "sat", "name": "满意度", "questions": QUESTIONS}, key="q-1")
    assert created.status_code == 201, created.content
    assert api.post("/questionnaires", {"code": "sat", "name": "满意度", "questions": QUESTIONS}, key="q-1").json() == (
        created.json()
    )
    body = created.json()
    assert body["current_version"] == 1 and body["versions"][0]["questions"][0]["key"] == "overall"
    qid = body["id"]
    nps = {"key": "recommend", "text": "推荐度", "type": "nps"}
    published = api.post(f"/questionnaires/{qid}/versions", {"questions": [*QUESTIONS, nps]})
    assert published.status_code == 200, published.content
    assert published.json()["current_version"] == 2 and [v["number"] for v in published.json()["versions"]] == [2, 1]
    # The same questions again publish nothing new.
    assert api.post(f"/questionnaires/{qid}/versions", {"questions": [*QUESTIONS, nps]}).json()["current_version"] == 2
    bad = api.post(f"/questionnaires/{qid}/versions", {"questions": [{"key": "1x", "text": "题", "type": "score"}]})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "questions"
    assert Questionnaire.objects.get().versions.count() == 2

    retired = api.post(f"/questionnaires/{qid}/active", {"active": False})
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    again = api.post(f"/questionnaires/{qid}/active", {"active": False})
    assert again.status_code == 409
    duplicate = api.post("/questionnaires", {"code": "sat", "name": "另一份"})
    assert duplicate.status_code == 422 and duplicate.json()["details"]["field"] == "code"


def test_a_questionnaire_an_active_rule_asks_cannot_be_retired(as_user, w):
    api = as_user(w["manager"])
    qid = api.post("/questionnaires", {"code": "sat", "name": "满意度", "questions": QUESTIONS}).json()["id"]
    assert api.post("/visit-rules", _cadence(w, questionnaire_id=qid)).status_code == 201
    response = api.post(f"/questionnaires/{qid}/active", {"active": False})
    assert response.status_code == 422 and Questionnaire.objects.get().is_active


@pytest.mark.parametrize(
    "body",
    [
        {"code": "ok", "name": "x", "questions": [{"key": "a", "text": "t", "type": "score", "extra": 1}]},
        {"code": "ok", "name": "x", "questions": "overall"},
        {"code": "x" * 41, "name": "x"},
        {"code": "ok"},
        {"code": "ok", "name": "x", "questions": [{"key": "a", "text": "t", "type": "single", "choices": ["x" * 101]}]},
    ],
)
def test_questionnaire_bad_bodies_are_422(as_user, w, body):
    response = as_user(w["manager"]).post("/questionnaires", body)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert not Questionnaire.objects.exists()


def test_only_whoever_configures_visits_changes_them(as_user, w):
    for user in (w["supervisor"], w["agent"], w["director"]):
        api = as_user(user)
        assert api.post("/visit-rules", _cadence(w)).status_code == 403
        assert api.post("/questionnaires", {"code": "sat", "name": "满意度"}).status_code == 403
    assert not VisitRule.objects.exists() and not Questionnaire.objects.exists()
