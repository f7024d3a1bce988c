"""Visits planned by events: the confirmation call after a ticket is resolved, and the
day 1 / 7 / 30 calls after a service, treatment or booking."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.workcal import WorkingCalendar
from kefu.visits.choices import AssignTo, Trigger
from kefu.visits.models import Visit, VisitRule


def _version(rule: VisitRule):
    return rule.questionnaire.current_version() if rule.questionnaire_id else None


def _create_once(**fields) -> Visit | None:
    try:
        with transaction.atomic():  # savepoint: the unique rule × customer × period decides
            return Visit.objects.create(**fields)
    except IntegrityError:
        return None


def plan_ticket_confirmation(ticket, actor) -> Visit | None:
    """Runs inside the transaction that resolves `ticket`: plan the call in which the
    customer confirms (or not) the handling — next working day, by the rule's assignee
    or the ticket's. Nothing when the kind needs no confirmation or no rule is active."""
    if not ticket.customer_id or not ticket.kind.requires_confirmation:
        return None
    rule = VisitRule.objects.filter(trigger=Trigger.TICKET_RESOLVED, is_active=True).order_by("pk").first()
    if rule is None:
        return None
    assignee_id = {
        AssignTo.USER: rule.assignee_id,
        AssignTo.OWNER: ticket.customer.owner_id,
        AssignTo.TEAM: None,
    }.get(rule.assign_to, ticket.assignee_id)
    return _create_once(
        customer=ticket.customer,
        rule=rule,
        ticket=ticket,
        period_key=f"ticket:{ticket.pk}:c{ticket.cycle}",
        visit_type=rule.visit_type,
        due_date=WorkingCalendar().next_working_day(timezone.localdate()),
        assignee_id=assignee_id or ticket.assignee_id,
        team_id=rule.team_id if rule.assign_to == AssignTo.TEAM else None,
        region_id=ticket.region_id or ticket.customer.region_id,
        channel=rule.channel,
        max_attempts=rule.max_attempts,
        retry_working_days=rule.retry_working_days,
        questionnaire_version=_version(rule),
    )


def visit_event_record(*, customer, trigger: str, on_date: datetime.date, ref: str) -> list[Visit]:
    """A service, treatment or booking was done on `on_date`: plan the visits of every
    active rule for `trigger`, one per offset (calendar days; a non-working day moves
    to the next working day). `ref` names the occurrence (e.g. the booking id), so
    recording the same event twice plans nothing twice."""
    calendar = WorkingCalendar()
    created = []
    for rule in VisitRule.objects.filter(trigger=trigger, is_active=True).select_related("questionnaire"):
        for offset in rule.offsets_days or [1]:
            due = on_date + datetime.timedelta(days=int(offset))
            if not calendar.is_working_day(due):
                due = calendar.next_working_day(due)
            visit = _create_once(
                customer=customer,
                rule=rule,
                period_key=f"{trigger}:{ref}:+{offset}"[:60],
                visit_type=rule.visit_type,
                due_date=due,
                assignee_id=rule.assignee_id if rule.assign_to == AssignTo.USER else customer.owner_id,
                team_id=rule.team_id if rule.assign_to == AssignTo.TEAM else None,
                region_id=customer.region_id,
                channel=rule.channel,
                max_attempts=rule.max_attempts,
                retry_working_days=rule.retry_working_days,
                questionnaire_version=_version(rule),
            )
            if visit is not None:
                created.append(visit)
    return created
