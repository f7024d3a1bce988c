"""Working the call list: record the outcome of a visit (with its answers), reschedule,
reassign, and plan one by hand.

"No answer" reschedules per the rule (default: up to 3 calls, a working day apart) and
then ends as 未能联系; a problem found becomes a ticket linked to the visit in the same
step; a confirmation visit moves its ticket to confirmed (satisfied) or reopens it."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record, audit_record_many
from kefu.core.errors import AccessDenied, Conflict, InvalidState, NotFound, ValidationFailed
from kefu.core.models import User
from kefu.core.workcal import WorkingCalendar
from kefu.customers.timeline import timeline_add
from kefu.visits.choices import Outcome, VisitChannel, VisitStatus
from kefu.visits.models import Visit
from kefu.visits.questionnaires import clean_answers, summary_scores

RECORD = "visits.record_visit"
REASSIGN = "visits.reassign_visit"
ADD = "visits.add_visit"


@dataclass
class ProblemInput:
    """A problem the customer raised during the visit: becomes a ticket."""

    kind_code: str
    title: str
    description: str
    severity: str = "normal"


def _lock(visit: Visit, expected_version: int | None) -> Visit:
    locked = (
        Visit.objects.select_for_update(of=("self",)).select_related("customer", "ticket").filter(pk=visit.pk).first()
    )
    if locked is None:
        raise NotFound(_("回访不存在。"))
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该回访已被他人处理，请刷新后重试。"), details={"version": locked.version})
    return locked


def _clean_text(value: str, *, field: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationFailed(_("%(l)s不能超过 %(n)s 字。") % {"l": label, "n": limit}, details={"field": field})
    return text


def _clean_amount(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        amount = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("成交金额必须是数字。"), details={"field": "deal_amount"}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise ValidationFailed(_("成交金额超出范围。"), details={"field": "deal_amount"})
    return amount


def visit_record(
    *,
    actor,
    visit: Visit,
    outcome: str,
    channel: str = VisitChannel.PHONE,
    answers: dict[str, Any] | None = None,
    notes: str = "",
    next_action: str = "",
    call_back_at: datetime.datetime | None = None,
    satisfied: bool | None = None,
    arrived: bool = False,
    deal: bool = False,
    deal_amount=None,
    problem: ProblemInput | None = None,
    expected_version: int | None = None,
) -> Visit:
    """Record one call (or on-site visit, or message) of a planned visit."""
    access.require(actor, RECORD, visit)
    if outcome not in Outcome.values:
        raise ValidationFailed(_("请选择回访结果。"), details={"field": "outcome"})
    if channel not in VisitChannel.values:
        raise ValidationFailed(_("回访方式无效。"), details={"field": "channel"})
    notes = _clean_text(notes, field="notes", label=_("回访记录"), limit=5000)
    next_action = _clean_text(next_action, field="next_action", label=_("后续安排"), limit=200)
    deal_amount = _clean_amount(deal_amount)
    now = timezone.now()
    if outcome == Outcome.CALL_BACK and (call_back_at is None or call_back_at <= now):
        raise ValidationFailed(_("请填写约定回拨的时间（晚于现在）。"), details={"field": "call_back_at"})
    with transaction.atomic():
        locked = _lock(visit, expected_version)
        if locked.status != VisitStatus.PLANNED:
            raise InvalidState(
                _("该回访已是“%(s)s”，不能再记录。") % {"s": locked.get_status_display()}, code="visit_not_planned"
            )
        reached = outcome == Outcome.REACHED
        cleaned = clean_answers(locked.questionnaire_version, answers, require=reached) if reached else {}
        if locked.ticket_id and reached and satisfied is None:
            raise ValidationFailed(_("这是工单回访确认：请选择客户是否满意。"), details={"field": "satisfied"})
        locked.attempts += 1
        locked.outcome, locked.channel = outcome, channel
        locked.notes, locked.next_action = notes, next_action
        title = _("回访（%(type)s）：%(outcome)s") % {"type": locked.visit_type, "outcome": Outcome(outcome).label}
        if reached:
            locked.answers = cleaned
            locked.satisfaction, locked.nps = summary_scores(locked.questionnaire_version, cleaned)
            locked.arrived, locked.deal, locked.deal_amount = arrived, deal, deal_amount
            locked.status, locked.done_at, locked.done_by = VisitStatus.DONE, now, actor
        elif outcome == Outcome.CALL_BACK:
            locked.call_back_at = call_back_at
            locked.due_date = timezone.localdate(call_back_at)
        elif outcome == Outcome.NO_ANSWER and locked.attempts < locked.max_attempts:
            calendar = WorkingCalendar()
            locked.due_date = calendar.add_working_days(timezone.localdate(now), max(locked.retry_working_days, 1))
        else:
            # Out of tries, a wrong number or a refusal: the visit ends without answers.
            locked.status, locked.done_at, locked.done_by = VisitStatus.FAILED, now, actor
        locked.version += 1
        locked.save()
        if problem is not None:
            locked.created_ticket = _ticket_from_problem(actor, locked, problem)
            locked.save(update_fields=["created_ticket"])
        if locked.ticket_id and reached:
            _confirm_ticket(actor, locked, satisfied=bool(satisfied))
        audit_record(
            code="visit.recorded",
            obj=locked,
            actor=actor,
            data={"outcome": outcome, "attempt": locked.attempts, "status": locked.status},
        )
        timeline_add(
            customer=locked.customer,
            kind="visit.recorded",
            title=title,
            body=notes,
            actor=actor,
            ref=locked,
            data={"outcome": outcome, "satisfaction": locked.satisfaction},
            at=now,
        )
    return locked


def _ticket_from_problem(actor, visit: Visit, problem: ProblemInput):
    from kefu.tickets.models import TicketKind
    from kefu.tickets.services.tickets import TicketInput, ticket_create

    kind = TicketKind.objects.filter(code=problem.kind_code, is_active=True).first()
    if kind is None:
        raise ValidationFailed(_("请选择有效的工单类型。"), details={"field": "problem.kind"})
    return ticket_create(
        actor=actor,
        data=TicketInput(
            kind=kind,
            title=problem.title,
            description=problem.description,
            customer=visit.customer,
            channel="onsite" if visit.channel == VisitChannel.ONSITE else "phone",
            severity=problem.severity,
        ),
    )


def _confirm_ticket(actor, visit: Visit, *, satisfied: bool) -> None:
    from kefu.tickets.choices import TicketStatus
    from kefu.tickets.services.flow import ticket_confirm

    ticket = visit.ticket
    ticket.refresh_from_db()
    if ticket.status != TicketStatus.RESOLVED:
        return  # confirmed another way meanwhile; the visit's answers still count
    ticket_confirm(
        actor=actor,
        ticket=ticket,
        satisfied=satisfied,
        score=visit.satisfaction if visit.satisfaction is not None else (5 if satisfied else None),
        note=visit.notes or (_("回访确认：满意") if satisfied else ""),
    )


def visit_reschedule(
    *, actor, visit: Visit, due_date: datetime.date, reason: str = "", expected_version: int | None = None
) -> Visit:
    access.require(actor, RECORD, visit)
    if due_date < timezone.localdate():
        raise ValidationFailed(_("计划日期不能早于今天。"), details={"field": "due_date"})
    with transaction.atomic():
        locked = _lock(visit, expected_version)
        if locked.status != VisitStatus.PLANNED:
            raise InvalidState(_("只能调整待回访的计划。"), code="visit_not_planned")
        before = locked.due_date
        locked.due_date, locked.version = due_date, locked.version + 1
        locked.save(update_fields=["due_date", "version", "updated_at"])
        audit_record(
            code="visit.rescheduled",
            obj=locked,
            actor=actor,
            changes={"due_date": (before, due_date)},
            data={"reason": reason[:200]},
        )
    return locked


def visit_reassign(*, actor, visits: Sequence[Visit], assignee: User) -> int:
    """Give planned visits to someone else (in bulk); all-or-nothing."""
    access.require(actor, REASSIGN)
    if assignee is None or not assignee.is_active or not assignee.has_perm(RECORD):
        raise ValidationFailed(_("回访人必须是可以回访的在职员工。"), details={"field": "assignee"})
    ids = [v.pk for v in visits]
    with transaction.atomic():
        locked = list(Visit.objects.select_for_update().filter(pk__in=ids))
        if len(locked) != len(set(ids)):
            raise NotFound(_("部分回访不存在。"))
        for visit in locked:
            if not access.can(actor, REASSIGN, visit):
                raise AccessDenied(_("您无权改派回访 %(id)s。") % {"id": visit.pk})
            if visit.status != VisitStatus.PLANNED:
                raise InvalidState(_("回访 %(id)s 已结束，不能改派。") % {"id": visit.pk}, code="visit_not_planned")
        changes = {v.pk: {"assignee": (v.assignee_id, assignee.pk)} for v in locked}
        Visit.objects.filter(pk__in=ids).update(assignee=assignee, updated_at=timezone.now(), version=F("version") + 1)
        audit_record_many(code="visit.reassigned", objects=locked, actor=actor, changes=changes)
    return len(locked)


def visit_create(
    *,
    actor,
    customer,
    visit_type: str,
    due_date: datetime.date,
    assignee: User | None = None,
    channel: str = VisitChannel.PHONE,
    questionnaire=None,
) -> Visit:
    """A visit planned by hand (an account manager's trip, a follow-up promised)."""
    access.require(actor, ADD)
    access.require(actor, "customers.view_customer", customer)
    visit_type = _clean_text(visit_type, field="visit_type", label=_("回访类型"), limit=40)
    if not visit_type:
        raise ValidationFailed(_("请填写回访类型。"), details={"field": "visit_type"})
    if channel not in VisitChannel.values:
        raise ValidationFailed(_("回访方式无效。"), details={"field": "channel"})
    if due_date < timezone.localdate():
        raise ValidationFailed(_("计划日期不能早于今天。"), details={"field": "due_date"})
    assignee = assignee or actor
    if assignee.pk != actor.pk and not access.has_perm(actor, REASSIGN):
        raise AccessDenied(_("只有主管可以为他人安排回访。"))
    if not assignee.is_active or not assignee.has_perm(RECORD):
        raise ValidationFailed(_("回访人必须是可以回访的在职员工。"), details={"field": "assignee"})
    with transaction.atomic():
        visit = Visit.objects.create(
            customer=customer,
            period_key=f"manual:{timezone.now():%Y%m%d%H%M%S%f}",
            visit_type=visit_type,
            due_date=due_date,
            assignee=assignee,
            region=customer.region,
            channel=channel,
            questionnaire_version=questionnaire.current_version() if questionnaire is not None else None,
        )
        audit_record(code="visit.created", obj=visit, actor=actor)
    return visit
