"""Planning return visits from the rules, set-based: one INSERT … SELECT per cadence rule
and slot (ON CONFLICT DO NOTHING against the unique rule × customer × period), so
planning twice plans once and a million customers take seconds, not hours.

Cadence arithmetic: a rule with N visits a month spreads its slots over the month's
working days (the working calendar: holidays and 调休 days count as they should) —
slot i falls on working day ⌊(i−1)·W/N⌋ of the W working days. The daily job plans the
slots due within the next PLAN_AHEAD_DAYS days, so a planned visit carries the owner and
region of the week it is worked in, and a class change cancels a week's visits, not two
months'. A slot whose day passed before it was planned (a customer promoted from C to A
mid-month, a new rule, a planner that did not run) is due today — the month's latest
such slot only: one visit now, not a stack of the ones missed on the same day.
Customers who left the rule (class changed, lost 流失, merged) have their planned visits
of it cancelled, as do all planned visits of a paused rule."""

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

# How far ahead the daily job plans: the call list's coming week (birthdays alike).
PLAN_AHEAD_DAYS = 7


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


def _insert_slot(
    rule: VisitRule,
    *,
    class_per_month: int | None,
    slot: int,
    last_for_class: bool,
    due: datetime.date,
    period: str,
    now,
):
    """INSERT … SELECT the visits of one slot for every customer the rule covers
    (`last_for_class`: only the customers whose class has exactly `slot` visits a month)."""
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
        where.append("cc.visits_per_month = %s" if last_for_class else "cc.visits_per_month >= %s")
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


def plan_cadence(
    rule: VisitRule,
    *,
    month: datetime.date,
    today: datetime.date,
    until: datetime.date | None = None,
    calendar=None,
) -> int:
    """The month's slots of one cadence rule due by `until` (the whole month when None)
    and not planned yet; of the slots already passed only the latest, due today."""
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
    slots = cadence_slots(month, per_month, calendar) if per_month else []
    passed = sum(1 for due in slots if due < today)
    created = 0
    for slot, due in enumerate(slots, start=1):
        if until is not None and due > until:
            break
        last_for_class = False
        if slot < passed:
            if follows_class is None:
                continue  # not the latest passed slot
            # A customer whose class asks for `slot` visits has no later one: this is
            # their latest passed slot.
            last_for_class = True
        created += _insert_slot(
            rule,
            class_per_month=follows_class,
            slot=slot,
            last_for_class=last_for_class,
            due=max(due, today),
            period=f"{month:%Y-%m}#{slot}",
            now=now,
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


def plan_birthdays(rule: VisitRule, *, today: datetime.date, days_ahead: int = PLAN_AHEAD_DAYS) -> int:
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


def _months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def plan_all(*, today: datetime.date | None = None, ahead_days: int = PLAN_AHEAD_DAYS) -> PlanResult:
    """The periodic planner: the cadence slots due within `ahead_days`, the coming
    birthdays and project stages, and the cancellation of what no longer applies."""
    today = today or timezone.localdate()
    until = today + datetime.timedelta(days=ahead_days)
    calendar = WorkingCalendar()
    result = PlanResult()
    with transaction.atomic():
        result.cancelled = cancel_stale(today=today)
        for rule in VisitRule.objects.filter(is_active=True).select_related("customer_class", "questionnaire"):
            # Only INSERTs in here: whoever follows the table (the report counters) may
            # count them in one statement after.
            with bulk_inserts(Visit._meta.db_table):
                if rule.kind == RuleKind.CADENCE:
                    n = sum(
                        plan_cadence(rule, month=month, today=today, until=until, calendar=calendar)
                        for month in _months_between(today, until)
                    )
                elif rule.trigger == Trigger.BIRTHDAY:
                    n = plan_birthdays(rule, today=today, days_ahead=ahead_days)
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
