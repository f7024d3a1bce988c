"""Penalty proposals (处罚建议): proposed on a ticket for the responsible person, or
raised by the discipline rule of seed 003 (接到客户投诉三次者…给予处罚) — the N-th
complaint against a staff member in a month flags one, once per person and month.
Decided through the approvals engine's `penalty` policy."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import InvalidState, ValidationFailed
from kefu.core.models import User
from kefu.core.services.approvals import approval_request_create
from kefu.tickets.choices import PenaltyStatus, TicketStatus
from kefu.tickets.events import ticket_event
from kefu.tickets.models import PenaltyProposal, Ticket, TicketSettings
from kefu.tickets.services.common import RESOLVE, clean_text, lock_ticket, require_ticket
from kefu.tickets.services.notifications import holders_of

VIEW_PENALTIES = "tickets.view_penaltyproposal"
PROPOSE = "tickets.add_penaltyproposal"
NOT_COUNTED = (TicketStatus.WITHDRAWN, TicketStatus.DUPLICATE, TicketStatus.MERGED)


def _month_range(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(following, datetime.time.min, tzinfo=tz),
    )


def complaints_against(month: datetime.date, *, tickets: QuerySet[Ticket] | None = None) -> QuerySet:
    """Complaints against each staff member registered in `month` ({against_staff, n}),
    among `tickets` (the viewer's scoped selector; all tickets for the rule itself)."""
    start, end = _month_range(month)
    base = Ticket.objects.all() if tickets is None else tickets
    return (
        base.filter(
            against_staff__isnull=False, kind__counts_against_staff=True, created_at__gte=start, created_at__lt=end
        )
        .exclude(status__in=NOT_COUNTED)
        .values("against_staff")
        .annotate(n=Count("id"))
        .order_by("-n")
    )


def discipline_check(*, staff: User, month: datetime.date) -> PenaltyProposal | None:
    """Flag a penalty proposal when `staff` has reached the month's limit. Idempotent:
    one flag per person and month (a unique constraint), whoever registers the next
    complaint and however often this runs."""
    limit = TicketSettings.cached().complaints_per_month_limit
    month = month.replace(day=1)
    start, end = _month_range(month)
    count = (
        Ticket.objects.filter(
            against_staff=staff, kind__counts_against_staff=True, created_at__gte=start, created_at__lt=end
        )
        .exclude(status__in=NOT_COUNTED)
        .count()
    )
    if count < limit:
        return None
    try:
        with transaction.atomic():
            proposal = PenaltyProposal.objects.create(
                staff=staff,
                month=month,
                complaint_count=count,
                reason=_("%(month)s 月被客户投诉 %(n)s 次（达到 %(limit)s 次），按规定提出处罚建议。")
                % {"month": month.strftime("%Y-%m"), "n": count, "limit": limit},
                status=PenaltyStatus.SUGGESTED,
                created_at=timezone.now(),
            )
    except IntegrityError:
        return None
    from kefu.notify.services import notify_users

    notify_users(
        recipients=holders_of(VIEW_PENALTIES),
        title=_("员工被投诉达到 %(n)s 次：%(name)s") % {"n": count, "name": staff},
        body=proposal.reason,
        link="",
        category="ticket",
        key=f"penalty:flag:{proposal.pk}",
    )
    return proposal


def _clean_amount(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        amount = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("金额必须是数字。"), details={"field": "amount"}) from None
    if amount < 0 or amount >= Decimal("1e10"):
        raise ValidationFailed(_("金额超出范围。"), details={"field": "amount"})
    return amount


def penalty_propose(
    *,
    actor,
    ticket: Ticket,
    reason: str,
    staff: User | None = None,
    responsible_party: str = "",
    amount=None,
) -> PenaltyProposal:
    """Propose a penalty for the person (or party) responsible for a ticket; it goes to
    approval at once."""
    require_ticket(actor, RESOLVE, ticket)
    access.require(actor, PROPOSE)
    reason = clean_text(reason, field="reason", label=_("处罚理由"), max_length=2000)
    responsible_party = clean_text(
        responsible_party, field="responsible_party", label=_("责任方"), max_length=120, required=staff is None
    )
    amount = _clean_amount(amount)
    with transaction.atomic():
        locked = lock_ticket(ticket)
        proposal = PenaltyProposal.objects.create(
            ticket=locked,
            staff=staff,
            responsible_party=responsible_party,
            amount=amount,
            reason=reason,
            status=PenaltyStatus.PENDING,
            created_by=actor,
            created_at=timezone.now(),
        )
        proposal.approval = approval_request_create(
            actor=actor,
            policy_code="penalty",
            subject=proposal,
            title=_("处罚建议：%(who)s（%(no)s）") % {"who": staff or responsible_party, "no": locked.number},
            reason=reason,
            amount=amount,
        )
        proposal.save(update_fields=["approval"])
        ticket_event(
            ticket=locked,
            code="ticket.penalty_proposed",
            title=_("提出处罚建议：%(who)s") % {"who": staff or responsible_party},
            actor=actor,
            note=reason,
            on_timeline=False,
        )
    return proposal


def penalty_submit(*, actor, proposal: PenaltyProposal, amount=None, reason: str = "") -> PenaltyProposal:
    """Send a flagged proposal (from the discipline rule) to approval."""
    access.require(actor, PROPOSE)
    amount = _clean_amount(amount)
    with transaction.atomic():
        locked = PenaltyProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != PenaltyStatus.SUGGESTED:
            raise InvalidState(_("该处罚建议已提交或已处理。"), code="penalty_not_suggested")
        if reason.strip():
            locked.reason = clean_text(reason, field="reason", label=_("处罚理由"), max_length=2000)
        locked.amount, locked.status = amount, PenaltyStatus.PENDING
        locked.approval = approval_request_create(
            actor=actor,
            policy_code="penalty",
            subject=locked,
            title=_("处罚建议：%(who)s") % {"who": locked.staff or locked.responsible_party},
            reason=locked.reason,
            amount=amount,
        )
        locked.save(update_fields=["reason", "amount", "status", "approval"])
    return locked


def _on_decided(status: str):
    def handler(request, actor) -> None:
        if request.subject_type != "tickets.penaltyproposal":
            return
        PenaltyProposal.objects.filter(pk=request.subject_id, status=PenaltyStatus.PENDING).update(status=status)

    return handler


on_penalty_approved = _on_decided(PenaltyStatus.APPROVED)
on_penalty_rejected = _on_decided(PenaltyStatus.REJECTED)
on_penalty_cancelled = _on_decided(PenaltyStatus.CANCELLED)
