"""The service desk's queues (工单队列) and the important complaints archive (重要投诉
档案): tabs with a count per queue, filters, sort, keyset pages, the export link and
the bulk-action bar.

Every page reads the query string through `filters_from_params`/`sort_from_params` and
`ticket_list`, exactly like the export and the API, so "导出" exports what is shown."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from kefu.core import access
from kefu.core.errors import ValidationFailed
from kefu.core.pagination import Page, keyset_page
from kefu.core.views.base import require_perm
from kefu.tickets.forms_desk import TicketBulkForm, TicketFilterForm
from kefu.tickets.models import Ticket
from kefu.tickets.params import filters_from_params, sort_from_params
from kefu.tickets.selectors import QUEUES, TicketFilters, ticket_list, with_list_related

VIEW = "tickets.view_ticket"
CHANGE = "tickets.change_ticket"
EXPORT = "tickets.export_ticket"
PAGE_SIZE = 50

QUEUE_LABELS = {
    "mine": _("我的工单"),
    "department": _("本部门告知单"),
    "unrouted": _("待派单"),
    "due_soon": _("即将超时"),
    "overdue": _("已超时"),
    "escalated": _("已升级"),
    "awaiting_approval": _("待审批"),
    "awaiting_confirmation": _("待回访确认"),
    "important": _("重要投诉"),
    "open": _("未完结"),
    "all": _("全部"),
}
# The order of the tabs: the agent's own work first, "all" last.
QUEUE_ORDER = tuple(sorted(QUEUES, key=lambda q: list(QUEUE_LABELS).index(q) if q in QUEUE_LABELS else 99))


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def safe_back(request, value: str | None, default: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return default


def queue_counts(user) -> list[dict]:
    """One count per queue, each through the scoped selector (one query each)."""
    return [
        {
            "code": code,
            "label": QUEUE_LABELS.get(code, code),
            "count": ticket_list(user=user, filters=TicketFilters(queue=code)).count(),
            "url": reverse(f"tickets:queue_{code}"),
        }
        for code in QUEUE_ORDER
    ]


def page_of(queryset, order: tuple[str, ...], cursor: str | None, size: int | None = None) -> Page:
    """A keyset page; a cursor that does not fit the order (edited, or from another
    sort) starts again at page 1 instead of failing."""
    size = size or PAGE_SIZE
    # The page's ids first: see keyset_page (the department's queue at 1M tickets).
    try:
        return keyset_page(queryset, order=order, cursor=cursor, size=size, ids_first=True)
    except (ValidationFailed, ValueError, TypeError, OverflowError, DjangoValidationError):
        return keyset_page(queryset, order=order, cursor=None, size=size, ids_first=True)


def list_context(request, *, queue: str | None, url_name: str, export_name: str, target: str) -> dict:
    """What the queue and the archive pages share: filters → selector → page."""
    user = request.user
    error = ""
    try:
        filters = filters_from_params(request.GET, queue=queue)
        queryset = ticket_list(user=user, filters=filters)
    except ValidationFailed as err:
        error, filters, queryset = err.message, TicketFilters(queue=queue or "all"), Ticket.objects.none()
    sort_key, order = sort_from_params(request.GET)
    page = page_of(with_list_related(queryset), order, request.GET.get("cursor"))
    query = request.GET.copy()
    query.pop("cursor", None)
    if queue is not None:
        # The queue came from the address: the export and the next pages carry it on.
        query["queue"] = queue
    export_url = ""
    if access.has_perm(user, EXPORT):
        export_url = reverse(export_name) + (f"?{query.urlencode()}" if query else "")
    return {
        "page": page,
        "filters": filters,
        "form": TicketFilterForm(request.GET or None, user=user, url_name=url_name, target=target),
        "error": error,
        "sort_key": sort_key,
        "query_without_cursor": query.urlencode(),
        "export_url": export_url,
        "list_url": reverse(url_name),
        # Where the bulk form returns to: this very page (an htmx request's own address
        # is the list URL with the same query).
        "back_url": request.get_full_path(),
        "filtered": bool({k for k in query if k != "queue"}),
        "can_view_customers": access.has_perm(user, "customers.view_customer"),
    }


def _render(request, full: str, partial: str, context: dict):
    response = render(request, partial if is_htmx(request) else full, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_perm(VIEW)
def ticket_queue_view(request, queue: str | None = None):
    """工单队列. An htmx request (the search box as the user types, the sort) gets only
    the results partial; a full request the tabs with their counts too. `queue` comes
    from a queue's short address and wins over the `queue` parameter."""
    user = request.user
    context = list_context(
        request, queue=queue, url_name="tickets:list", export_name="tickets:export", target="#ticket-results"
    )
    can_change = access.has_perm(user, CHANGE)
    context.update(
        {
            "can_change": can_change,
            "can_add": access.has_perm(user, "tickets.add_ticket"),
            "bulk_form": TicketBulkForm(user=user) if can_change else None,
        }
    )
    if not is_htmx(request):
        context["queues"] = queue_counts(user)
    return _render(request, "tickets/desk/queue.html", "tickets/desk/_queue_results.html", context)


@require_perm(VIEW)
def important_archive_view(request):
    """重要投诉档案: the flagged complaints with the reason and when they were flagged."""
    context = list_context(
        request,
        queue="important",
        url_name="tickets:important",
        export_name="tickets:important_export",
        target="#important-results",
    )
    return _render(request, "tickets/desk/important.html", "tickets/desk/_important_results.html", context)
