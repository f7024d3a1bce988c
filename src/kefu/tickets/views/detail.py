"""The ticket page (工单详情): header with deadlines, customer, description, the slips
sent to departments, extensions, escalations, money, related tickets, attachments and
the history — and a form for every move the ticket's status allows and the user's role
grants (the action views in actions*.py post them to the services, which check again).

The ticket comes through the scoped selector: a ticket outside the user's sight is a
404, whatever its number; department staff see only tickets routed to them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core import access
from kefu.core.errors import KefuError, NotFound, ValidationFailed
from kefu.core.pagination import keyset_page
from kefu.core.pii import REVEAL_PERMISSION, mask_phone, may_reveal, reveal
from kefu.core.views.base import require_perm
from kefu.tickets import forms_detail as f
from kefu.tickets import transitions
from kefu.tickets.choices import (
    ACTIVE_ROUTING_STATUSES,
    OPEN_STATUSES,
    ExtensionStatus,
    RefundStatus,
    RoutingStatus,
    TicketStatus,
)
from kefu.tickets.fields import kind_fields
from kefu.tickets.models import DeadlineExtension, Ticket
from kefu.tickets.selectors import events_for, routings_for, ticket_base, ticket_get
from kefu.tickets.services.common import (
    CHANGE,
    CONFIRM,
    HANDLE,
    MARK_IMPORTANT,
    REQUEST_REFUND,
    RESOLVE,
    ROUTE,
    SUPERVISE,
    VIEW,
    may_act_for_department,
)
from kefu.tickets.views.detail_history import decorate

HISTORY_PAGE = 30
RELATED_SHOWN = 50
CUSTOMER_VIEW = "customers.view_customer"
APPROVALS_VIEW = "core.view_approvalrequest"
PROPOSE_PENALTY = "tickets.add_penaltyproposal"
VIEW_PENALTIES = "tickets.view_penaltyproposal"

STATUS_CSS = {
    TicketStatus.REGISTERED: "azure",
    TicketStatus.ROUTED: "blue",
    TicketStatus.IN_PROGRESS: "indigo",
    TicketStatus.RESOLVED: "teal",
    TicketStatus.CONFIRMED: "green",
}
SEVERITY_CSS = {"important": "yellow", "major": "orange", "urgent": "red"}
SLA_CSS = {"on_track": "green", "warning": "yellow", "breached": "red", "paused": "secondary"}

# The few words each reason-only form asks for.
REASON_LABELS = {
    "reopen": gettext_lazy("重开原因"),
    "close": gettext_lazy("备注"),
    "withdraw": gettext_lazy("撤销原因"),
    "pause": gettext_lazy("暂停原因（等待客户）"),
    "escalate": gettext_lazy("升级说明"),
    "supervise": gettext_lazy("督办意见"),
    "slip_cancel": gettext_lazy("撤回原因"),
}


def visible_ticket(request, pk) -> Ticket:
    try:
        return ticket_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def may(user, perm: str, ticket: Ticket) -> bool:
    """The role (and any object rule) on a ticket the scoped selector returned: the
    scope is the same for every ticket permission, so it is not queried again."""
    if not access.has_perm(user, perm):
        return False
    if access.OBJECT_RULES.rule_exists(perm):
        return access.OBJECT_RULES.test_rule(perm, user, ticket)
    return True


def abilities(user, ticket: Ticket) -> dict[str, bool]:
    """Which ticket-level forms to show: the status allows the move (transitions) and
    the role grants it. The services check both again when the form is posted."""
    moves = set(transitions.available_actions(ticket))

    def able(move: str, perm: str) -> bool:
        return move in moves and may(user, perm, ticket)

    paused = ticket.sla_paused_at is not None
    awaiting_visit = ticket.status == TicketStatus.RESOLVED and ticket.kind.requires_confirmation
    return {
        "edit": able("update", CHANGE),
        "assign": able("assign", CHANGE),
        "route": able("route", ROUTE),
        "resolve": able("resolve", RESOLVE),
        "propose_penalty": able("resolve", RESOLVE) and may(user, PROPOSE_PENALTY, ticket),
        "confirm": able("confirm", CONFIRM),
        "reopen": able("reopen", CONFIRM),
        # A kind the customer confirms cannot close before the return visit.
        "close": able("close", CONFIRM) and not awaiting_visit,
        "withdraw": able("withdraw", CHANGE),
        "duplicate": able("duplicate", CHANGE),
        "link": able("update", CHANGE),
        "pause": able("pause", CHANGE) and not paused,
        "resume": able("resume", CHANGE) and paused,
        "escalate": able("escalate", SUPERVISE),
        "supervise": able("supervise", SUPERVISE),
        "important": may(user, MARK_IMPORTANT, ticket),
        "refund": able("refund", REQUEST_REFUND) and ticket.kind.allows_refund,
        "manage_refunds": may(user, REQUEST_REFUND, ticket),
        "comment": able("comment", VIEW),
        "attach": able("attach", VIEW),
        "cancel_slip": ticket.status in OPEN_STATUSES and may(user, ROUTE, ticket),
        "decide_extension": may(user, SUPERVISE, ticket),
        "handle": may(user, HANDLE, ticket),
        "moves": moves,
    }


def make_form(name: str, data=None, *, ticket: Ticket, user, target: int | None = None):
    """The form of action `name` (blank, or bound to `data`): the page and the action
    view build it the same way, so a refused form comes back as it was typed."""
    auto_id = f"{name}{target or ''}-%s"
    version = {"version": ticket.version}
    if name in REASON_LABELS:
        return f.ReasonForm(data, label=REASON_LABELS[name], required=name != "close", initial=version, auto_id=auto_id)
    builders = {
        "assign": lambda: f.AssignForm(
            data, user=user, initial={"assignee": ticket.assignee_id, **version}, auto_id=auto_id
        ),
        "route": lambda: f.RouteForm(data, initial=version, auto_id=auto_id),
        "resolve": lambda: f.ResolveForm(
            data,
            ticket=ticket,
            user=user,
            may_propose=may(user, PROPOSE_PENALTY, ticket),
            initial={"penalty_staff": ticket.against_staff_id, **version},
            auto_id=auto_id,
        ),
        "confirm": lambda: f.ConfirmForm(data, initial=version, auto_id=auto_id),
        "duplicate": lambda: f.TicketNumberForm(data, with_merge=True, auto_id=auto_id),
        "link": lambda: f.TicketNumberForm(data, auto_id=auto_id),
        "important": lambda: f.ImportantForm(data, auto_id=auto_id),
        "refund": lambda: f.RefundForm(data, auto_id=auto_id),
        "comment": lambda: f.CommentForm(data, auto_id=auto_id),
        "slip_handle": lambda: f.HandlingForm(data, auto_id=auto_id),
        "slip_reply": lambda: f.ReplyForm(data, auto_id=auto_id),
        "slip_extension": lambda: f.ExtensionRequestForm(data, auto_id=auto_id),
        "extension_decide": lambda: f.ExtensionDecideForm(data, auto_id=auto_id),
    }
    return builders[name]()


@dataclass
class Failed:
    """A submission the form or the service refused: shown again with its errors, and
    its message at the top of the page. `target` is the slip/extension/refund it was for."""

    name: str
    form: Any = None
    message: str = ""
    target: int | None = None


def _form(name: str, failed: Failed | None, *, ticket: Ticket, user, target: int | None = None):
    if failed is not None and failed.name == name and failed.target == target and failed.form is not None:
        return failed.form
    return make_form(name, ticket=ticket, user=user, target=target)


TICKET_FORMS = (
    "assign",
    "route",
    "resolve",
    "confirm",
    "reopen",
    "close",
    "withdraw",
    "duplicate",
    "link",
    "pause",
    "escalate",
    "supervise",
    "important",
    "refund",
    "comment",
)


def _due(due, done_at, now, *, warn_at=None, paused: bool = False) -> dict | None:
    """A deadline with the colour of its state: met/late once done, else ahead, close
    (past the warning point) or overdue."""
    if due is None:
        return None
    if done_at is not None:
        late = done_at > due
        return {"at": due, "css": "red" if late else "secondary", "note": _("超时完成") if late else _("已按时完成")}
    if paused:
        return {"at": due, "css": "secondary", "note": _("暂停计时")}
    if now > due:
        return {"at": due, "css": "red", "note": _("已超时")}
    if warn_at is not None and now >= warn_at:
        return {"at": due, "css": "yellow", "note": _("即将超时")}
    return {"at": due, "css": "green", "note": ""}


def _slips(user, ticket: Ticket, can: dict, failed: Failed | None, now) -> list:
    """The slips with their extensions, what the user may do on each, and its forms."""
    routings = list(routings_for(ticket))
    by_routing: dict[int, list[DeadlineExtension]] = defaultdict(list)
    extensions = DeadlineExtension.objects.filter(routing__ticket=ticket).select_related("requested_by", "decided_by")
    for extension in extensions.order_by("-requested_at", "-id"):
        by_routing[extension.routing_id].append(extension)
    moves = can["moves"]
    for r in routings:
        r.extension_list = by_routing[r.pk]
        r.pending_extension = next((e for e in r.extension_list if e.status == ExtensionStatus.PENDING), None)
        active = r.status in ACTIVE_ROUTING_STATUSES
        # Department staff work their own department's slips only (the service says so too).
        works = active and can["handle"] and may_act_for_department(user, r.department_id)
        r.can_accept = works and "accept" in moves and r.status == RoutingStatus.SENT
        r.can_handle = works and "handle" in moves
        r.can_reply = works and "reply" in moves
        r.can_extend = works and "request_extension" in moves and r.pending_extension is None
        r.can_cancel = active and can["cancel_slip"]
        r.can_decide = r.pending_extension is not None and can["decide_extension"]
        r.due = _due(r.due_at, r.replied_at, now) if r.status != RoutingStatus.CANCELLED else None
        r.forms = {}
        for name, allowed in (
            ("slip_handle", r.can_handle),
            ("slip_reply", r.can_reply),
            ("slip_extension", r.can_extend),
            ("slip_cancel", r.can_cancel),
        ):
            if allowed:
                r.forms[name] = _form(name, failed, ticket=ticket, user=user, target=r.pk)
        if r.can_decide:
            r.forms["extension_decide"] = _form(
                "extension_decide", failed, ticket=ticket, user=user, target=r.pending_extension.pk
            )
    return routings


def _links(user, ticket: Ticket) -> list[Ticket]:
    """Related, merged-from and merged-into tickets — only those the user may see."""
    related_ids = Ticket.related.through.objects.filter(from_ticket_id=ticket.pk).values("to_ticket_id")
    condition = Q(pk__in=related_ids) | Q(merged_into=ticket.pk)
    if ticket.merged_into_id:
        condition |= Q(pk=ticket.merged_into_id)
    rows = list(ticket_base(user).filter(condition).select_related("kind").order_by("-id")[:RELATED_SHOWN])
    for row in rows:
        if row.pk == ticket.merged_into_id:
            row.link_role = _("本单并入/重复于此")
        elif row.merged_into_id == ticket.pk:
            row.link_role = _("已并入本单")
        else:
            row.link_role = _("相关")
    return rows


def _customer_card(user, ticket: Ticket) -> dict:
    customer, contact = ticket.customer, ticket.contact
    if customer is not None and contact is None:
        contact = customer.contacts.filter(is_primary=True).first()
    reveal_contact = ""
    can_reveal = may_reveal(user)
    if can_reveal and contact is not None and contact.phone and access.can(user, CUSTOMER_VIEW, customer):
        reveal_contact = reverse("customers:reveal_phone", args=[customer.pk, contact.pk])
    return {
        "customer": customer,
        "contact": contact,
        "contact_phone": mask_phone(contact.phone) if contact is not None else "",
        "reveal_contact_url": reveal_contact,
        "caller_phone": mask_phone(ticket.caller_phone),
        "can_reveal_caller": can_reveal and bool(ticket.caller_phone),
        "customer_url": reverse("customers:detail", args=[customer.pk])
        if customer is not None and access.has_perm(user, CUSTOMER_VIEW)
        else "",
    }


def may_see_penalties(user, ticket: Ticket) -> bool:
    return may(user, VIEW_PENALTIES, ticket) or may(user, PROPOSE_PENALTY, ticket)


def history_page(request, ticket: Ticket, cursor: str | None = None):
    """Newest first, a page at a time (a busy ticket collects many comments)."""
    try:
        page = keyset_page(events_for(ticket), order=("-at", "-id"), cursor=cursor, size=HISTORY_PAGE)
    except ValidationFailed:
        page = keyset_page(events_for(ticket), order=("-at", "-id"), cursor=None, size=HISTORY_PAGE)
    page.items = decorate(page.items, show_penalties=may_see_penalties(request.user, ticket))
    return page


def history_context(request, ticket: Ticket, *, comment_form=None, comment_error: str = "") -> dict:
    can_comment = "comment" in transitions.available_actions(ticket) and may(request.user, VIEW, ticket)
    if can_comment and comment_form is None:
        comment_form = make_form("comment", ticket=ticket, user=request.user)
    return {
        "ticket": ticket,
        "history": history_page(request, ticket),
        "comment_form": comment_form if can_comment else None,
        "comment_error": comment_error,
    }


def page_context(request, ticket: Ticket, failed: Failed | None = None) -> dict:
    user = request.user
    now = timezone.now()
    can = abilities(user, ticket)
    forms = {name: _form(name, failed, ticket=ticket, user=user) for name in TICKET_FORMS if can.get(name)}
    refunds = list(ticket.refunds.select_related("requested_by", "payout"))
    may_see_approvals = access.has_perm(user, APPROVALS_VIEW)
    for refund in refunds:
        refund.can_cancel = can["manage_refunds"] and refund.status == RefundStatus.PENDING
        refund.can_tell = (
            can["manage_refunds"] and refund.status == RefundStatus.APPROVED and refund.customer_told_at is None
        )
        refund.show_approval = refund.approval_id and (may_see_approvals or refund.requested_by_id == user.pk)
    show_penalties = may_see_penalties(user, ticket)
    error = ""
    if failed is not None:
        error = failed.message or _("请检查填写的内容。")
    paused = ticket.sla_paused_at is not None
    comment = history_context(request, ticket, comment_form=forms.pop("comment", None))
    return {
        **comment,
        **_customer_card(user, ticket),
        "can": can,
        "forms": forms,
        "failed": failed,
        "action_error": error,
        "status_css": STATUS_CSS.get(ticket.status, "secondary"),
        "severity_css": SEVERITY_CSS.get(ticket.severity, "secondary"),
        "sla_css": SLA_CSS.get(ticket.sla_state, "secondary"),
        "finished": ticket.status not in OPEN_STATUSES,
        "response_due": _due(ticket.response_due_at, ticket.first_response_at, now, paused=paused),
        "resolve_due": _due(ticket.resolve_due_at, ticket.resolved_at, now, warn_at=ticket.warn_at, paused=paused),
        "extra_fields": kind_fields(ticket.kind),
        "routings": _slips(user, ticket, can, failed, now),
        "escalations": list(ticket.escalations.select_related("created_by")),
        "refunds": refunds,
        "penalties": list(ticket.penalties.select_related("staff")) if show_penalties else [],
        "show_penalties": show_penalties,
        "links": _links(user, ticket),
        "attachments": list(ticket.attachments.select_related("uploaded_by")),
    }


def render_page(request, ticket: Ticket, *, failed: Failed | None = None, status: int = 200):
    return render(request, "tickets/detail/page.html", page_context(request, ticket, failed), status=status)


@require_perm(VIEW)
@require_GET
def ticket_detail(request, pk: int):
    return render_page(request, visible_ticket(request, pk))


@require_perm(VIEW)
@require_GET
def ticket_history(request, pk: int):
    """Older history entries (the "更多" button, htmx; a plain link works too)."""
    ticket = visible_ticket(request, pk)
    page = history_page(request, ticket, request.GET.get("cursor"))
    return render(request, "tickets/detail/_history_items.html", {"ticket": ticket, "history": page})


@require_perm(REVEAL_PERMISSION)
@require_POST
def reveal_caller_phone(request, pk: int):
    """The caller's full number, recorded as `ticket.caller_phone.revealed`."""
    ticket = visible_ticket(request, pk)
    try:
        value = reveal(user=request.user, obj=ticket, field="caller_phone", value=ticket.caller_phone)
    except KefuError:
        raise PermissionDenied from None
    html = render_to_string(
        "customers/archive/_revealed.html", {"value": value, "testid": "revealed-caller-phone"}, request=request
    )
    response = HttpResponse(html)
    # A revealed number must not linger in any cache.
    response["Cache-Control"] = "no-store"
    return response
