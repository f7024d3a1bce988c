"""Planning return visits from the rules, set-based: one INSERT … SELECT per cadence rule
and slot (ON CONFLICT DO NOTHING against the unique rule × customer × period), so
planning twice plans once and a million customers take seconds, not hours.

Cadence arithmetic: a rule with N visits a month spreads its slots over the month's
working days (the working calendar: holidays and 调休 days count as they should) —
slot i falls on working day ⌊(i−1)·W/N⌋ of the W working days. A slot planned after its
day (a customer promoted from C to A mid-month) is due today. Customers who left the
rule (class changed, lost 流失, merged) have their planned visits of it cancelled, as do
all planned visits of a paused rule."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from kefu.core.audit import audit_record
from kefu.core.bulk import bulk_inserts
from kefu.core.workcal import WorkingCalendar
from kefu.customers.choices import Lifecycle
from kefu.customers.models import Customer
from kefu.visits.choices import AssignTo, RuleKind, Trigger, VisitStatus
from kefu.visits.models import Visit, VisitRule


@dataclass
class PlanResult:
    created: int = 0
    cancelled: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


def month_working_days(month: datetime.date, calendar: WorkingCalendar | None = None) -> list[datetime.date]:
    calendar = calendar or WorkingCalendar()
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    days, day = [], first
    while day < following:
        if calendar.is_working_day(day):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days or [first]


def cadence_slots(month: datetime.date, per_month: int, calendar: WorkingCalendar | None = None) -> list[datetime.date]:
    """The due dates of `per_month` visits spread over the month's working days."""
    days = month_working_days(month, calendar)
    return [days[(i * len(days)) // per_month] for i in range(per_month)]


def _cadence_customers(rule: VisitRule) -> Q:
    q = Q(merged_into__isnull=True) & ~Q(lifecycle=Lifecycle.LOST)
    if rule.customer_class_id:
        q &= Q(customer_class_id=rule.customer_class_id)
    if rule.key_accounts_only:
        q &= Q(is_key_account=True)
    return q


def _json_param() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def _insert_slot(rule: VisitRule, *, class_per_month: int | None, slot: int, due: datetime.date, period: str, now):
    """INSERT … SELECT the visits of one slot for every customer the rule covers."""
    version_id = rule.questionnaire.current_version().pk if rule.questionnaire_id else None
    assignee_sql, assignee_params = "c.owner_id", []
    if rule.assign_to == AssignTo.USER:
        assignee_sql, assignee_params = "%s", [rule.assignee_id]
    elif rule.assign_to == AssignTo.TEAM:
        assignee_sql = "NULL"
    where = ["c.merged_into_id IS NULL", "c.lifecycle <> %s"]
    params: list = [Lifecycle.LOST]
    if rule.customer_class_id:
        where.append("c.customer_class_id = %s")
        params.append(rule.customer_class_id)
    if rule.key_accounts_only:
        where.append("c.is_key_account = %s")
        params.append(True)
    if class_per_month is not None:
        # Rules that follow the class cadence: only customers whose class asks for this slot.
        where.append("cc.visits_per_month >= %s")
        params.append(slot)
    join = "JOIN customers_customerclass cc ON cc.id = c.customer_class_id" if class_per_month is not None else ""
    # Only fixed SQL fragments are formatted in; every value is a parameter.
    sql = f"""
        INSERT INTO visits_visit (
            created_at, updated_at, version, customer_id, rule_id, period_key, visit_type, due_date,
            assignee_id, team_id, region_id, status, channel, attempts, max_attempts, retry_working_days,
            outcome, questionnaire_version_id, answers, notes, next_action, arrived, deal
        )
        SELECT %s, %s, 1, c.id, %s, %s, %s, %s,
               {assignee_sql}, %s, c.region_id, %s, %s, 0, %s, %s,
               '', %s, {_json_param()}, '', '', %s, %s
        FROM customers_customer c {join}
        WHERE {" AND ".join(where)}
        ON CONFLICT DO NOTHING
    """  # noqa: S608
    head = [now, now, rule.pk, period, rule.visit_type, due]
    middle = [rule.team_id if rule.assign_to == AssignTo.TEAM else None, VisitStatus.PLANNED, rule.channel]
    tail = [rule.max_attempts, rule.retry_working_days, version_id, "{}", False, False]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*head, *assignee_params, *middle, *tail, *params])
        return cursor.rowcount


def plan_cadence(rule: VisitRule, *, month: datetime.date, today: datetime.date, calendar=None) -> int:
    """The month's slots of one cadence rule (those not planned yet)."""
    now = timezone.now()
    if rule.visits_per_month:
        per_month, follows_class = rule.visits_per_month, None
    elif rule.customer_class_id:
        per_month, follows_class = rule.customer_class.visits_per_month, None
    else:
        # A rule over several classes (e.g. key accounts of any class): each customer
        # gets as many slots as their class asks.
        per_month = max(
            Customer.objects.filter(_cadence_customers(rule))
            .exclude(customer_class__isnull=True)
            .values_list("customer_class__visits_per_month", flat=True)
            .distinct(),
            default=0,
        )
        follows_class = per_month
    created = 0
    for slot, due in enumerate(cadence_slots(month, per_month, calendar) if per_month else [], start=1):
        period = f"{month:%Y-%m}#{slot}"
        created += _insert_slot(
            rule, class_per_month=follows_class, slot=slot, due=max(due, today), period=period, now=now
        )
    return created


