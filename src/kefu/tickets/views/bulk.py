"""Bulk actions on the selected rows of a queue: route to departments, assign, close.

Step 1 (no `confirm`) shows the tickets and what will happen to them, marking those
whose status refuses the move, and asks for what the action needs (departments and
instructions, the assignee, a note); step 2 (`confirm=1`) calls, for every ticket, the very
service a single action calls, all inside one transaction: if any ticket refuses,
nothing changes and the page names the ticket and the reason."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError
from kefu.core.views.base import require_perm
from kefu.tickets import transitions
from kefu.tickets.forms_desk import BulkAction, TicketBulkForm
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import ticket_base, with_list_related
from kefu.tickets.services.flow import ticket_close, ticket_route
from kefu.tickets.services.tickets import ticket_assign
from kefu.tickets.views.queues import safe_back

CHANGE = "tickets.change_ticket"
# Each ticket goes through its own service call (lock, checks, events, notices).
MAX_BULK = 100


class BulkRefused(Exception):
    """One ticket refused: the whole batch is rolled back."""

    def __init__(self, ticket: Ticket, error: KefuError):
        super().__init__(error.message)
        self.ticket = ticket
        self.error = error


def tickets_bulk_apply(*, actor, tickets: list[Ticket], form: TicketBulkForm) -> int:
    """Apply the form's action to every ticket with the single-action services, in one
    transaction (all or nothing). Raises BulkRefused naming the first refusal."""
    data = form.cleaned_data
    action = data["action"]
    with transaction.atomic():
        for ticket in tickets:
            try:
                if action == BulkAction.ROUTE:
                    ticket_route(
                        actor=actor,
                        ticket=ticket,
                        departments=list(data["departments"]),
                        instructions=data.get("instructions") or "",
                    )
                elif action == BulkAction.ASSIGN:
                    ticket_assign(actor=actor, ticket=ticket, assignee=data["assignee"])
                else:
                    ticket_close(actor=actor, ticket=ticket, note=data.get("note") or "")
            except KefuError as err:
                raise BulkRefused(ticket, err) from err
    return len(tickets)


def _posted_ids(request) -> list[int] | None:
    raw = request.POST.getlist("ids")
    if request.POST.get("all_on_page"):
        raw = [*raw, *request.POST.getlist("page_ids")]
    ids: set[int] = set()
    for value in raw:
        value = str(value)
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            return None
        ids.add(int(value))
    return sorted(ids)


def _preview(tickets: list[Ticket], action: str) -> list[dict]:
    """Each ticket with the refusal its status would cause (the services decide; this
    only warns before the click)."""
    rows = []
    for ticket in tickets:
        problem = ""
        try:
            transitions.check(BulkAction.TRANSITION[action], ticket)
        except KefuError as err:
            problem = err.message
        rows.append({"ticket": ticket, "problem": problem})
    return rows


@require_perm(CHANGE)
@require_POST
def ticket_bulk(request):
    user = request.user
    back = safe_back(request, request.POST.get("back"), reverse("tickets:list"))
    ids = _posted_ids(request)
    if ids is None:
        messages.error(request, _("工单编号无效。"))
        return redirect(back)
    if not ids:
        messages.error(request, _("请先勾选要批量处理的工单。"))
        return redirect(back)
    if len(ids) > MAX_BULK:
        messages.error(request, _("一次最多批量处理 %(max)d 张工单。") % {"max": MAX_BULK})
        return redirect(back)
    form = TicketBulkForm(request.POST, user=user)
    valid = form.is_valid()
    action = form.cleaned_data.get("action")
    if not action:
        messages.error(request, "；".join(form.errors.get("action", [])) or _("请选择批量操作。"))
        return redirect(back)
    confirming = request.POST.get("confirm") == "1"
    tickets = list(with_list_related(ticket_base(user).filter(pk__in=ids)).order_by("id"))
    missing = len(ids) - len(tickets)
    error, refused, status = "", None, 200
    if confirming and not valid:
        error, status = _("请补全批量操作的内容。"), 422
    elif confirming and missing:
        error, status = _("有 %(count)d 张工单不存在或不在您的可见范围内，未做任何修改。") % {"count": missing}, 404
    elif confirming:
        try:
            count = tickets_bulk_apply(actor=user, tickets=tickets, form=form)
        except BulkRefused as err:
            refused, status = err.ticket.pk, err.error.status
            error = _("工单 %(number)s 未能处理：%(reason)s 所有工单均未修改。") % {
                "number": err.ticket.number,
                "reason": err.error.message,
            }
            # The rolled-back services may have refreshed the objects: show the rows as stored.
            tickets = list(with_list_related(ticket_base(user).filter(pk__in=ids)).order_by("id"))
        else:
            messages.success(
                request, _("已批量处理 %(count)d 张工单：%(what)s") % {"count": count, "what": form.describe()}
            )
            return redirect(back)
    if not confirming:
        # The first step asks for what the action needs; no errors before the agent has tried.
        form = TicketBulkForm(initial=form.cleaned_data, user=user)
    return render(
        request,
        "tickets/desk/bulk_confirm.html",
        {
            "form": form,
            "action": action,
            "ids": ids,
            "count": len(ids),
            "missing": missing,
            "rows": _preview(tickets, action),
            "description": dict(BulkAction.CHOICES)[action],
            "back": back,
            "error": error,
            "refused": refused,
        },
        status=status,
    )
