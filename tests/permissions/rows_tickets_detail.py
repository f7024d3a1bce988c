"""Rows for the ticket page and its actions. The ticket lies in the matrix users' region
and is routed to their department, so region-scoped roles and department staff see
it; each write is allowed to the roles `kefu.tickets.menu` grants it to. A role
without the permission gets 403; department staff get 404 for a ticket not routed
to them or outside their region, and a role that may reveal numbers but not see
tickets gets 404 too."""

import datetime

from django.urls import reverse

from kefu.core.models import Department
from kefu.core.services.approvals import approval_policies_seed
from kefu.tickets.services import escalation, flow
from tests.factories import RegionFactory
from tests.factories_tickets import load_ticket_config, make_ticket
from tests.permissions.matrix import Row, roles

VIEWERS = roles("manager", "supervisor", "agent", "account_manager", "quality_officer", "department_staff", "director")
DESK = roles("manager", "supervisor", "agent", "account_manager")  # tickets.change_ticket
ROUTERS = roles("manager", "supervisor", "agent")  # route / resolve / request refunds
CONFIRMERS = roles("manager", "supervisor", "agent", "account_manager")
SUPERVISORS = roles("manager", "supervisor", "director")
IMPORTANT = roles("manager", "supervisor")
# handle_ticket, and the slip's department (department staff) or a supervisor's reach.
SLIP_WORKERS = roles("manager", "supervisor", "department_staff")
REVEALERS = roles("manager", "supervisor", "account_manager", "director")


def _ticket(w, *, routed: bool = True, stage: str = "routed", region=None):
    """A complaint in the matrix region (or `region`) with a caller number, routed to
    the matrix department (and carried on to `stage`)."""
    load_ticket_config()
    owner = w.make_user("manager", username="matrix-tickets-owner", scope_all=True)
    ticket = make_ticket(owner, region=region or w.region, caller_name="李四", caller_phone="13912345678")
    if not routed:
        return ticket
    (routing,) = flow.ticket_route(actor=owner, ticket=ticket, departments=[w.department])
    if stage in ("replied", "resolved"):
        flow.routing_reply(actor=owner, routing=routing, reply="已修复")
    if stage == "resolved":
        flow.ticket_resolve(actor=owner, ticket=ticket, resolution="已修复")
    if stage == "extension":
        escalation.extension_request(
            actor=owner, routing=routing, until=routing.due_at + datetime.timedelta(days=2), reason="等配件"
        )
    ticket.refresh_from_db()
    return ticket


def _url(name, *args):
    return reverse(f"tickets:{name}", args=args)


class _Post:
    """url and body from the same ticket (the runner calls `url`, then `data`)."""

    def __init__(self, name, body, **setup):
        self.name, self.body, self.setup, self.ticket = name, body, setup, None

    def url(self, w):
        self.ticket = _ticket(w, **self.setup)
        if self.name == "slip_accept":
            return _url(self.name, self.ticket.pk, self.ticket.routings.get().pk)
        if self.name == "extension_decide":
            return _url(self.name, self.ticket.pk, self.ticket.routings.get().extensions.get().pk)
        return _url(self.name, self.ticket.pk)

    def data(self, w):
        return self.body(w, self.ticket)


def _edit(w, ticket):
    fields = {"title": "改过的标题", "description": ticket.description, "severity": "normal", "channel": "phone"}
    return {**fields, "version": ticket.version}


def _route(w, ticket):
    other = Department.objects.create(code="matrix-repair", name="维修部")
    return {"departments": [other.pk], "version": ticket.version}


def _refund(w, ticket):
    approval_policies_seed()
    return {"kind": "refund", "amount": "100", "reason": "地板泡水"}


def _post(name, allowed, body, denied_status=(403,), **setup):
    action = _Post(name, body, **setup)
    return Row(
        f"tickets-detail-{name}", action.url, allowed, method="post", data=action.data, denied_status=denied_status
    )


ROWS = [
    Row("tickets-detail-page", lambda w: _url("detail", _ticket(w).pk), VIEWERS),
    # Not routed here: department staff do not see it, even with a region set on them.
    Row(
        "tickets-detail-page-unrouted",
        lambda w: _url("detail", _ticket(w, routed=False).pk),
        VIEWERS - {"department_staff"},
        denied_status=(403, 404),
    ),
    # Elsewhere and not routed here: only those who see everything.
    Row(
        "tickets-detail-page-out-of-scope",
        lambda w: _url("detail", _ticket(w, routed=False, region=RegionFactory(code="matrix-west")).pk),
        roles("manager", "director"),
        denied_status=(403, 404),
    ),
    Row("tickets-detail-history", lambda w: _url("history", _ticket(w).pk), VIEWERS),
    Row("tickets-detail-edit-page", lambda w: _url("edit", _ticket(w).pk), DESK),
    _post("edit", DESK, _edit),
    _post("comment", VIEWERS, lambda w, t: {"body": "业主下午在家"}),
    _post("route", ROUTERS, _route),
    _post("resolve", ROUTERS, lambda w, t: {"resolution": "已修复", "version": t.version}, stage="replied"),
    _post("confirm", CONFIRMERS, lambda w, t: {"satisfied": "1", "score": "5"}, stage="resolved"),
    _post("pause", DESK, lambda w, t: {"reason": "业主出差"}),
    _post("escalate", SUPERVISORS, lambda w, t: {"reason": "拖太久"}),
    _post("supervise", SUPERVISORS, lambda w, t: {"reason": "请今天处理"}),
    _post("mark_important", IMPORTANT, lambda w, t: {"important": "1", "reason": "媒体关注"}),
    _post("refund_request", ROUTERS, _refund),
    _post("slip_accept", SLIP_WORKERS, lambda w, t: {}),
    _post("extension_decide", SUPERVISORS, lambda w, t: {"grant": "1"}, stage="extension"),
    _post("reveal_caller_phone", REVEALERS, lambda w, t: {}, denied_status=(403, 404)),
]
