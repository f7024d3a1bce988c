"""安排回访: a visit planned by hand (an account manager's trip, a follow-up promised),
reachable from the call list. The customer is found by the archive's search (typed
initials, phone digits, archive number) and picked from the results; a supervisor may
plan it for somebody else. Saved → the visit's work page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kefu.core import access
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.forms import add_service_error
from kefu.core.views.base import require_perm
from kefu.customers.selectors import CustomerFilters, customer_base, customer_list, with_list_related
from kefu.tickets.params import clean_query
from kefu.visits.forms import VisitCreateForm
from kefu.visits.services.visits import visit_create
from kefu.visits.views.common import ADD, REASSIGN, VIEW, is_htmx

RESULTS = 10


def _customer(user, raw):
    raw = str(raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return with_list_related(customer_base(user)).filter(pk=int(raw)).first()


def _search(user, q: str) -> tuple[list, str]:
    if not q:
        return [], ""
    try:
        found = customer_list(user=user, filters=CustomerFilters(q=q))
        return list(with_list_related(found).order_by("-updated_at", "-id")[:RESULTS]), ""
    except ValidationFailed as err:
        return [], err.message


def _results(user, q: str, selected) -> dict:
    customers, error = _search(user, q)
    if selected is not None and selected.pk not in {c.pk for c in customers}:
        customers = [selected, *customers]
    return {
        "q": q,
        "customers": customers,
        "selected_id": selected.pk if selected is not None else None,
        "searched": bool(q),
        "search_error": error,
    }


@require_perm(ADD)
@require_http_methods(["GET", "HEAD", "POST"])
def visit_create_view(request):
    user = request.user
    may_assign = access.has_perm(user, REASSIGN)
    source = request.POST if request.method == "POST" else request.GET
    q = clean_query(source.get("q"))
    selected = _customer(user, source.get("customer"))
    if is_htmx(request) and request.method == "GET":
        return render(request, "visits/_customers.html", _results(user, q, selected))
    status = 200
    if request.method == "POST":
        form = VisitCreateForm(request.POST, user=user, may_assign=may_assign)
        if not form.is_valid():
            status = 422
        else:
            data = form.cleaned_data
            try:
                visit = visit_create(
                    actor=user,
                    customer=data["customer"],
                    visit_type=data["visit_type"],
                    due_date=data["due_date"],
                    assignee=data.get("assignee"),
                    channel=data["channel"],
                    questionnaire=data.get("questionnaire"),
                )
            except KefuError as err:
                add_service_error(form, err)
                status = err.status
            else:
                messages.success(
                    request,
                    _("已安排回访：%(customer)s，%(date)s。")
                    % {"customer": visit.customer.name, "date": visit.due_date.isoformat()},
                )
                if access.can(user, VIEW, visit):
                    return redirect("visits:work", pk=visit.pk)
                return redirect("visits:list")
    else:
        initial = {"customer": selected.pk} if selected is not None else {}
        form = VisitCreateForm(initial=initial, user=user, may_assign=may_assign)
    context = {"form": form, **_results(user, q, selected)}
    return render(request, "visits/create.html", context, status=status)
