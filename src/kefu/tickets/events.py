"""One call per thing that happened: the ticket's own history (TicketEvent), the audit
log and the customer's timeline, all in the transaction of the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from kefu.core.audit import audit_record
from kefu.customers.timeline import timeline_add
from kefu.tickets.models import Ticket, TicketEvent, TicketRouting


def ticket_event(
    *,
    ticket: Ticket,
    code: str,
    title: str,
    actor=None,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    routing: TicketRouting | None = None,
    on_timeline: bool = True,
    at=None,
) -> TicketEvent:
    """Record `code` (dotted, e.g. `ticket.routed`) on the ticket, in the audit log and,
    when the ticket has a customer and `on_timeline`, on the customer's timeline."""
    at = at or timezone.now()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    payload = dict(data or {})
    event = TicketEvent.objects.create(
        ticket=ticket, code=code, actor=actor, at=at, routing=routing, note=note, data=payload
    )
    audit_record(
        code=code, obj=ticket, actor=actor, changes=changes, data={**payload, "note": note} if note else payload
    )
    if on_timeline and ticket.customer_id:
        timeline_add(
            customer=ticket.customer,
            kind=code,
            title=f"{ticket.number} {title}",
            body=note,
            actor=actor,
            ref=ticket,
            data={"ticket": ticket.number, **{k: v for k, v in payload.items() if isinstance(v, (str, int))}},
            at=at,
        )
    return event
