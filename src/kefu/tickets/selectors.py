"""Reads of tickets, scoped: the same selector feeds the HTML queues, the API list,
the counters and the Excel export, so no side door shows more than the detail page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from kefu.core import access
from kefu.core.errors import NotFound
from kefu.core.params import ids_or_none
from kefu.tickets.choices import (
    ACTIVE_ROUTING_STATUSES,
    DONE_STATUSES,
    OPEN_STATUSES,
    RefundStatus,
    SlaState,
    TicketStatus,
)
from kefu.tickets.models import RefundRequest, Ticket, TicketEvent, TicketRouting

VIEW = "tickets.view_ticket"

SORTS: dict[str, tuple[str, ...]] = {
    "due": ("resolve_due_at", "id"),
    "-due": ("-resolve_due_at", "-id"),
    "-id": ("-id",),
    "id": ("id",),
    "-updated_at": ("-updated_at", "-id"),
}
DEFAULT_SORT = "-id"

# The queues of the ticket desk (PRODUCT.md / issue 4 "Working with it").
QUEUES = (
    "all",
    "mine",
    "department",
    "unrouted",
    "due_soon",
    "overdue",
    "escalated",
    "awaiting_approval",
    "awaiting_confirmation",
    "important",
    "open",
)


# The list filters that accept `none` (the field is not set): the statistics' empty
# groups (未分类, 未指定部门, 未指定片区, 未分配) click through to exactly those tickets.
NONE_KEYS = ("category", "responsible_department", "region", "assignee")


@dataclass
class TicketFilters:
    queue: str = "all"
    q: str = ""
    kind: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    category: list[int] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    department: list[int] = field(default_factory=list)
    # The department the statistics count a ticket against (reports click through here).
    responsible_department: list[int] = field(default_factory=list)
    region: list[int] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    sla_state: list[str] = field(default_factory=list)
    assignee: list[int] = field(default_factory=list)
    customer: int | None = None
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    important: bool | None = None
    # Resolution deadline (resolve_due_at) on or after / on or before these days.
    due_from: datetime.date | None = None
    due_to: datetime.date | None = None
    # True: handled at some time (resolved_at set — what the reports count as resolved,
    # kept by a ticket withdrawn or closed afterwards); False: never handled.
    resolved: bool | None = None
    # Keys of NONE_KEYS whose "not set" group is wanted (besides the ids, if any).
    none_of: list[str] = field(default_factory=list)


def ticket_base(user) -> QuerySet[Ticket]:
    """Every ticket `user` may see: by region or as assignee at the service desk, by
    routing for a department (see Ticket.scope_fields)."""
    return access.restrict(Ticket.objects.all(), user, VIEW)


def _routed_to(department_ids, *, live_only: bool = False) -> Q:
    # EXISTS probes the (ticket, department) index per ticket, so a queue sorted by due
    # time walks its index in order and stops after a page (`pk IN (…)` made both
    # databases fetch and sort every ticket ever routed to the department).
    routings = TicketRouting.objects.filter(ticket=OuterRef("pk"), department_id__in=list(department_ids))
    routings = (
        routings.filter(status__in=ACTIVE_ROUTING_STATUSES) if live_only else routings.exclude(status="cancelled")
    )
    return Q(Exists(routings))


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _open_in_sla_state(qs: QuerySet[Ticket], state: str) -> QuerySet[Ticket]:
    # The open tickets through their partial index, the state checked per row: by the
    # (sla_state, status) index SQLite read every ticket ever breached (260,000 at 1M,
    # 0.65 s for the supervisor's dashboard) to find the 8,000 still open.
    return qs.alias(sla_state_of_row=Coalesce("sla_state", "sla_state")).filter(is_open=True, sla_state_of_row=state)


def _department_queue(user) -> QuerySet[Ticket]:
    """The open tickets with a live slip to the user's departments. Each is in their scope
    already (Ticket.scope_fields reaches what was routed to their departments), so the
    scope's own test is not repeated: PostgreSQL probed every candidate for both."""
    if not access.has_perm(user, VIEW):
        return Ticket.objects.none()
    return Ticket.objects.filter(_routed_to(access.user_department_ids(user), live_only=True), is_open=True)


