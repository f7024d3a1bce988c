"""Where a ticket lives in the UI (used in notifications written by services and jobs,
which have no request to reverse against a namespace of)."""

from django.urls import reverse


def ticket_url(ticket) -> str:
    return reverse("tickets:detail", args=[ticket.pk])
