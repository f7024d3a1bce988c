"""Rows for the tickets API: who may read, register, correct and move tickets.

Every ticket here lies in the matrix region and (for the ones a department works on)
is routed to the matrix department, so each role's scope covers it and the answer
depends on the role's grants (`kefu.tickets.menu.ROLE_GRANTS`) alone. Roles without
tickets get 403; an unrouted ticket is a 404 for department staff."""

import datetime

from kefu.core.services.approvals import approval_policies_seed
from kefu.tickets.services import escalation, flow
from kefu.tickets.services.refunds import refund_request
from tests.factories import DepartmentFactory
from tests.factories_customers import make_customer
from tests.factories_tickets import load_ticket_config, make_ticket
from tests.permissions.matrix import Row, roles

VIEWERS = roles("manager", "supervisor", "agent", "account_manager", "department_staff", "quality_officer", "director")
ADDERS = roles("manager", "supervisor", "agent", "account_manager")
CHANGERS = ADDERS
ROUTERS = roles("manager", "supervisor", "agent")
HANDLERS = roles("manager", "supervisor", "department_staff")
RESOLVERS = roles("manager", "supervisor", "agent")
CONFIRMERS = roles("manager", "supervisor", "agent", "account_manager")
SUPERVISORS = roles("manager", "supervisor", "director")
MARKERS = roles("manager", "supervisor")
REFUNDERS = roles("manager", "supervisor", "agent")
PROPOSERS = roles("manager", "supervisor")
# Department staff do not see an unrouted ticket: 404 for them, 403 for the rest.
DENIED = (403, 404)


def _owner(w):
    if not hasattr(w, "owner"):
        load_ticket_config()
        w.owner = w.make_user(
            "manager", username="matrix-ticket-owner", scope_all=True, department=w.department, region=w.region
        )
        w.customer = make_customer(w.owner, name="矩阵客户", phone="13800000001", region=w.region)
    return w.owner


def _ticket(w):
    """A complaint routed to the matrix department (everyone with tickets sees it)."""
    owner = _owner(w)
    w.ticket = make_ticket(owner, customer=w.customer)
    (w.slip,) = flow.ticket_route(actor=owner, ticket=w.ticket, departments=[w.department])
    return w.ticket


def _money_ticket(w):
    """A routed complaint, with the approval flows its refunds and penalties go to."""
    approval_policies_seed()
    return _ticket(w)


def _inquiry(w, *, resolved=False, paused=False):
    """An unrouted inquiry (resolvable on the phone)."""
    owner = _owner(w)
    w.ticket = make_ticket(owner, kind_code="inquiry", customer=None, region=w.region)
    if resolved:
        flow.ticket_resolve(actor=owner, ticket=w.ticket, resolution="已答复")
    if paused:
        flow.ticket_pause(actor=owner, ticket=w.ticket, reason="等客户")
    return w.ticket


def _url(path):
    return f"/api/v1{path}"


def _plain(path):
    """An address that needs no ticket, only the configuration (and the owner's customer)."""

    def url(w):
        _owner(w)
        return _url(path)

    return url


def _t(path="", make=_ticket, **kwargs):
    return lambda w: _url(f"/tickets/{make(w, **kwargs).pk}{path}")


def _slip(action):
    def url(w):
        ticket = _ticket(w)
        return _url(f"/tickets/{ticket.pk}/slips/{w.slip.pk}/{action}")

    return url


def _slip_pdf(w):
    _ticket(w)
    return _url(f"/tickets/slips/{w.slip.pk}/pdf")


def _extension(w):
    ticket = _ticket(w)
    until = w.slip.due_at + datetime.timedelta(days=2)
    extension = escalation.extension_request(actor=w.owner, routing=w.slip, until=until, reason="等材料")
    return _url(f"/tickets/{ticket.pk}/extensions/{extension.pk}/decide")


def _refund_cancel(w):
    ticket = _money_ticket(w)
    refund = refund_request(actor=w.owner, ticket=ticket, amount="100", reason="补偿")
    return _url(f"/tickets/{ticket.pk}/refunds/{refund.pk}/cancel")


def _post(name, url, allowed, data=lambda w: {}, denied_status=DENIED):
    return Row(name, url, allowed, method="post", data=data, api=True, denied_status=denied_status)


def _get(name, url, allowed, denied_status=DENIED):
    return Row(name, url, allowed, api=True, denied_status=denied_status)


