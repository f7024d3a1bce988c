"""The archive list (search, filters, sort, keyset pages, export link) and its bulk
actions with a confirmation step.

The list reads the query string through `filters_from_params`/`sort_from_params` and
`customer_list`, exactly like the export and the API, so "导出" exports what is shown."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.pagination import keyset_page
from kefu.core.pii import may_reveal
from kefu.core.views.base import require_perm
from kefu.customers.forms import CustomerBulkForm, CustomerFilterForm
from kefu.customers.models import Customer
from kefu.customers.params import filters_from_params, sort_from_params
from kefu.customers.selectors import customer_base, customer_list, with_list_related
from kefu.customers.services.bulk import MAX_BULK, customers_bulk_update

VIEW = "customers.view_customer"
CHANGE = "customers.change_customer"
EXPORT = "customers.export_customer"
PAGE_SIZE = 50
PREVIEW_NAMES = 20


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def safe_reverse(name: str, *args) -> str:
    """The URL of a page another part of the archive provides, or "" while it does not
    exist yet (the link is then simply not shown)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def list_url(query: str = "") -> str:
    return reverse("customers:list") + (f"?{query}" if query else "")


def safe_back(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return list_url()


@require_perm(VIEW)
def customer_list_view(request):
    """客户档案 list. An htmx request (the search box as the user types) gets only the
    results partial; a full request the whole page."""
    user = request.user
    form = CustomerFilterForm(request.GET or None, user=user)
    error = ""
    try:
        queryset = customer_list(user=user, filters=filters_from_params(request.GET))
    except ValidationFailed as err:
        error = err.message
        queryset = Customer.objects.none()
    sort_key, order = sort_from_params(request.GET)
    queryset = with_list_related(queryset)
    try:
        page = keyset_page(queryset, order=order, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    except ValidationFailed:
        page = keyset_page(queryset, order=order, cursor=None, size=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("cursor", None)
    export_url = safe_reverse("customers:export") if access.has_perm(user, EXPORT) else ""
    can_change = access.has_perm(user, CHANGE)
    context = {
        "page": page,
        "form": form,
        "error": error,
        "sort_key": sort_key,
        "query_without_cursor": query.urlencode(),
        "export_url": f"{export_url}?{query.urlencode()}" if export_url else "",
        "can_add": access.has_perm(user, "customers.add_customer"),
        "can_change": can_change,
        "can_reveal": may_reveal(user),
        "bulk_form": CustomerBulkForm(user=user) if can_change else None,
        "back_url": _current_url(request),
        "filtered": bool(query),
    }
    template = "customers/archive/_results.html" if is_htmx(request) else "customers/archive/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _current_url(request) -> str:
    """The list's address with the current query (where the bulk form returns to); for
    an htmx request too, whose own path is the same list URL."""
    query = request.GET.urlencode()
    return list_url(query)


def _posted_ids(request) -> list[int] | None:
    raw = request.POST.getlist("ids")
    if request.POST.get("all_on_page"):
        raw = [*raw, *request.POST.getlist("page_ids")]
    ids: set[int] = set()
    for value in raw:
        if not str(value).isdigit():
            return None
        ids.add(int(value))
    return sorted(ids)


@require_perm(CHANGE)
@require_POST
def customer_bulk(request):
    """Step 1 (no `confirm`): show "将修改 N 个客户" with the action; step 2 (`confirm=1`):
    run the all-or-nothing service and go back to the list."""
    user = request.user
    back = safe_back(request, request.POST.get("back"))
    ids = _posted_ids(request)
    if ids is None:
        messages.error(request, _("客户编号无效。"))
        return redirect(back)
    if not ids:
        messages.error(request, _("请先勾选要批量修改的客户。"))
        return redirect(back)
    if len(ids) > MAX_BULK:
        messages.error(request, _("一次最多批量修改 %(max)d 个客户。") % {"max": MAX_BULK})
        return redirect(back)
    form = CustomerBulkForm(request.POST, user=user)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, "；".join(errors) or _("请选择批量操作。"))
        return redirect(back)
    error, rejected = "", []
    if request.POST.get("confirm") == "1":
        try:
            changed = customers_bulk_update(
                actor=user, customer_ids=ids, reason=form.cleaned_data.get("reason") or "", **form.service_kwargs()
            )
        except KefuError as err:
            error = err.message
            if isinstance(err.details, dict):
                rejected = err.details.get("rejected") or []
        else:
            if changed:
                messages.success(request, _("已批量修改 %(count)d 个客户。") % {"count": changed})
            else:
                messages.info(request, _("所选客户已是目标状态，没有需要修改的内容。"))
            return redirect(back)
    visible = customer_base(user).filter(pk__in=ids)
    return render(
        request,
        "customers/archive/bulk_confirm.html",
        {
            "form": form,
            "ids": ids,
            "count": len(ids),
            "visible_count": visible.count(),
            "sample": list(visible.order_by("id").only("id", "name", "archive_no")[:PREVIEW_NAMES]),
            "description": form.describe(),
            "back": back,
            "error": error,
            "rejected": rejected,
        },
    )