def _queue(qs: QuerySet[Ticket], user, queue: str) -> QuerySet[Ticket]:
    if queue == "mine":
        return qs.filter(assignee=user, status__in=(*OPEN_STATUSES, *DONE_STATUSES))
    if queue == "unrouted":
        return qs.filter(status=TicketStatus.REGISTERED)
    if queue == "due_soon":
        return _open_in_sla_state(qs, SlaState.WARNING)
    if queue == "overdue":
        return _open_in_sla_state(qs, SlaState.BREACHED)
    if queue == "escalated":
        return qs.filter(is_open=True, escalation_level__gt=0)
    if queue == "awaiting_approval":
        pending = RefundRequest.objects.filter(ticket=OuterRef("pk"), status=RefundStatus.PENDING)
        return qs.filter(Exists(pending))
    if queue == "awaiting_confirmation":
        return qs.filter(status=TicketStatus.RESOLVED)
    if queue == "important":
        return qs.filter(is_important=True)
    if queue == "open":
        return qs.filter(is_open=True)
    return qs


def ticket_list(*, user, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    f = filters or TicketFilters()
    qs = _department_queue(user) if f.queue == "department" else _queue(ticket_base(user), user, f.queue)
    if f.q:
        term = f.q.strip()
        qs = qs.filter(Q(number=term.upper()) | Q(title__contains=term) | Q(customer__name=term))
    if f.kind:
        qs = qs.filter(kind__in=f.kind)
    if f.status:
        # Exactly the open statuses: the stored flag, whose index lists them in due order.
        qs = qs.filter(is_open=True) if set(f.status) == set(OPEN_STATUSES) else qs.filter(status__in=f.status)
    qs = _ids_or_none(qs, f, "category")
    if f.severity:
        qs = qs.filter(severity__in=f.severity)
    if f.department:
        qs = qs.filter(_routed_to(f.department))
    qs = _ids_or_none(qs, f, "responsible_department")
    qs = _ids_or_none(qs, f, "region")
    if f.channel:
        qs = qs.filter(channel__in=f.channel)
    if f.sla_state:
        qs = qs.filter(sla_state__in=f.sla_state)
    qs = _ids_or_none(qs, f, "assignee")
    if f.customer:
        qs = qs.filter(customer_id=f.customer)
    if f.created_from:
        qs = qs.filter(created_at__gte=_day_start(f.created_from))
    if f.created_to:
        qs = qs.filter(created_at__lt=_day_start(f.created_to + datetime.timedelta(days=1)))
    if f.important is not None:
        qs = qs.filter(is_important=f.important)
    if f.due_from:
        qs = qs.filter(resolve_due_at__gte=_day_start(f.due_from))
    if f.due_to:
        qs = qs.filter(resolve_due_at__lt=_day_start(f.due_to + datetime.timedelta(days=1)))
    if f.resolved is not None:
        qs = qs.filter(resolved_at__isnull=not f.resolved)
    return qs


def _ids_or_none(qs: QuerySet[Ticket], f: TicketFilters, key: str) -> QuerySet[Ticket]:
    return ids_or_none(qs, key, getattr(f, key), with_none=key in f.none_of)


def with_list_related(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a list row shows, fetched with the page (no per-row queries)."""
    return qs.select_related("kind", "customer", "category", "assignee", "region")


def ticket_get(*, user, pk) -> Ticket:
    """The ticket if `user` may see it; otherwise not found (its existence is not
    revealed)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("工单不存在或不在您的可见范围内。") from None
    ticket = (
        ticket_base(user)
        .select_related("kind", "customer", "contact", "category", "assignee", "region", "created_by", "sla_policy")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise NotFound("工单不存在或不在您的可见范围内。")
    return ticket


def ticket_by_number(*, user, number: str) -> Ticket:
    ticket = ticket_base(user).filter(number=(number or "").strip().upper()).first()
    if ticket is None:
        raise NotFound("工单不存在或不在您的可见范围内。")
    return ticket


def events_for(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor", "routing__department").order_by("at", "id")


def routings_for(ticket: Ticket) -> QuerySet[TicketRouting]:
    return ticket.routings.select_related("department", "accepted_by", "replied_by", "routed_by").order_by("id")


def routing_get(*, user, pk) -> TicketRouting:
    """A slip, if its ticket is visible to `user`."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("告知单不存在。") from None
    routing = TicketRouting.objects.select_related("ticket", "department").filter(pk=pk).first()
    if routing is None or not access.can(user, VIEW, routing.ticket):
        raise NotFound("告知单不存在。")
    return routing


def open_tickets_of_customer(*, user, customer_id: int) -> QuerySet[Ticket]:
    """For the call screen: the caller's tickets still being worked on."""
    return with_list_related(
        ticket_base(user).filter(customer_id=customer_id, status__in=(*OPEN_STATUSES, *DONE_STATUSES))
    ).order_by("-id")
