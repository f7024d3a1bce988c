"""Correcting a registered ticket (修改): its own page, because it carries every field
of the registration and the kind's extra fields. The version the user started from
goes back with the form; somebody else's save in between is a 409 that keeps what
the user typed."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.views.base import require_perm
from kefu.tickets import transitions
from kefu.tickets.forms_detail import TicketEditForm
from kefu.tickets.services.common import CHANGE
from kefu.tickets.services.tickets import ticket_update
from kefu.tickets.views.detail import visible_ticket


@require_perm(CHANGE)
def ticket_edit_view(request, pk: int):
    ticket = visible_ticket(request, pk)
    user = request.user
    status = 200
    if request.method == "POST":
        form = TicketEditForm(request.POST, ticket=ticket, user=user)
        if form.is_valid():
            try:
                ticket_update(
                    actor=user, ticket=ticket, values=form.values(), expected_version=form.cleaned_data.get("version")
                )
            except KefuError as err:
                # The service names an extra field `extra.<key>`: the form's field name too.
                add_service_error(form, err)
                status = err.status
            else:
                messages.success(request, _("工单已保存。"))
                return redirect("tickets:detail", pk=ticket.pk)
        else:
            status = 422
    else:
        form = TicketEditForm(initial=TicketEditForm.initial_for(ticket), ticket=ticket, user=user)
    return render(
        request,
        "tickets/detail/edit.html",
        {"ticket": ticket, "form": form, "editable": transitions.allowed("update", ticket.status)},
        status=status,
    )
