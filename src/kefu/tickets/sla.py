"""Deadlines in working minutes (the working calendar: weekends, statutory holidays and
调休 days). Which policy applies, when a ticket is due, warned and escalated, and how a
pause while waiting for the customer moves all of it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from kefu.core import configcache
from kefu.core.workcal import WorkingCalendar
from kefu.tickets.choices import SlaState
from kefu.tickets.models import EscalationRule, SlaPolicy, Ticket, TicketCategory, TicketSettings


def category_ancestors(category: TicketCategory | None) -> list[int]:
    """The category's id and those of its parents, nearest first."""
    ids: list[int] = []
    while category is not None and category.pk not in ids:
        ids.append(category.pk)
        category = category.parent
    return ids


def match_policy(*, kind_id: int, severity: str, category: TicketCategory | None) -> SlaPolicy | None:
    """The most specific active policy (kind, severity and category each count; a
    policy on a nearer category beats one on its parent); among equals the strictest
    (shortest resolution time), so the customer never gets the slower promise."""
    ancestors = category_ancestors(category)
    best: tuple | None = None
    chosen = None
    for policy in active_policies():
        if policy.kind_id not in (None, kind_id) or policy.severity not in ("", severity):
            continue
        if policy.category_id is not None and policy.category_id not in ancestors:
            continue
        depth_bonus = len(ancestors) - ancestors.index(policy.category_id) if policy.category_id else 0
        matched = (policy.kind_id is not None) + bool(policy.severity) + (policy.category_id is not None)
        key = (matched, depth_bonus, -policy.resolve_minutes, -policy.response_minutes, -policy.pk)
        if best is None or key > best:
            best, chosen = key, policy
    return chosen


@dataclass(frozen=True)
class Deadlines:
    response_due_at: datetime.datetime | None
    resolve_due_at: datetime.datetime | None
    warn_at: datetime.datetime | None
    next_escalation_at: datetime.datetime | None


def active_policies() -> list[SlaPolicy]:
    """Shared between callers (kefu.core.configcache): read, never modify."""
    return configcache.cached("tickets.sla_policies", lambda: list(SlaPolicy.objects.filter(is_active=True)))


def active_rules() -> list[EscalationRule]:
    """Shared between callers (kefu.core.configcache): read, never modify."""
    return configcache.cached(
        "tickets.escalation_rules", lambda: list(EscalationRule.objects.filter(is_active=True).order_by("level"))
    )


def next_escalation_moment(
    *,
    resolve_due_at: datetime.datetime | None,
    level: int,
    rules: list[EscalationRule],
    calendar: WorkingCalendar,
) -> datetime.datetime | None:
    """When a ticket at escalation `level` moves to the next level of `rules`: that
    rule's `after_minutes` working minutes past the resolution deadline."""
    if resolve_due_at is None:
        return None
    upcoming = [rule for rule in rules if rule.level > level]
    if not upcoming:
        return None
    return calendar.add_working_minutes(resolve_due_at, upcoming[0].after_minutes)


def compute_deadlines(
    *,
    policy: SlaPolicy | None,
    start: datetime.datetime,
    level: int = 0,
    settings: TicketSettings | None = None,
    rules: list[EscalationRule] | None = None,
    calendar: WorkingCalendar | None = None,
) -> Deadlines:
    """Deadlines of a cycle starting at `start`: the policy's, or the settings' default
    targets when no policy matches (every ticket has deadlines)."""
    calendar = calendar or WorkingCalendar()
    settings = settings or TicketSettings.cached()
    rules = active_rules() if rules is None else rules
    if policy is not None:
        response_minutes, resolve_minutes = policy.response_minutes, policy.resolve_minutes
    else:
        response_minutes, resolve_minutes = settings.default_response_minutes, settings.default_resolve_minutes
    response_due = calendar.add_working_minutes(start, response_minutes)
    resolve_due = calendar.add_working_minutes(start, resolve_minutes)
    warn_at = calendar.add_working_minutes(start, resolve_minutes * settings.warn_percent // 100)
    return Deadlines(
        response_due_at=response_due,
        resolve_due_at=resolve_due,
        warn_at=warn_at,
        next_escalation_at=next_escalation_moment(
            resolve_due_at=resolve_due, level=level, rules=rules, calendar=calendar
        ),
    )


def apply_deadlines(ticket: Ticket, deadlines: Deadlines, *, now: datetime.datetime) -> list[str]:
    """Set the ticket's deadline fields (not saved); returns the fields changed."""
    ticket.response_due_at = deadlines.response_due_at
    ticket.resolve_due_at = deadlines.resolve_due_at
    ticket.warn_at = deadlines.warn_at
    ticket.next_escalation_at = deadlines.next_escalation_at
    ticket.sla_state = state_at(ticket, now)
    return ["response_due_at", "resolve_due_at", "warn_at", "next_escalation_at", "sla_state"]


def state_at(ticket: Ticket, now: datetime.datetime) -> str:
    """The SLA state of an open ticket at `now` (what the supervision job stores)."""
    if ticket.sla_paused_at is not None:
        return SlaState.PAUSED
    if ticket.resolve_due_at is not None and ticket.resolve_due_at <= now:
        return SlaState.BREACHED
    # warn_at is cleared once the warning has been sent; the due time still tells.
    if ticket.resolve_due_at is not None and ticket.warn_at is not None and ticket.warn_at <= now:
        return SlaState.WARNING
    if ticket.sla_state == SlaState.WARNING:
        return SlaState.WARNING
    return SlaState.ON_TRACK


def shifted(
    moment: datetime.datetime | None,
    *,
    paused_at: datetime.datetime,
    now: datetime.datetime,
    calendar: WorkingCalendar,
) -> datetime.datetime | None:
    """A deadline after a pause from `paused_at` to `now`: the working time that was
    left at the pause is left again from now. A deadline already passed at the pause
    stays where it was."""
    if moment is None or moment <= paused_at:
        return moment
    remaining = calendar.working_minutes_between(paused_at, moment)
    return calendar.add_working_minutes(now, remaining)


def finished_state(ticket: Ticket, finished_at: datetime.datetime) -> str:
    """The state a handled ticket keeps for statistics: breached when it was late."""
    if ticket.resolve_due_at is not None and finished_at > ticket.resolve_due_at:
        return SlaState.BREACHED
    return SlaState.ON_TRACK
