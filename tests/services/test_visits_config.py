"""Visit configuration: rules checked as a whole (cadence, event, project stage, who
calls), pausing cancels planned visits at once and resuming brings this month's back,
questionnaires with versions, and campaign lists built from the archive list's own
filters and scope with one INSERT … SELECT."""

import datetime

import pytest
from django.utils import timezone

from kefu.core.errors import AccessDenied, Conflict, InvalidState, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.choices import FieldType, Lifecycle
from kefu.customers.models import Customer, CustomField
from kefu.visits.choices import AssignTo, RuleKind, Trigger, VisitStatus
from kefu.visits.models import Campaign, Questionnaire, Visit, VisitRule
from kefu.visits.services import config as svc
from kefu.visits.services.planning import plan_all
from tests.factories_customers import CustomerClassFactory, make_customer

pytestmark = pytest.mark.django_db

QUESTIONS = [{"key": "overall", "text": "总体满意度", "type": "score", "required": True}]


@pytest.fixture
def w(ticket_world):
    w = dict(ticket_world)
    w["A"] = CustomerClassFactory(code="A", visits_per_month=1)
    w["B"] = CustomerClassFactory(code="B", visits_per_month=2)
    w["Z"] = CustomerClassFactory(code="Z", visits_per_month=0)
    w["q"] = svc.questionnaire_create(actor=w["manager"], code="sat", name="满意度", questions=QUESTIONS)
    w["start"] = CustomField.objects.create(key="start_date", label="开工日期", field_type=FieldType.DATE)
    return w


def _cadence(w, **kwargs):
    values = {"name": "A类跟踪", "kind": RuleKind.CADENCE, "visit_type": "定期跟踪", "customer_class": w["A"]}
    return svc.visit_rule_create(actor=w["manager"], **{**values, **kwargs})


def _event(w, **kwargs):
    values = {"name": "术后回访", "kind": RuleKind.EVENT, "visit_type": "术后回访", "trigger": Trigger.SERVICE_DONE}
    return svc.visit_rule_create(actor=w["manager"], **{**values, **kwargs})


def _refused(call, field, audit_code):
    rules, events = VisitRule.objects.count(), AuditEvent.objects.filter(code=audit_code).count()
    with pytest.raises(ValidationFailed) as err:
        call()
    assert err.value.details["field"] == field
    assert VisitRule.objects.count() == rules
    assert AuditEvent.objects.filter(code=audit_code).count() == events
    return err.value


# --- rules ----------------------------------------------------------------------------


def test_cadence_rule_needs_a_class_or_key_accounts(w):
    _refused(lambda: _cadence(w, customer_class=None), "customer_class", "visit_rule.created")
    rule = _cadence(w, customer_class=None, key_accounts_only=True, name="大客户跟踪")
    assert rule.key_accounts_only and rule.customer_class is None


def test_cadence_rule_clears_event_fields_and_is_audited(w):
    rule = _cadence(w, trigger=Trigger.BIRTHDAY, offsets_days=[3], date_field="start_date", visits_per_month=4)
    rule.refresh_from_db()
    assert (rule.trigger, rule.offsets_days, rule.date_field, rule.visits_per_month) == ("", [], "", 4)
    event = AuditEvent.objects.get(code="visit_rule.created", object_id=str(rule.pk))
    assert event.data["customer_class"] == w["A"].pk


def test_cadence_rule_refuses_a_class_without_visits(w):
    error = _refused(lambda: _cadence(w, customer_class=w["Z"]), "visits_per_month", "visit_rule.created")
    assert "每月跟踪次数为 0" in error.message
    assert _cadence(w, customer_class=w["Z"], visits_per_month=2).visits_per_month == 2


def test_event_rule_needs_a_trigger(w):
    _refused(lambda: _event(w, trigger=""), "trigger", "visit_rule.created")
    _refused(lambda: _event(w, trigger="payday"), "trigger", "visit_rule.created")


@pytest.mark.parametrize("offsets", [[-1], [366], ["x"], [True], [1.5], list(range(11)), "1,7"])
def test_offsets_are_at_most_ten_whole_days_up_to_a_year(w, offsets):
    _refused(lambda: _event(w, offsets_days=offsets), "offsets_days", "visit_rule.created")


def test_offsets_are_sorted_without_repeats(w):
    rule = _event(w, offsets_days=[30, 1, 7, 7, 0, 365])
    assert rule.offsets_days == [0, 1, 7, 30, 365]
    assert rule.visits_per_month is None


