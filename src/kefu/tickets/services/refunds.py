"""Refunds and compensation on a ticket (退款/补偿), decided through the approvals
engine (`refund` policy; default director AND finance, thresholds configurable there).

Before the last approval nobody may tell the customer and the ticket may not be
resolved (seed 004). On approval exactly one payout record is written: the approval
engine decides a request once under its row lock, and `Payout.refund` is one-to-one,
so twenty concurrent approve clicks still make one payout."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import InvalidState, ValidationFailed
from kefu.core.services.approvals import approval_cancel, approval_request_create
from kefu.customers.models import Contact
from kefu.tickets import transitions
from kefu.tickets.choices import RefundKind, RefundStatus, TicketErrorCode
from kefu.tickets.events import ticket_event
from kefu.tickets.models import Payout, RefundRequest, Ticket
from kefu.tickets.services.common import REQUEST_REFUND, bump, clean_text, lock_ticket, require_ticket
from kefu.tickets.services.notifications import notify_ticket_owner

SUBJECT = "tickets.refundrequest"


def _clean_amount(raw) -> Decimal:
    try:
        amount = Decimal(str(raw).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("金额必须是数字。"), details={"field": "amount"}) from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        raise ValidationFailed(_("金额必须大于 0。"), details={"field": "amount"})
    return amount


def refund_request(*, actor, ticket: Ticket, amount, reason: str, kind: str = RefundKind.REFUND) -> RefundRequest:
    """Ask for a refund or compensation; the approval request is opened at once."""
    require_ticket(actor, REQUEST_REFUND, ticket)
    if kind not in RefundKind.values:
        raise ValidationFailed(_("类型无效。"), details={"field": "kind"})
    amount = _clean_amount(amount)
    reason = clean_text(reason, field="reason", label=_("理由"), max_length=2000)
    with transaction.atomic():
        locked = lock_ticket(ticket)
        transitions.check("refund", locked)
        if not locked.kind.allows_refund:
            raise InvalidState(
                _("“%(kind)s”工单不能申请退款/补偿。") % {"kind": locked.kind.name}, code="ticket_refund_not_allowed"
            )
        if locked.refunds.filter(status=RefundStatus.PENDING).exists():
            raise InvalidState(_("已有一笔退款/补偿在审批中。"), code=TicketErrorCode.REFUND_PENDING)
        refund = RefundRequest.objects.create(
            ticket=locked, kind=kind, amount=amount, reason=reason, requested_by=actor, requested_at=timezone.now()
        )
        refund.approval = approval_request_create(
            actor=actor,
            policy_code="refund",
            subject=refund,
            title=_("%(kind)s ¥%(amount)s（%(no)s）")
            % {"kind": RefundKind(kind).label, "amount": amount, "no": locked.number},
            reason=reason,
            amount=amount,
        )
        refund.save(update_fields=["approval"])
        bump(locked, [])
        ticket_event(
            ticket=locked,
            code="ticket.refund_requested",
            title=_("申请%(kind)s ¥%(amount)s") % {"kind": RefundKind(kind).label, "amount": amount},
            actor=actor,
            note=reason,
            data={"amount": str(amount), "kind": kind},
        )
    return refund


def refund_cancel(*, actor, refund: RefundRequest) -> RefundRequest:
    """Withdraw a pending request (through the engine, so its steps end too)."""
    require_ticket(actor, REQUEST_REFUND, refund.ticket)
    if refund.approval is None or refund.status != RefundStatus.PENDING:
        raise InvalidState(_("只能撤回审批中的申请。"), code="refund_not_pending")
    approval_cancel(actor=actor, request=refund.approval)
    refund.refresh_from_db()
    return refund


def refund_tell_customer(*, actor, refund: RefundRequest) -> RefundRequest:
    """Record that the customer was told of the approved refund (and send the SMS when
    the customer has a mobile). Refused before the last approval."""
    require_ticket(actor, REQUEST_REFUND, refund.ticket)
    with transaction.atomic():
        locked = RefundRequest.objects.select_for_update().select_related("ticket").get(pk=refund.pk)
        if locked.status != RefundStatus.APPROVED:
            raise InvalidState(_("退款/补偿尚未审批通过，不能答复客户。"), code=TicketErrorCode.REFUND_PENDING)
        if locked.customer_told_at is not None:
            return locked
        locked.customer_told_at = timezone.now()
        locked.save(update_fields=["customer_told_at"])
        ticket = locked.ticket
        phone = ""
        if ticket.customer_id:
            contact = ticket.contact or Contact.objects.filter(customer_id=ticket.customer_id, is_primary=True).first()
            phone = contact.phone if contact else ""
        if phone and phone.isdigit() and len(phone) == 11:
            from kefu.notify.services import outbox_enqueue

            outbox_enqueue(
                channel="sms",
                to=phone,
                body=_("您的%(kind)s申请（工单 %(no)s）已审批通过，金额 ¥%(amount)s，我们将尽快办理。")
                % {"kind": locked.get_kind_display(), "no": ticket.number, "amount": locked.amount},
                key=f"refund:{locked.pk}:told",
            )
        ticket_event(
            ticket=ticket,
            code="ticket.refund_told",
            title=_("已告知客户%(kind)s结果") % {"kind": locked.get_kind_display()},
            actor=actor,
        )
    return locked


# -- approval handlers (registered in hooks.py; run inside the deciding transaction)


def _refund_for(request) -> RefundRequest | None:
    if request.subject_type != SUBJECT:
        return None
    return RefundRequest.objects.select_for_update().select_related("ticket").filter(pk=request.subject_id).first()


def on_refund_approved(request, actor) -> None:
    refund = _refund_for(request)
    if refund is None or refund.status != RefundStatus.PENDING:
        return
    now = timezone.now()
    refund.status, refund.decided_at = RefundStatus.APPROVED, now
    refund.save(update_fields=["status", "decided_at"])
    try:
        with transaction.atomic():
            Payout.objects.create(refund=refund, amount=refund.amount, created_at=now)
    except IntegrityError:
        pass  # the payout exists already: one per refund, whatever happens
    ticket = refund.ticket
    ticket_event(
        ticket=ticket,
        code="ticket.refund_approved",
        title=_("%(kind)s ¥%(amount)s 审批通过") % {"kind": refund.get_kind_display(), "amount": refund.amount},
        actor=actor,
    )
    notify_ticket_owner(
        ticket,
        key=f"refund:{refund.pk}:approved",
        title=_("退款/补偿已审批通过：%(no)s") % {"no": ticket.number},
        body=_("现在可以答复客户并办理。"),
    )


def _on_ended(status: str, code: str, title: str):
    def handler(request, actor) -> None:
        refund = _refund_for(request)
        if refund is None or refund.status != RefundStatus.PENDING:
            return
        refund.status, refund.decided_at = status, timezone.now()
        refund.save(update_fields=["status", "decided_at"])
        ticket_event(ticket=refund.ticket, code=code, title=str(title), actor=actor)

    return handler


on_refund_rejected = _on_ended(RefundStatus.REJECTED, "ticket.refund_rejected", gettext_lazy("退款/补偿申请被驳回"))
on_refund_cancelled = _on_ended(RefundStatus.CANCELLED, "ticket.refund_cancelled", gettext_lazy("退款/补偿申请已撤回"))
