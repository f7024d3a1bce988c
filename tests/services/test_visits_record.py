"""Working the call list: outcomes, answers against a versioned questionnaire, no-answer
rescheduling, a problem becoming a ticket, the ticket-confirmation visit, and scope."""

import datetime

import pytest
from django.utils import timezone

from kefu.core.errors import InvalidState, ValidationFailed
from kefu.customers.models import TimelineEntry
from kefu.tickets.choices import TicketStatus
from kefu.tickets.services import flow
from kefu.visits.choices import AssignTo, Outcome, RuleKind, Trigger, VisitStatus
from kefu.visits.models import Questionnaire, Visit, VisitRule
from kefu.visits.questionnaires import questionnaire_publish
from kefu.visits.selectors import call_list, visit_base, visit_stats
from kefu.visits.services.visits import ProblemInput, visit_create, visit_record
from tests.factories_customers import make_customer
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"key": "overall", "text": "您对本次服务满意吗？", "type": "score", "required": True},
    {"key": "recommend", "text": "您愿意向朋友推荐我们吗？", "type": "nps"},
    {"key": "good", "text": "哪些方面做得好？", "type": "multiple", "choices": ["态度", "速度", "质量"]},
]


@pytest.fixture
def survey(ticket_world):
    q = Questionnaire.objects.create(code="satisfaction", name="满意度回访")
    questionnaire_publish(actor=None, questionnaire=q, questions=QUESTIONS)
    return q


def _visit(w, survey, assignee=None, customer=None):
    customer = customer or make_customer(w["manager"], name="回访客户", region=w["north"])
    return visit_create(
        actor=w["manager"],
        customer=customer,
        visit_type="满意度回访",
        due_date=timezone.localdate(),
        assignee=assignee or w["agent"],
        questionnaire=survey,
    )


def test_reached_with_answers(ticket_world, survey):
    w = ticket_world
    visit = _visit(w, survey)
    visit = visit_record(
        actor=w["agent"],
        visit=visit,
        outcome=Outcome.REACHED,
        answers={"overall": "4", "recommend": 9, "good": ["态度", "质量"]},
        notes="客户满意",
    )
    assert visit.status == VisitStatus.DONE and visit.satisfaction == 4 and visit.nps == 9
    assert visit.answers == {"overall": 4, "recommend": 9, "good": ["态度", "质量"]}
    assert TimelineEntry.objects.filter(customer=visit.customer, kind="visit.recorded").exists()
    with pytest.raises(InvalidState):
        visit_record(actor=w["agent"], visit=visit, outcome=Outcome.REACHED, answers={"overall": 5})


@pytest.mark.parametrize(
    "answers",
    [{"overall": 6}, {"overall": "很好"}, {"recommend": 8}, {"good": ["价格"]}, {"unknown": 1}, ["overall"]],
)
def test_bad_answers_are_refused_and_nothing_changes(ticket_world, survey, answers):
    w = ticket_world
    visit = _visit(w, survey)
    with pytest.raises(ValidationFailed):
        visit_record(actor=w["agent"], visit=visit, outcome=Outcome.REACHED, answers=answers)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 0


def test_no_answer_three_times_over_working_days_then_failed(ticket_world, survey):
    w = ticket_world
    visit = _visit(w, survey)
    today = timezone.localdate()
    visit = visit_record(actor=w["agent"], visit=visit, outcome=Outcome.NO_ANSWER)
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 1 and visit.due_date > today
    visit = visit_record(actor=w["agent"], visit=visit, outcome=Outcome.NO_ANSWER)
    assert visit.status == VisitStatus.PLANNED and visit.attempts == 2
    visit = visit_record(actor=w["agent"], visit=visit, outcome=Outcome.NO_ANSWER)
    assert visit.status == VisitStatus.FAILED and visit.attempts == 3


