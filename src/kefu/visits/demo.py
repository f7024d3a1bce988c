"""A year of demo return visits for an industry profile (`kefu init --profile X --demo`):
the cadence rules planned month by month over the past twelve months, the past visits
worked (most reached with answers to their questionnaire, some never reached, a few
left overdue), post-service visits for the profiles that have them, and this month's
plan — so the call lists, oversight and statistics have something to show.

Idempotent: planning is (rule, customer, period)-unique and only visits still planned
in the past are worked, so a second run adds nothing."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kefu.core.models import User
from kefu.customers.models import Customer
from kefu.visits.choices import Outcome, QuestionType, RuleKind, Trigger, VisitStatus
from kefu.visits.models import Visit, VisitRule
from kefu.visits.questionnaires import summary_scores
from kefu.visits.services.events import visit_event_record
from kefu.visits.services.planning import plan_all, plan_cadence

MONTHS = 12
NOTES = ("客户对服务满意", "客户提出希望缩短等待时间", "客户表示会推荐亲友", "已提醒下次保养时间", "客户暂无新需求")


def _months_back(today: datetime.date, n: int) -> list[datetime.date]:
    first = today.replace(day=1)
    months = []
    for _ in range(n):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        months.append(first)
    return list(reversed(months))


def _answers(rng: random.Random, questions: list[dict]) -> dict:
    answers = {}
    for q in questions:
        if q["type"] == QuestionType.SCORE:
            answers[q["key"]] = rng.choices([5, 4, 3, 2, 1], weights=[45, 35, 12, 5, 3])[0]
        elif q["type"] == QuestionType.NPS:
            answers[q["key"]] = rng.choices(range(11), weights=[1, 1, 1, 1, 2, 3, 5, 10, 20, 25, 31])[0]
        elif q["type"] == QuestionType.SINGLE:
            answers[q["key"]] = rng.choices(
                q["choices"], weights=[70] + [30 // max(len(q["choices"]) - 1, 1)] * (len(q["choices"]) - 1)
            )[0]
        elif q["type"] == QuestionType.MULTIPLE:
            answers[q["key"]] = rng.sample(q["choices"], k=rng.randint(1, min(2, len(q["choices"]))))
        elif rng.random() < 0.3:
            answers[q["key"]] = rng.choice(NOTES)
    return answers


def _work_past_visits(today: datetime.date, rng: random.Random, workers: list[User]) -> int:
    """Give the planned past visits an outcome as if the agents had called."""
    tz = timezone.get_current_timezone()
    past = list(
        Visit.objects.filter(status=VisitStatus.PLANNED, due_date__lt=today)
        .select_related("questionnaire_version")
        .order_by("pk")
    )
    changed = []
    for visit in past:
        if (today - visit.due_date).days <= 6 and rng.random() < 0.4:
            continue  # a few stay overdue on the call lists
        visit.assignee_id = visit.assignee_id or rng.choice(workers).pk
        moment = datetime.datetime.combine(visit.due_date, datetime.time(9, 30), tzinfo=tz)
        visit.done_at = moment + datetime.timedelta(minutes=rng.randint(0, 480))
        visit.done_by_id = visit.assignee_id
        visit.channel = rng.choices(["phone", "onsite", "messaging"], weights=[75, 15, 10])[0]
        if rng.random() < 0.82:
            visit.outcome, visit.status, visit.attempts = Outcome.REACHED, VisitStatus.DONE, rng.choice([1, 1, 1, 2])
            questions = visit.questionnaire_version.questions if visit.questionnaire_version else []
            visit.answers = _answers(rng, questions)
            visit.satisfaction, visit.nps = summary_scores(visit.questionnaire_version, visit.answers)
            visit.notes = rng.choice(NOTES)
            visit.arrived = rng.random() < 0.35
            visit.deal = visit.arrived and rng.random() < 0.5
            visit.deal_amount = Decimal(rng.randrange(800, 30000, 100)) if visit.deal else None
        else:
            visit.outcome = rng.choice([Outcome.NO_ANSWER, Outcome.NO_ANSWER, Outcome.WRONG_NUMBER, Outcome.REFUSED])
            visit.status, visit.attempts = (
                VisitStatus.FAILED,
                visit.max_attempts if visit.outcome == Outcome.NO_ANSWER else 1,
            )
        changed.append(visit)
    fields = ["assignee", "done_at", "done_by", "channel", "outcome", "status", "attempts", "answers", "satisfaction"]
    fields += ["nps", "notes", "arrived", "deal", "deal_amount"]
    Visit.objects.bulk_update(changed, fields, batch_size=500)
    return len(changed)


def demo_visits_load(profile_code: str) -> int:
    """Plan and work a year of visits for the demo customers. Returns visits created."""
    today = timezone.localdate()
    rng = random.Random(f"visits-{profile_code}")
    workers = list(User.objects.filter(username__in=("agent", "agent2", "account"), is_active=True))
    if not workers:
        return 0
    before = Visit.objects.count()
    with transaction.atomic():
        for month in _months_back(today, MONTHS):
            for rule in VisitRule.objects.filter(kind=RuleKind.CADENCE, is_active=True).select_related(
                "customer_class"
            ):
                plan_cadence(rule, month=month, today=month)
        service_rules = VisitRule.objects.filter(trigger=Trigger.SERVICE_DONE, is_active=True).exists()
        if service_rules:
            customers = list(Customer.objects.filter(merged_into__isnull=True).order_by("pk")[:120])
            for index, customer in enumerate(customers):
                day = today - datetime.timedelta(days=rng.randint(1, 330))
                visit_event_record(customer=customer, trigger=Trigger.SERVICE_DONE, on_date=day, ref=f"demo-{index}")
        # Visits of customers nobody owns go to the demo agents, region by region.
        unassigned = Visit.objects.filter(assignee__isnull=True, team__isnull=True)
        for region_id in set(unassigned.values_list("region_id", flat=True)):
            unassigned.filter(region_id=region_id).update(assignee=workers[(region_id or 0) % len(workers)])
        _work_past_visits(today, rng, workers)
        plan_all(today=today)
        Visit.objects.filter(assignee__isnull=True, team__isnull=True, status=VisitStatus.PLANNED).update(
            assignee=workers[0]
        )
    return Visit.objects.count() - before
