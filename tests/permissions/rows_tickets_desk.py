"""Rows for the service desk: queues and the important archive for every role that
sees tickets (department staff included: their scope narrows the rows, not the page);
exports for those granted `tickets.export_ticket`; the call screen for those who
register tickets; bulk actions for those who change tickets — and, when confirmed,
only for those the routing service lets route."""

from django.urls import reverse

from tests.factories_tickets import kind, load_ticket_config, make_ticket
from tests.permissions.matrix import Row, roles

VIEWERS = roles("manager", "supervisor", "agent", "account_manager", "department_staff", "quality_officer", "director")
EXPORTERS = roles("manager", "supervisor", "director")
REGISTRARS = roles("manager", "supervisor", "agent", "account_manager")
CHANGERS = REGISTRARS
ROUTERS = roles("manager", "supervisor", "agent")


def _config(w):
    load_ticket_config()
    return w


def _ticket(w):
    # In every scoped role's sight: the matrix users belong to the same region.
    load_ticket_config()
    owner = w.make_user("manager", username="matrix-ticket-owner", scope_all=True)
    return make_ticket(owner, region=w.region)


def _url(name, query=""):
    def url(w):
        _config(w)
        return reverse(f"tickets:{name}") + query

    return url


def _registration(w):
    return {
        "kind": kind("inquiry").pk,
        "severity": "normal",
        "channel": "phone",
        "caller_name": "矩阵来电",
        "title": "咨询保修",
        "description": "询问保修期。",
    }


ROWS = [
    Row("tickets-queue", _url("list"), VIEWERS),
    Row("tickets-queue-overdue", _url("queue_overdue"), VIEWERS),
    Row("tickets-important", _url("important"), VIEWERS),
    Row("tickets-export", _url("export"), EXPORTERS),
    Row("tickets-important-export", _url("important_export"), EXPORTERS),
    Row("tickets-call", _url("call"), REGISTRARS),
    Row("tickets-call-customers", _url("call_customers", "?q=张"), REGISTRARS),
    Row("tickets-call-caller", _url("call_caller", "?customer=1"), REGISTRARS),
    Row("tickets-call-kind", _url("call_kind", "?kind=1"), REGISTRARS),
    Row("tickets-call-register", _url("call"), REGISTRARS, method="post", data=_registration),
    Row(
        "tickets-call-new-customer",
        _url("call_new_customer"),
        REGISTRARS,
        method="post",
        data=lambda w: {"new-name": "矩阵新客户", "new-phone": "13700007777", "new-region": w.region.pk},
    ),
    Row(
        "tickets-bulk-preview",
        lambda w: reverse("tickets:bulk"),
        CHANGERS,
        method="post",
        data=lambda w: {"ids": [_ticket(w).pk], "action": "route", "departments": [w.department.pk]},
    ),
    # Changing tickets lets a role into the bulk page; routing them is the service's call.
    Row(
        "tickets-bulk-route",
        lambda w: reverse("tickets:bulk"),
        ROUTERS,
        method="post",
        data=lambda w: {"ids": [_ticket(w).pk], "action": "route", "departments": [w.department.pk], "confirm": "1"},
    ),
]
