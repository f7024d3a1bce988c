"""Moves on a ticket's slips (投诉告知单): withdraw one, and — for the department it
was sent to (or a supervisor) — accept, record handling, reply, ask for more time;
a supervisor decides the extension. The slip is looked up on a ticket the user may
see (404 otherwise); whether the user works for its department is the service's
check (a 403 with its message)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from kefu.core.views.base import require_perm
from kefu.tickets.models import DeadlineExtension, TicketRouting
from kefu.tickets.services import escalation, flow
from kefu.tickets.services.common import HANDLE, ROUTE, SUPERVISE
from kefu.tickets.views.actions import perform, ticket_action
from kefu.tickets.views.detail import make_form, visible_ticket


def _slip(request, pk: int, routing_id: int):
    ticket = visible_ticket(request, pk)
    routing = TicketRouting.objects.select_related("department").filter(pk=routing_id, ticket=ticket).first()
    if routing is None:
        raise Http404
    routing.ticket = ticket
    return ticket, routing


def _bound(request, name: str, pk: int, routing_id: int):
    ticket, routing = _slip(request, pk, routing_id)
    form = make_form(name, request.POST, ticket=ticket, user=request.user, target=routing.pk)
    return ticket, routing, form


@require_perm(ROUTE)
@ticket_action
def slip_cancel_view(request, pk: int, routing_id: int):
    ticket, routing, form = _bound(request, "slip_cancel", pk, routing_id)
    return perform(
        request,
        ticket,
        "slip_cancel",
        form,
        lambda d: flow.routing_cancel(actor=request.user, routing=routing, reason=d["reason"]),
        _("告知单 %(no)s 已撤回。") % {"no": routing.slip_no},
        target=routing.pk,
    )


@require_perm(HANDLE)
@ticket_action
def slip_accept_view(request, pk: int, routing_id: int):
    ticket, routing = _slip(request, pk, routing_id)
    return perform(
        request,
        ticket,
        "slip_accept",
        None,
        lambda d: flow.routing_accept(actor=request.user, routing=routing),
        _("已接收告知单 %(no)s。") % {"no": routing.slip_no},
        target=routing.pk,
    )


@require_perm(HANDLE)
@ticket_action
def slip_handle_view(request, pk: int, routing_id: int):
    ticket, routing, form = _bound(request, "slip_handle", pk, routing_id)
    return perform(
        request,
        ticket,
        "slip_handle",
        form,
        lambda d: flow.routing_record_handling(
            actor=request.user, routing=routing, note=d["note"], outcome=d["outcome"]
        ),
        _("处理记录已保存。"),
        target=routing.pk,
    )


@require_perm(HANDLE)
@ticket_action
def slip_reply_view(request, pk: int, routing_id: int):
    ticket, routing, form = _bound(request, "slip_reply", pk, routing_id)
    return perform(
        request,
        ticket,
        "slip_reply",
        form,
        lambda d: flow.routing_reply(actor=request.user, routing=routing, reply=d["reply"]),
        _("已回复告知单 %(no)s。") % {"no": routing.slip_no},
        target=routing.pk,
    )


@require_perm(HANDLE)
@ticket_action
def slip_extension_view(request, pk: int, routing_id: int):
    ticket, routing, form = _bound(request, "slip_extension", pk, routing_id)
    return perform(
        request,
        ticket,
        "slip_extension",
        form,
        lambda d: escalation.extension_request(
            actor=request.user, routing=routing, until=d["until"], reason=d["reason"]
        ),
        _("延期申请已提交，等待主管批准。"),
        target=routing.pk,
    )


@require_perm(SUPERVISE)
@ticket_action
def extension_decide_view(request, pk: int, extension_id: int):
    ticket = visible_ticket(request, pk)
    extension = (
        DeadlineExtension.objects.select_related("routing__department")
        .filter(pk=extension_id, routing__ticket=ticket)
        .first()
    )
    if extension is None:
        raise Http404
    extension.routing.ticket = ticket
    form = make_form("extension_decide", request.POST, ticket=ticket, user=request.user, target=extension.pk)
    grant = form.is_valid() and form.cleaned_data["grant"]
    return perform(
        request,
        ticket,
        "extension_decide",
        form,
        lambda d: escalation.extension_decide(
            actor=request.user, extension=extension, grant=d["grant"], note=d.get("note") or ""
        ),
        _("已批准延期。") if grant else _("已拒绝延期。"),
        target=extension.pk,
    )