def test_project_stage_counts_from_an_active_date_field(w):
    def stage(field):
        return lambda: _event(w, name="开工追访", trigger=Trigger.PROJECT_STAGE, date_field=field, offsets_days=[7])

    _refused(stage(""), "date_field", "visit_rule.created")
    _refused(stage("nonexistent"), "date_field", "visit_rule.created")
    CustomField.objects.create(key="foreman", label="工长", field_type=FieldType.TEXT)
    _refused(stage("foreman"), "date_field", "visit_rule.created")
    CustomField.objects.create(key="old_date", label="旧日期", field_type=FieldType.DATE, is_active=False)
    _refused(stage("old_date"), "date_field", "visit_rule.created")
    rule = stage("start_date")()
    assert rule.date_field == "start_date"
    # Other triggers do not keep a date field.
    assert _event(w, name="生日", trigger=Trigger.BIRTHDAY, date_field="start_date").date_field == ""


def test_who_calls(w):
    _refused(lambda: _cadence(w, assign_to=AssignTo.TEAM), "team", "visit_rule.created")
    _refused(lambda: _cadence(w, assign_to=AssignTo.USER), "assignee", "visit_rule.created")
    # Finance staff cannot record visits.
    _refused(lambda: _cadence(w, assign_to=AssignTo.USER, assignee=w["finance"]), "assignee", "visit_rule.created")
    _refused(lambda: _cadence(w, assign_to=AssignTo.TICKET_ASSIGNEE), "assign_to", "visit_rule.created")
    _refused(lambda: _cadence(w, assign_to="robot"), "assign_to", "visit_rule.created")
    team = _cadence(w, assign_to=AssignTo.TEAM, team=w["service"], assignee=w["agent"])
    assert (team.team, team.assignee) == (w["service"], None)
    person = _cadence(w, name="指定", assign_to=AssignTo.USER, assignee=w["agent"], team=w["service"])
    assert (person.team, person.assignee) == (None, w["agent"])
    confirm = _event(w, name="工单回访", trigger=Trigger.TICKET_RESOLVED, assign_to=AssignTo.TICKET_ASSIGNEE)
    assert confirm.assign_to == AssignTo.TICKET_ASSIGNEE


def test_questionnaire_must_have_a_version(w):
    empty = svc.questionnaire_create(actor=w["manager"], code="empty", name="空问卷")
    _refused(lambda: _cadence(w, questionnaire=empty), "questionnaire", "visit_rule.created")
    assert _cadence(w, questionnaire=w["q"]).questionnaire == w["q"]


def test_names_are_unique_and_limits_hold(w):
    _cadence(w)
    _refused(lambda: _cadence(w, name="a类跟踪"), "name", "visit_rule.created")
    _refused(lambda: _cadence(w, name=" "), "name", "visit_rule.created")
    _refused(lambda: _cadence(w, name="x", max_attempts=11), "max_attempts", "visit_rule.created")
    _refused(lambda: _cadence(w, name="x", retry_working_days=31), "retry_working_days", "visit_rule.created")
    _refused(lambda: _cadence(w, name="x", channel="fax"), "channel", "visit_rule.created")


@pytest.mark.parametrize("who", ["supervisor", "agent", "director"])
def test_only_settings_managers_write_rules(w, who):
    with pytest.raises(AccessDenied):
        svc.visit_rule_create(actor=w[who], name="x", kind=RuleKind.CADENCE, visit_type="y", customer_class=w["A"])
    assert not VisitRule.objects.exists()


def test_update_checks_the_whole_rule_and_refuses_stale_forms(w):
    rule = _cadence(w)
    stamp = rule.updated_at
    changes = svc.visit_rule_update(
        actor=w["manager"], rule=rule, values={"visits_per_month": 2, "channel": "onsite"}, expected_updated_at=stamp
    )
    assert set(changes) == {"visits_per_month", "channel"}
    assert AuditEvent.objects.filter(code="visit_rule.updated", object_id=str(rule.pk)).count() == 1
    with pytest.raises(Conflict):
        svc.visit_rule_update(actor=w["manager"], rule=rule, values={"name": "新名"}, expected_updated_at=stamp)
    with pytest.raises(ValidationFailed) as err:
        svc.visit_rule_update(actor=w["manager"], rule=rule, values={"kind": RuleKind.EVENT})
    assert err.value.details["field"] == "kind"
    with pytest.raises(ValidationFailed):
        svc.visit_rule_update(actor=w["manager"], rule=rule, values={"customer_class": None})
    with pytest.raises(ValidationFailed):
        svc.visit_rule_update(actor=w["manager"], rule=rule, values={"is_active": False})
    rule.refresh_from_db()
    assert (rule.name, rule.customer_class, rule.kind, rule.is_active) == ("A类跟踪", w["A"], RuleKind.CADENCE, True)


