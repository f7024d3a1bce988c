"""What the endpoints of the tickets API share: how a ticket, a slip, an event, an
attachment, a refund are written out (phone numbers masked unless the caller may see
them), how the objects named in a path or a body are looked up through the scoped
selectors, and the optional version check of the transitions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.core import access, pii
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.pagination import Page, keyset_page
from kefu.core.schemas import errors
from kefu.tickets import selectors, transitions
from kefu.tickets.api.schemas import TicketOut
from kefu.tickets.api.schemas_in import MAX_ID, VersionIn
from kefu.tickets.models import (
    Attachment,
    DeadlineExtension,
    PenaltyProposal,
    RefundRequest,
    Ticket,
    TicketEvent,
    TicketRouting,
)
from kefu.tickets.services.common import lock_ticket

VIEW = selectors.VIEW
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# What every transition may answer; the text every transition's description ends with.
TRANSITION = {200: TicketOut, **errors(400, 403, 404, 409, 422)}
ILLEGAL = "当前状态不允许时返回 409 `ticket_illegal_transition`。"


def slip_pdf_path(routing_id: int) -> str:
    """The printable 投诉告知单, a PDF the desk renders (same scope check there)."""
    return reverse("tickets:slip_pdf", args=[routing_id])


def attachment_path(attachment_id: int) -> str:
    """The download of an attachment, served by the desk (same scope check there)."""
    return reverse("tickets:attachment", args=[attachment_id])


def not_found(**details) -> NotFound:
    return NotFound(_("对象不存在或不在您的可见范围内。"), details=details or None)


# --- output -------------------------------------------------------------------------


class Viewer:
    """Who reads the answer: phone numbers as they may see them, decided once."""

    def __init__(self, user):
        self.user = user
        self.reveal = pii.may_reveal(user)

    def phone(self, value: str) -> str:
        return value if self.reveal else pii.mask_phone(value)


def ref(obj, label: str | None = None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.pk, "name": label if label is not None else str(obj.name)}


def user_ref(user) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": user.display_name or user.username}


def ticket_ref(ticket: Ticket | None) -> dict[str, Any] | None:
    return None if ticket is None else {"id": ticket.pk, "number": ticket.number}


def list_item(ticket: Ticket, viewer: Viewer) -> dict[str, Any]:
    """A row of the list: only what `selectors.with_list_related` fetched with the page."""
    customer = ticket.customer
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "kind": {"id": ticket.kind.pk, "code": ticket.kind.code, "name": ticket.kind.name},
        "status": ticket.status,
        "status_name": ticket.get_status_display(),
        "title": ticket.title,
        "customer": (
            {"id": customer.pk, "archive_no": customer.archive_no, "name": customer.name} if customer else None
        ),
        "caller_name": ticket.caller_name,
        "caller_phone": viewer.phone(ticket.caller_phone),
        "channel": ticket.channel,
        "severity": ticket.severity,
        "category": ref(ticket.category, str(ticket.category)) if ticket.category else None,
        "region": ref(ticket.region),
        "assignee": user_ref(ticket.assignee),
        "sla_state": ticket.sla_state,
        "response_due_at": ticket.response_due_at,
        "resolve_due_at": ticket.resolve_due_at,
        "escalation_level": ticket.escalation_level,
        "is_important": ticket.is_important,
        "version": ticket.version,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def ticket_out(ticket: Ticket, viewer: Viewer) -> dict[str, Any]:
    visible = selectors.ticket_base(viewer.user)
    # Related and target tickets are named only when the viewer may see them too.
    related = visible.filter(pk__in=ticket.related.values("pk")).order_by("id").only("id", "number")
    merged_into = (
        visible.filter(pk=ticket.merged_into_id).only("id", "number").first() if ticket.merged_into_id else None
    )
    contact = ticket.contact
    return {
        **list_item(ticket, viewer),
        "description": ticket.description,
        "extra": ticket.extra or {},
        "contact": (
            {"id": contact.pk, "name": contact.name, "phone": viewer.phone(contact.phone)} if contact else None
        ),
        "agency_name": ticket.agency_name,
        "agency_ref": ticket.agency_ref,
        "agency_deadline": ticket.agency_deadline,
        "created_by": user_ref(ticket.created_by),
        "against_staff": user_ref(ticket.against_staff),
        "related": [ticket_ref(t) for t in related],
        "merged_into": ticket_ref(merged_into),
        "sla_paused_at": ticket.sla_paused_at,
        "first_response_at": ticket.first_response_at,
        "failed_attempts": ticket.failed_attempts,
        "cycle": ticket.cycle,
        "resolution": ticket.resolution,
        "cause_analysis": ticket.cause_analysis,
        "responsible_party": ticket.responsible_party,
        "responsible_department": ref(ticket.responsible_department),
        "resolved_at": ticket.resolved_at,
        "resolved_by": user_ref(ticket.resolved_by),
        "satisfaction": ticket.satisfaction,
        "confirmed_at": ticket.confirmed_at,
        "closed_at": ticket.closed_at,
        "reopen_count": ticket.reopen_count,
        "important_reason": ticket.important_reason,
        "important_at": ticket.important_at,
        "available_actions": transitions.available_actions(ticket),
    }


def event_out(event: TicketEvent) -> dict[str, Any]:
    routing = event.routing
    return {
        "id": event.pk,
        "code": event.code,
        "at": event.at,
        "actor": user_ref(event.actor),
        "slip": {"id": routing.pk, "slip_no": routing.slip_no} if routing else None,
        "note": event.note,
        "data": event.data or {},
    }


def extension_out(extension: DeadlineExtension) -> dict[str, Any]:
    return {
        "id": extension.pk,
        "status": extension.status,
        "until": extension.until,
        "reason": extension.reason,
        "requested_by": user_ref(extension.requested_by),
        "requested_at": extension.requested_at,
        "decided_by": user_ref(extension.decided_by),
        "decided_at": extension.decided_at,
        "decision_note": extension.decision_note,
    }


def slip_out(routing: TicketRouting) -> dict[str, Any]:
    return {
        "id": routing.pk,
        "slip_no": routing.slip_no,
        "department": ref(routing.department),
        "status": routing.status,
        "status_name": routing.get_status_display(),
        "instructions": routing.instructions,
        "due_at": routing.due_at,
        "routed_by": user_ref(routing.routed_by),
        "routed_at": routing.routed_at,
        "accepted_by": user_ref(routing.accepted_by),
        "accepted_at": routing.accepted_at,
        "reply": routing.reply,
        "replied_by": user_ref(routing.replied_by),
        "replied_at": routing.replied_at,
        "cancelled_at": routing.cancelled_at,
        "pdf_url": slip_pdf_path(routing.pk),
        "extensions": [extension_out(x) for x in routing.extensions.all()],
    }


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "original_name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_by": user_ref(attachment.uploaded_by),
        "uploaded_at": attachment.uploaded_at,
        "event_id": attachment.event_id,
        "url": attachment_path(attachment.pk),
    }


def refund_out(refund: RefundRequest) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "ticket": ticket_ref(refund.ticket),
        "kind": refund.kind,
        "amount": refund.amount,
        "reason": refund.reason,
        "status": refund.status,
        "approval_id": refund.approval_id,
        "requested_by": user_ref(refund.requested_by),
        "requested_at": refund.requested_at,
        "decided_at": refund.decided_at,
        "customer_told_at": refund.customer_told_at,
    }


def penalty_out(proposal: PenaltyProposal) -> dict[str, Any]:
    return {
        "id": proposal.pk,
        "ticket": ticket_ref(proposal.ticket),
        "staff": user_ref(proposal.staff),
        "responsible_party": proposal.responsible_party,
        "amount": proposal.amount,
        "reason": proposal.reason,
        "status": proposal.status,
        "approval_id": proposal.approval_id,
        "created_at": proposal.created_at,
    }


# --- lookups ------------------------------------------------------------------------


def ticket_for(request, ticket_id: int, *perms: str) -> Ticket:
    """The ticket of the path, for an endpoint: no role → 403, out of sight → 404.
    `perms` are the ones the service will require: checked here as well when the
    endpoint looks up ids from the body first, so a caller who may not act at all
    hears 403 rather than which of their ids were wrong."""
    access.require(request.user, VIEW)
    ticket = visible_ticket(request.user, ticket_id)
    for perm in perms:
        access.require(request.user, perm, ticket)
    return ticket


def visible_ticket(user, pk: int) -> Ticket:
    """One ticket through the scoped selector: absent or out of scope → 404."""
    if not 0 < pk <= MAX_ID:
        raise not_found()
    return selectors.ticket_get(user=user, pk=pk)


def written(user, ticket: Ticket) -> dict[str, Any]:
    """The answer to a write: the ticket as it now is. The actor passed the scoped read
    before writing; should the move have taken the ticket out of their sight (handing
    it to somebody else's queue), they still get the ticket they just changed."""
    try:
        fresh = visible_ticket(user, ticket.pk)
    except NotFound:
        fresh = Ticket.objects.select_related(
            "kind", "customer", "contact", "category", "assignee", "region", "created_by"
        ).get(pk=ticket.pk)
    return ticket_out(fresh, Viewer(user))


_VALUE_FIELDS = [f.attname for f in Ticket._meta.concrete_fields if not f.is_relation and not f.primary_key]


def created(user, ticket: Ticket) -> dict[str, Any]:
    """The answer to a create: the instance the service returned, its row read again by
    key alone (values as stored: times in UTC like every read) while its relations stay
    the objects the service was given — reading it back through the scoped selector's
    seven-table join was a third of an API create. Like `written`, the creator gets it
    whatever their scope."""
    ticket.refresh_from_db(fields=_VALUE_FIELDS)  # the named fields only: relations keep their objects
    return ticket_out(ticket, Viewer(user))


def slip_of(user, ticket: Ticket, routing_id: int) -> TicketRouting:
    """A slip of `ticket` (the one in the path) that `user` may see."""
    if not 0 < routing_id <= MAX_ID:
        raise not_found()
    routing = selectors.routing_get(user=user, pk=routing_id)
    if routing.ticket_id != ticket.pk:
        raise not_found()
    return routing


def pick(queryset: QuerySet, pk: int | None, field: str):
    """An id from the request body resolved through a (scoped) queryset: unknown → 422."""
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(
            _("%(field)s 无效：%(id)s 不存在或不可用。") % {"field": field, "id": pk}, details={"field": field}
        )
    return obj


def pick_many(queryset: QuerySet, ids: list[int], field: str) -> list:
    wanted = list(dict.fromkeys(ids))
    found = {obj.pk: obj for obj in queryset.filter(pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ValidationFailed(
            _("%(field)s 无效：%(ids)s 不存在或不可用。") % {"field": field, "ids": ", ".join(map(str, missing))},
            details={"field": field},
        )
    return [found[pk] for pk in wanted]


def page_of(
    queryset: QuerySet, *, order: tuple[str, ...], cursor: str | None, limit: int, ids_first: bool = False
) -> Page:
    try:
        return keyset_page(queryset, order=order, cursor=cursor, size=limit, ids_first=ids_first)
    except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
        # A cursor that decodes but carries values of the wrong type or size (a null
        # due date, a text where an id belongs).
        if not cursor:
            raise
        raise ValidationFailed(_("分页游标无效。"), details={"cursor": cursor}) from exc


def version_of(payload: VersionIn | None) -> int | None:
    """The version of an optional body (the moves that need no input may be posted
    without one)."""
    return payload.version if payload is not None else None


@contextmanager
def at_version(ticket: Ticket, version: int | None) -> Iterator[None]:
    """For the services that take no `expected_version`: lock the ticket and refuse a
    stale version (409), then run the service inside the same transaction, so nobody
    can slip a change in between."""
    with transaction.atomic():
        if version is not None:
            lock_ticket(ticket, expected_version=version)
        yield
