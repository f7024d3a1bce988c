"""Test data for the return-visit pages: a questionnaire with one question of each type,
visits planned through the service (then moved to a past date where a test needs one
overdue), and finished visits written the way `visit_record` leaves them."""

from __future__ import annotations

import datetime

from django.utils import timezone

from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Questionnaire, Visit
from kefu.visits.questionnaires import questionnaire_publish
from kefu.visits.services.visits import visit_create
from tests.factories_customers import make_customer

QUESTIONS = [
    {"key": "overall", "text": "您对本次服务满意吗？", "type": "score", "required": True},
    {"key": "attitude", "text": "服务人员的态度", "type": "single", "choices": ["很好", "一般", "较差"]},
    {"key": "good", "text": "哪些方面做得好？", "type": "multiple", "choices": ["态度", "速度", "质量"]},
    {"key": "recommend", "text": "您愿意向朋友推荐我们吗？", "type": "nps"},
    {"key": "advice", "text": "您还有什么建议？", "type": "text"},
]


def make_survey(code: str = "satisfaction", name: str = "满意度回访") -> Questionnaire:
    questionnaire = Questionnaire.objects.create(code=code, name=name)
    questionnaire_publish(actor=None, questionnaire=questionnaire, questions=QUESTIONS)
    return questionnaire


def plan(
    w,
    *,
    survey=None,
    assignee=None,
    customer=None,
    due: datetime.date | None = None,
    name: str = "回访客户",
    region=None,
    **customer_fields,
) -> Visit:
    """A visit planned by the manager; `due` in the past is written directly (the service
    refuses to plan into the past, but visits do become overdue)."""
    customer = customer or make_customer(w["manager"], name=name, region=region or w["north"], **customer_fields)
    today = timezone.localdate()
    visit = visit_create(
        actor=w["manager"],
        customer=customer,
        visit_type="满意度回访",
        due_date=max(due or today, today),
        assignee=assignee or w["agent"],
        questionnaire=survey,
    )
    if due is not None and due < today:
        Visit.objects.filter(pk=visit.pk).update(due_date=due)
        visit.refresh_from_db()
    return visit


def finish(visit: Visit, *, satisfaction=None, nps=None, done_at=None, outcome=Outcome.REACHED, **fields) -> Visit:
    """Mark a visit done as if it had been recorded (for statistics and history)."""
    status = VisitStatus.DONE if outcome == Outcome.REACHED else VisitStatus.FAILED
    values = {
        "status": status,
        "outcome": outcome,
        "attempts": 1,
        "satisfaction": satisfaction,
        "nps": nps,
        "done_at": done_at or timezone.now(),
        "done_by": visit.assignee,
        **fields,
    }
    Visit.objects.filter(pk=visit.pk).update(**values)
    visit.refresh_from_db()
    return visit


def login(client, user):
    client.force_login(user)
    return client