def test_trigger_is_fixed_once_the_rule_planned_visits(w):
    rule = _event(w, offsets_days=[1])
    svc.visit_rule_update(actor=w["manager"], rule=rule, values={"trigger": Trigger.BOOKING_FULFILLED})
    customer = make_customer(w["manager"], name="客户", phone="")
    from kefu.visits.services.events import visit_event_record

    assert visit_event_record(
        customer=customer, trigger=Trigger.BOOKING_FULFILLED, on_date=timezone.localdate(), ref="b1"
    )
    with pytest.raises(ValidationFailed) as err:
        svc.visit_rule_update(actor=w["manager"], rule=rule, values={"trigger": Trigger.SERVICE_DONE})
    assert err.value.details["field"] == "trigger"


def test_a_deactivated_class_does_not_block_other_edits(w):
    rule = _cadence(w)
    type(w["A"]).objects.filter(pk=w["A"].pk).update(is_active=False)
    svc.visit_rule_update(actor=w["manager"], rule=rule, values={"visit_type": "跟踪拜访"})
    with pytest.raises(ValidationFailed):
        _cadence(w, name="另一条", customer_class=type(w["A"]).objects.get(pk=w["A"].pk))


# --- pause and resume -----------------------------------------------------------------


@pytest.fixture
def planned(w):
    """Two A-class customers with this and next month's visits planned; one visit done."""
    rule = _cadence(w)
    kept = make_customer(w["manager"], name="甲", phone="", customer_class=w["A"], owner=w["agent"])
    lost = make_customer(w["manager"], name="乙", phone="", customer_class=w["A"], owner=w["agent"])
    today = timezone.localdate()
    plan_all(today=today)
    done = Visit.objects.filter(customer=kept).order_by("due_date").first()
    Visit.objects.filter(pk=done.pk).update(status=VisitStatus.DONE, done_at=timezone.now())
    return {"rule": rule, "kept": kept, "lost": lost, "today": today, "done": done}


def test_pausing_cancels_the_planned_visits_at_once(w, planned):
    rule = planned["rule"]
    before = Visit.objects.filter(rule=rule, status=VisitStatus.PLANNED).count()
    assert before == 3
    assert svc.visit_rule_pause(actor=w["manager"], rule=rule) == 3
    rule.refresh_from_db()
    assert not rule.is_active
    assert not Visit.objects.filter(rule=rule, status=VisitStatus.PLANNED).exists()
    assert Visit.objects.get(pk=planned["done"].pk).status == VisitStatus.DONE
    event = AuditEvent.objects.get(code="visit_rule.paused", object_id=str(rule.pk))
    assert event.data == {"cancelled": 3} and event.changes == {"is_active": [True, False]}
    with pytest.raises(InvalidState):
        svc.visit_rule_pause(actor=w["manager"], rule=rule)
    assert plan_all(today=planned["today"]).created == 0


def test_pausing_needs_the_permission(w, planned):
    with pytest.raises(AccessDenied):
        svc.visit_rule_pause(actor=w["supervisor"], rule=planned["rule"])
    assert VisitRule.objects.get(pk=planned["rule"].pk).is_active
    assert Visit.objects.filter(status=VisitStatus.PLANNED).count() == 3


def test_resuming_brings_back_what_the_pause_cancelled(w, planned):
    rule, today = planned["rule"], planned["today"]
    svc.visit_rule_pause(actor=w["manager"], rule=rule)
    Customer.objects.filter(pk=planned["lost"].pk).update(lifecycle=Lifecycle.LOST)
    reopened = svc.visit_rule_resume(actor=w["manager"], rule=rule, today=today)
    assert reopened == 1  # the kept customer's next-month slot; this month's was done
    back = Visit.objects.get(rule=rule, status=VisitStatus.PLANNED)
    assert back.customer == planned["kept"] and back.due_date >= today
    assert Visit.objects.filter(customer=planned["lost"], status=VisitStatus.CANCELLED).count() == 2
    assert AuditEvent.objects.get(code="visit_rule.resumed").data == {"reopened": 1}
    with pytest.raises(InvalidState):
        svc.visit_rule_resume(actor=w["manager"], rule=rule)
    assert plan_all(today=today).created == 0


def test_resumed_slot_past_its_day_is_due_today(w, planned):
    rule = planned["rule"]
    visit = Visit.objects.filter(rule=rule, customer=planned["lost"]).order_by("due_date").last()
    svc.visit_rule_pause(actor=w["manager"], rule=rule)
    later = visit.due_date + datetime.timedelta(days=1)
    svc.visit_rule_resume(actor=w["manager"], rule=rule, today=later)
    assert Visit.objects.get(pk=visit.pk).due_date == later


