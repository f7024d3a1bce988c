"""Refunds and compensation from the ticket page: request one (it goes to approval at
once), withdraw a pending one, record that the customer was told of an approved one.
The decisions themselves are taken on the approvals pages."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from kefu.core.views.base import require_perm
from kefu.tickets.services import refunds
from kefu.tickets.services.common import REQUEST_REFUND
from kefu.tickets.views.actions import perform, ticket_action
from kefu.tickets.views.detail import make_form, visible_ticket


def _refund(request, pk: int, refund_id: int):
    ticket = visible_ticket(request, pk)
    refund = ticket.refunds.select_related("approval").filter(pk=refund_id).first()
    if refund is None:
        raise Http404
    refund.ticket = ticket
    return ticket, refund


@require_perm(REQUEST_REFUND)
@ticket_action
def refund_request_view(request, pk: int):
    ticket = visible_ticket(request, pk)
    form = make_form("refund", request.POST, ticket=ticket, user=request.user)
    return perform(
        request,
        ticket,
        "refund",
        form,
        lambda d: refunds.refund_request(
            actor=request.user, ticket=ticket, amount=d["amount"], reason=d["reason"], kind=d["kind"]
        ),
        _("申请已提交审批；审批通过前不能答复客户。"),
    )


@require_perm(REQUEST_REFUND)
@ticket_action
def refund_cancel_view(request, pk: int, refund_id: int):
    ticket, refund = _refund(request, pk, refund_id)
    return perform(
        request,
        ticket,
        "refund_cancel",
        None,
        lambda d: refunds.refund_cancel(actor=request.user, refund=refund),
        _("退款/补偿申请已撤回。"),
        target=refund.pk,
    )


@require_perm(REQUEST_REFUND)
@ticket_action
def refund_tell_view(request, pk: int, refund_id: int):
    ticket, refund = _refund(request, pk, refund_id)
    return perform(
        request,
        ticket,
        "refund_tell",
        None,
        lambda d: refunds.refund_tell_customer(actor=request.user, refund=refund),
        _("已记录告知客户。"),
        target=refund.pk,
    )