def cancel_stale(*, today: datetime.date) -> int:
    """Planned visits that should no longer happen: of a paused rule, of a lost or
    merged customer, or of a cadence rule the customer has left."""
    now = timezone.now()
    planned = Visit.objects.filter(status=VisitStatus.PLANNED)
    cancelled = planned.filter(rule__is_active=False).update(status=VisitStatus.CANCELLED, updated_at=now)
    cancelled += planned.filter(Q(customer__lifecycle=Lifecycle.LOST) | Q(customer__merged_into__isnull=False)).update(
        status=VisitStatus.CANCELLED, updated_at=now
    )
    for rule in VisitRule.objects.filter(kind=RuleKind.CADENCE, is_active=True):
        # NOT EXISTS, an anti-join: `NOT (customer_id IN (subquery))` made PostgreSQL
        # rescan the covered customers per visit once they no longer fit in work_mem
        # (a rule of ~450,000 customers did not finish in 15 minutes; see bench/README.md).
        covered = Customer.objects.filter(_cadence_customers(rule), pk=OuterRef("customer_id"))
        cancelled += (
            planned.filter(rule=rule).filter(~Exists(covered)).update(status=VisitStatus.CANCELLED, updated_at=now)
        )
    return cancelled


def _bulk_event_visits(rule: VisitRule, rows: list[tuple[Customer, str, datetime.date]]) -> int:
    version = rule.questionnaire.current_version() if rule.questionnaire_id else None
    visits = [
        Visit(
            customer=customer,
            rule=rule,
            period_key=period,
            visit_type=rule.visit_type,
            due_date=due,
            assignee_id=rule.assignee_id if rule.assign_to == AssignTo.USER else customer.owner_id,
            team_id=rule.team_id if rule.assign_to == AssignTo.TEAM else None,
            region_id=customer.region_id,
            channel=rule.channel,
            max_attempts=rule.max_attempts,
            retry_working_days=rule.retry_working_days,
            questionnaire_version=version,
        )
        for customer, period, due in rows
    ]
    before = Visit.objects.filter(rule=rule).count()
    Visit.objects.bulk_create(visits, ignore_conflicts=True, batch_size=1000)
    return Visit.objects.filter(rule=rule).count() - before


def plan_birthdays(rule: VisitRule, *, today: datetime.date, days_ahead: int = 7) -> int:
    """Birthday care visits for the birthdays of the coming week (one per year)."""
    window = [today + datetime.timedelta(days=n) for n in range(days_ahead + 1)]
    q = Q()
    for day in window:
        q |= Q(birthday__month=day.month, birthday__day=day.day)
    rows = []
    for customer in Customer.objects.filter(_cadence_customers(rule) & q).only(
        "pk", "owner_id", "region_id", "birthday"
    ):
        day = next(d for d in window if (d.month, d.day) == (customer.birthday.month, customer.birthday.day))
        rows.append((customer, f"birthday:{day.year}", day))
    return _bulk_event_visits(rule, rows)


def plan_project_stages(rule: VisitRule, *, today: datetime.date, days_ahead: int = 14) -> int:
    """Decoration stages: a visit `offset` days after the date in the customer's custom
    field `date_field` (contract, start, middle, completion), planned two weeks ahead."""
    if not rule.date_field:
        return 0
    key = rule.date_field
    rows = []
    for offset in rule.offsets_days or [0]:
        low = (today - datetime.timedelta(days=offset + 7)).isoformat()
        high = (today - datetime.timedelta(days=offset) + datetime.timedelta(days=days_ahead)).isoformat()
        matching = Customer.objects.filter(_cadence_customers(rule)).filter(
            **{f"extra__{key}__gte": low, f"extra__{key}__lte": high}
        )
        for customer in matching.only("pk", "owner_id", "region_id", "extra"):
            try:
                start = datetime.date.fromisoformat(str(customer.extra.get(key)))
            except ValueError:
                continue
            due = max(start + datetime.timedelta(days=offset), today)
            rows.append((customer, f"{key}:{start.isoformat()}:+{offset}", due))
    return _bulk_event_visits(rule, rows)


def plan_all(*, today: datetime.date | None = None) -> PlanResult:
    """The periodic planner: this month's and next month's cadence slots, the coming
    birthdays and project stages, and the cancellation of what no longer applies."""
    today = today or timezone.localdate()
    calendar = WorkingCalendar()
    result = PlanResult()
    this_month = today.replace(day=1)
    next_month = (this_month + datetime.timedelta(days=32)).replace(day=1)
    with transaction.atomic():
        result.cancelled = cancel_stale(today=today)
        for rule in VisitRule.objects.filter(is_active=True).select_related("customer_class", "questionnaire"):
            # Only INSERTs in here: whoever follows the table (the report counters) may
            # count them in one statement after.
            with bulk_inserts(Visit._meta.db_table):
                if rule.kind == RuleKind.CADENCE:
                    n = plan_cadence(rule, month=this_month, today=today, calendar=calendar)
                    n += plan_cadence(rule, month=next_month, today=today, calendar=calendar)
                elif rule.trigger == Trigger.BIRTHDAY:
                    n = plan_birthdays(rule, today=today)
                elif rule.trigger == Trigger.PROJECT_STAGE:
                    n = plan_project_stages(rule, today=today)
                else:
                    continue  # ticket, service and booking events plan at the event itself
            result.created += n
            result.by_rule[rule.name] = n
        if result.created or result.cancelled:
            audit_record(
                code="visits.planned",
                object_type="visits.visit",
                object_repr="回访计划",
                data={"created": result.created, "cancelled": result.cancelled, "by_rule": result.by_rule},
            )
    return result