def test_resuming_skips_confirmation_calls_of_tickets_no_longer_waiting(w):
    from kefu.tickets.models import Ticket
    from tests.factories_tickets import make_ticket

    rule = _event(w, name="工单回访", trigger=Trigger.TICKET_RESOLVED)
    waiting, closed = make_ticket(w["manager"]), make_ticket(w["manager"])
    Ticket.objects.filter(pk=waiting.pk).update(status="resolved")
    Ticket.objects.filter(pk=closed.pk).update(status="closed")
    for ticket in (waiting, closed):
        Visit.objects.create(
            customer=ticket.customer,
            rule=rule,
            ticket=ticket,
            period_key=f"ticket:{ticket.pk}:c1",
            visit_type="工单回访",
            due_date=timezone.localdate(),
        )
    assert svc.visit_rule_pause(actor=w["manager"], rule=rule) == 2
    assert svc.visit_rule_resume(actor=w["manager"], rule=rule) == 1
    assert Visit.objects.get(status=VisitStatus.PLANNED).ticket == waiting


# --- questionnaires -------------------------------------------------------------------


def test_questionnaire_versions_keep_old_questions(w):
    q = w["q"]
    assert q.current_version().number == 1
    second = svc.questionnaire_publish(
        actor=w["manager"], questionnaire=q, questions=[*QUESTIONS, {"key": "advice", "text": "建议", "type": "text"}]
    )
    assert second.number == 2
    assert q.versions.get(number=1).questions[0]["key"] == "overall" and len(q.versions.get(number=1).questions) == 1
    assert AuditEvent.objects.filter(code="questionnaire.published", object_id=str(q.pk)).count() == 2


def test_questionnaire_create_checks_code_and_name(w):
    for code, name, field in (("Bad Code", "x", "code"), ("sat", "另一个", "code"), ("other", "满意度", "name")):
        with pytest.raises(ValidationFailed) as err:
            svc.questionnaire_create(actor=w["manager"], code=code, name=name)
        assert err.value.details["field"] == field
    with pytest.raises(ValidationFailed):
        svc.questionnaire_create(actor=w["manager"], code="broken", name="坏题", questions=[{"key": "1"}])
    assert not Questionnaire.objects.filter(code="broken").exists()
    with pytest.raises(AccessDenied):
        svc.questionnaire_create(actor=w["supervisor"], code="sup", name="主管的")
    assert Questionnaire.objects.count() == 1


def test_questionnaire_in_use_cannot_be_retired(w):
    rule = _cadence(w, questionnaire=w["q"])
    with pytest.raises(ValidationFailed):
        svc.questionnaire_set_active(actor=w["manager"], questionnaire=w["q"], active=False)
    svc.visit_rule_pause(actor=w["manager"], rule=rule)
    svc.questionnaire_set_active(actor=w["manager"], questionnaire=w["q"], active=False)
    assert not Questionnaire.objects.get(pk=w["q"].pk).is_active
    # A retired questionnaire is not offered to new rules.
    _refused(lambda: _cadence(w, name="新规则", questionnaire=w["q"]), "questionnaire", "visit_rule.created")


# --- campaigns ------------------------------------------------------------------------


@pytest.fixture
def archive(w):
    """North: two A customers (one without an owner), one B, one lost A; south: one A."""
    m = w["manager"]
    return {
        "a1": make_customer(m, name="北甲一", phone="", customer_class=w["A"], region=w["north"], owner=w["agent"]),
        "a2": make_customer(m, name="北甲二", phone="", customer_class=w["A"], region=w["north"]),
        "b": make_customer(m, name="北乙", phone="", customer_class=w["B"], region=w["north"], owner=w["agent"]),
        "lost": make_customer(
            m, name="北流失", phone="", customer_class=w["A"], region=w["north"], lifecycle=Lifecycle.LOST
        ),
        "south": make_customer(
            m, name="南甲", phone="", customer_class=w["A"], region=w["south"], owner=w["agent_south"]
        ),
    }


def _campaign(w, actor=None, **kwargs):
    values = {
        "name": "二次开发",
        "visit_type": "二次开发",
        "filters": {"customer_class": str(w["A"].pk)},
        "due_date": timezone.localdate() + datetime.timedelta(days=3),
    }
    return svc.campaign_create(actor=actor or w["manager"], **{**values, **kwargs})