def test_call_back_needs_a_future_time(ticket_world, survey):
    w = ticket_world
    visit = _visit(w, survey)
    with pytest.raises(ValidationFailed):
        visit_record(actor=w["agent"], visit=visit, outcome=Outcome.CALL_BACK)
    later = timezone.now() + datetime.timedelta(days=2)
    visit = visit_record(actor=w["agent"], visit=visit, outcome=Outcome.CALL_BACK, call_back_at=later)
    assert visit.status == VisitStatus.PLANNED and visit.due_date == timezone.localdate(later)


def test_problem_found_creates_a_linked_ticket(ticket_world, survey):
    w = ticket_world
    visit = _visit(w, survey)
    visit = visit_record(
        actor=w["agent"],
        visit=visit,
        outcome=Outcome.REACHED,
        answers={"overall": 2},
        problem=ProblemInput(kind_code="repair", title="阳台门关不严", description="回访中客户反映阳台门变形"),
    )
    ticket = visit.created_ticket
    assert ticket is not None and ticket.customer == visit.customer and ticket.kind.code == "repair"


def test_questionnaire_versions_keep_old_answers_meaningful(ticket_world, survey):
    w = ticket_world
    old = _visit(w, survey)
    v2 = questionnaire_publish(
        actor=None, questionnaire=survey, questions=[{"key": "overall", "text": "整体评价", "type": "score"}]
    )
    assert v2.number == 2
    new = _visit(w, survey, customer=old.customer)
    assert old.questionnaire_version.number == 1 and new.questionnaire_version == v2
    # The old visit is still answered against version 1 (its NPS question exists there).
    visit_record(actor=w["agent"], visit=old, outcome=Outcome.REACHED, answers={"overall": 5, "recommend": 10})
    with pytest.raises(ValidationFailed):
        visit_record(actor=w["agent"], visit=new, outcome=Outcome.REACHED, answers={"overall": 5, "recommend": 10})


def _confirmation_rule():
    return VisitRule.objects.create(
        name="工单回访确认",
        kind=RuleKind.EVENT,
        trigger=Trigger.TICKET_RESOLVED,
        visit_type="投诉回访",
        assign_to=AssignTo.TICKET_ASSIGNEE,
    )


def _resolved(w):
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"]])
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已修复")
    return flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复")


@pytest.mark.parametrize("satisfied", [True, False])
def test_ticket_confirmation_visit_confirms_or_reopens(ticket_world, satisfied):
    w = ticket_world
    _confirmation_rule()
    ticket = _resolved(w)
    visit = Visit.objects.get(ticket=ticket)
    assert visit.assignee == w["agent"] and visit.period_key == f"ticket:{ticket.pk}:c1"
    with pytest.raises(ValidationFailed):
        visit_record(actor=w["agent"], visit=visit, outcome=Outcome.REACHED)
    visit_record(actor=w["agent"], visit=visit, outcome=Outcome.REACHED, satisfied=satisfied, notes="客户反馈")
    ticket.refresh_from_db()
    assert ticket.status == (TicketStatus.CONFIRMED if satisfied else TicketStatus.ROUTED)
    if not satisfied:
        # The next resolution plans a new confirmation visit for the new cycle.
        (routing,) = ticket.routings.all()
        flow.routing_reply(actor=w["engineer"], routing=routing, reply="二次维修")
        flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="二次维修完成")
        assert Visit.objects.filter(ticket=ticket).count() == 2


def test_scope_agent_own_list_account_manager_region(ticket_world, survey, make_user):
    w = ticket_world
    mine = _visit(w, survey)
    theirs = _visit(
        w, survey, assignee=w["agent_south"], customer=make_customer(w["manager"], name="南区", region=w["south"])
    )
    assert list(visit_base(w["agent"])) == [mine]
    assert list(call_list(user=w["agent"])) == [mine]
    account = make_user("account_manager", username="am", region=w["north"])
    assert list(visit_base(account)) == [mine]
    assert set(visit_base(w["manager"])) == {mine, theirs}
    assert visit_stats(visit_base(w["manager"]))["planned"] == 2
