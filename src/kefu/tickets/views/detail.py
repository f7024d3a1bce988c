"""The ticket page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kefu.tickets.selectors import events_for, routings_for, ticket_get


@login_required
def ticket_detail(request, pk: int):
    ticket = ticket_get(user=request.user, pk=pk)
    return render(
        request,
        "tickets/detail.html",
        {"ticket": ticket, "events": events_for(ticket), "routings": routings_for(ticket)},
    )