def test_campaign_visits_the_filtered_list_once_each(w, archive):
    campaign = _campaign(w, filters={"customer_class": [str(w["A"].pk)], "sort": "name", "cursor": "abc"})
    visits = Visit.objects.filter(campaign=campaign)
    assert {v.customer for v in visits} == {archive["a1"], archive["a2"], archive["south"]}
    assert campaign.visit_count == 3
    assert campaign.filters == {"customer_class": str(w["A"].pk)}
    a1 = visits.get(customer=archive["a1"])
    assert (a1.assignee, a1.region, a1.status, a1.visit_type) == (w["agent"], w["north"], "planned", "二次开发")
    assert a1.due_date == campaign.due_date and a1.rule is None and a1.version == 1 and a1.answers == {}
    assert visits.get(customer=archive["a2"]).assignee is None
    assert len({v.period_key for v in visits}) == 1
    event = AuditEvent.objects.get(code="campaign.created", object_id=str(campaign.pk))
    assert event.data["count"] == 3 and event.data["filters"] == {"customer_class": str(w["A"].pk)}


def test_campaign_uses_the_creators_scope_and_several_filters(w, archive):
    campaign = _campaign(w, actor=w["supervisor"], filters={"customer_class": f"{w['A'].pk},{w['B'].pk}"})
    # The supervisor sees the north only; the lost customer is left out.
    assert set(Visit.objects.filter(campaign=campaign).values_list("customer__name", flat=True)) == {
        "北甲一",
        "北甲二",
        "北乙",
    }
    # Control characters are dropped, as the archive's search drops them (PostgreSQL refuses NUL in JSON).
    south = _campaign(w, filters={"region": str(w["south"].pk), "q": "\x00南甲"}, name="南区")
    assert list(Visit.objects.filter(campaign=south).values_list("customer", flat=True)) == [archive["south"].pk]
    assert south.filters == {"region": str(w["south"].pk), "q": "南甲"}


def test_campaign_with_a_person_and_a_questionnaire(w, archive):
    campaign = _campaign(w, assign_to=AssignTo.USER, assignee=w["agent_south"], questionnaire=w["q"])
    visits = Visit.objects.filter(campaign=campaign)
    assert set(visits.values_list("assignee", flat=True)) == {w["agent_south"].pk}
    assert set(visits.values_list("questionnaire_version", flat=True)) == {w["q"].current_version().pk}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"filters": {"customer_class": "999999"}}, "filters"),  # nobody
        ({"filters": {"lifecycle": "lost"}}, "filters"),  # only lost customers
        ({"filters": {"status": "open"}}, "filters"),  # another page's address
        ({"filters": {"customer_class": "abc"}}, "filters"),
        ({"filters": {"created_from": "2026-13-01"}}, "filters"),
        ({"filters": {"q": {"x": 1}}}, "filters"),
        ({"filters": "customer_class=1"}, "filters"),
        ({"due_date": datetime.date(2020, 1, 1)}, "due_date"),
        ({"due_date": "2030-01-01"}, "due_date"),
        ({"assign_to": AssignTo.TEAM}, "assign_to"),
        ({"assign_to": AssignTo.USER}, "assignee"),
        ({"assign_to": AssignTo.USER, "assignee": "finance"}, "assignee"),
        ({"name": ""}, "name"),
        ({"visit_type": "x" * 41}, "visit_type"),
    ],
)
def test_campaign_refusals_leave_nothing(w, archive, change, field):
    if change.get("assignee") == "finance":
        change = {**change, "assignee": w["finance"]}
    with pytest.raises(ValidationFailed) as err:
        _campaign(w, **change)
    assert err.value.details["field"] == field
    assert not Campaign.objects.exists() and not Visit.objects.exists()
    assert not AuditEvent.objects.filter(code="campaign.created").exists()


def test_campaign_refuses_too_many_customers(w, archive, monkeypatch):
    monkeypatch.setattr("kefu.visits.services.config.campaigns.MAX_CUSTOMERS", 2)
    with pytest.raises(ValidationFailed) as err:
        _campaign(w)
    assert "超过一次最多" in err.value.message
    assert not Campaign.objects.exists() and not Visit.objects.exists()


def test_campaign_needs_the_permission(w, archive):
    for who in ("agent", "director"):
        with pytest.raises(AccessDenied):
            _campaign(w, actor=w[who])
    assert not Campaign.objects.exists() and not Visit.objects.exists()


def test_campaign_preview_counts_what_create_would_visit(w, archive):
    preview = svc.campaign_preview(actor=w["supervisor"], filters={"customer_class": str(w["A"].pk)})
    assert (preview.count, preview.without_owner, preview.too_many) == (2, 1, False)
    campaign = _campaign(w, actor=w["supervisor"])
    assert campaign.visit_count == preview.count