ROWS = [
    # reads
    _get("api-ticket-list", _plain("/tickets"), VIEWERS),
    _get("api-ticket-detail", _t(), VIEWERS),
    _get("api-ticket-events", _t("/events"), VIEWERS),
    _get("api-ticket-slips", _t("/slips"), VIEWERS),
    _get("api-ticket-comments", _t("/comments"), VIEWERS),
    _get("api-ticket-attachments", _t("/attachments"), VIEWERS),
    _get("api-ticket-refunds", _t("/refunds"), VIEWERS),
    _get("api-ticket-slip-pdf", _slip_pdf, VIEWERS),
    _get("api-ticket-settings", _plain("/ticket-settings"), VIEWERS | roles("admin")),
    # register and correct
    _post(
        "api-ticket-create",
        _plain("/tickets"),
        ADDERS,
        data=lambda w: {
            "kind": "complaint",
            "title": "漏水",
            "description": "卫生间漏水",
            "customer_id": w.customer.pk,
        },
    ),
    Row(
        "api-ticket-update",
        _t(),
        CHANGERS,
        method="patch",
        data=lambda w: {"version": w.ticket.version, "title": "楼下渗水"},
        api=True,
        denied_status=DENIED,
    ),
    _post("api-ticket-comment-add", _t("/comments"), VIEWERS, data=lambda w: {"body": "矩阵备注"}),
    # the lifecycle
    _post(
        "api-ticket-route",
        _t("/route"),
        ROUTERS,
        data=lambda w: {"departments": [DepartmentFactory(code="matrix-repair", name="维修部").pk]},
    ),
    _post("api-ticket-slip-accept", _slip("accept"), HANDLERS),
    _post("api-ticket-slip-handling", _slip("handling"), HANDLERS, data=lambda w: {"note": "上门查看"}),
    _post("api-ticket-slip-reply", _slip("reply"), HANDLERS, data=lambda w: {"reply": "已修复"}),
    _post("api-ticket-slip-cancel", _slip("cancel"), ROUTERS, data=lambda w: {"reason": "派错部门"}),
    _post(
        "api-ticket-slip-extension",
        _slip("extensions"),
        HANDLERS,
        data=lambda w: {"until": (w.slip.due_at + datetime.timedelta(days=1)).isoformat(), "reason": "等材料"},
    ),
    _post("api-ticket-extension-decide", _extension, SUPERVISORS, data=lambda w: {"grant": True}),
    _post("api-ticket-resolve", _t("/resolve", _inquiry), RESOLVERS, data=lambda w: {"resolution": "已答复"}),
    _post(
        "api-ticket-confirm",
        _t("/confirm", _inquiry, resolved=True),
        CONFIRMERS,
        data=lambda w: {"satisfied": True, "score": 5},
    ),
    _post("api-ticket-reopen", _t("/reopen", _inquiry, resolved=True), CONFIRMERS, data=lambda w: {"reason": "再问"}),
    _post("api-ticket-close", _t("/close", _inquiry, resolved=True), CONFIRMERS),
    _post("api-ticket-withdraw", _t("/withdraw"), CHANGERS, data=lambda w: {"reason": "客户撤诉"}),
    _post(
        "api-ticket-duplicate",
        _t("/duplicate"),
        CHANGERS,
        data=lambda w: {"original_id": make_ticket(w.owner, customer=w.customer).pk},
    ),
    _post("api-ticket-pause", _t("/pause"), CHANGERS, data=lambda w: {"reason": "等客户"}),
    _post("api-ticket-resume", _t("/resume", _inquiry, paused=True), CHANGERS),
    # chasing and money
    _post("api-ticket-escalate", _t("/escalate"), SUPERVISORS, data=lambda w: {"note": "加急"}),
    _post("api-ticket-supervise", _t("/supervise"), SUPERVISORS, data=lambda w: {"note": "今天回复"}),
    # Handing a ticket to somebody else is a supervisor's move (agents may only take it).
    _post("api-ticket-assign", _t("/assign"), MARKERS, data=lambda w: {"assignee_id": w.owner.pk}),
    _post("api-ticket-important", _t("/important"), MARKERS, data=lambda w: {"important": True, "reason": "媒体"}),
    _post(
        "api-ticket-refund",
        _t("/refunds", _money_ticket),
        REFUNDERS,
        data=lambda w: {"amount": "100", "reason": "补偿"},
    ),
    # Only the requester (here the owner) or whoever manages the approval flows withdraws.
    _post("api-ticket-refund-cancel", _refund_cancel, roles("manager")),
    _post(
        "api-ticket-penalty",
        _t("/penalties", _money_ticket),
        PROPOSERS,
        data=lambda w: {"reason": "施工不规范", "responsible_party": "外包施工队"},
    ),
]
