"""The phone agent's call screen (来电登记): find the caller as they speak (or create
the archive inline), see their open tickets and latest history, register the ticket
and, optionally, route it at once; then the ticket's page.

The left column works through htmx partials (search results, the caller's panel, the
quick-create form); the customer and contact radio buttons belong to the ticket form
through the HTML `form` attribute, so pressing Enter in the search box never submits the
ticket. Without JavaScript the same search works as a plain GET of the page."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.views.base import require_perm
from kefu.customers.selectors import CustomerFilters, customer_base, customer_list, timeline_for
from kefu.customers.selectors import with_list_related as customers_with_related
from kefu.customers.services.customers import ContactInput, CustomerInput, DuplicateSuspected, customer_create
from kefu.tickets.choices import Channel
from kefu.tickets.forms_desk import QuickCustomerForm, TicketCallForm
from kefu.tickets.params import clean_query
from kefu.tickets.selectors import open_tickets_of_customer
from kefu.tickets.services.flow import ticket_route
from kefu.tickets.services.tickets import TicketInput, ticket_create

ADD = "tickets.add_ticket"
ROUTE = "tickets.route_ticket"
ADD_CUSTOMER = "customers.add_customer"
RESULTS = 8
OPEN_TICKETS = 10
TIMELINE = 8


def _customer(user, raw):
    """A customer the user may see, from a parameter (None when absent or not visible)."""
    raw = str(raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return customers_with_related(customer_base(user)).filter(pk=int(raw)).first()


def _search(user, q: str) -> list:
    if not q:
        return []
    found = customer_list(user=user, filters=CustomerFilters(q=q))
    return list(customers_with_related(found).order_by("-updated_at", "-id")[:RESULTS])


def _results_context(user, *, q: str = "", customers=None, selected=None) -> dict:
    customers = _search(user, q) if customers is None else customers
    if selected is not None and selected.pk not in {c.pk for c in customers}:
        customers = [selected, *customers]
    return {
        "q": q,
        "customers": customers,
        "selected_id": selected.pk if selected is not None else None,
        "searched": bool(q),
    }


def _caller_context(user, customer, *, contact_id=None) -> dict:
    """The caller's panel: their contacts, open tickets and latest history."""
    if customer is None:
        return {"caller": None}
    contacts = list(customer.contacts.order_by("-is_primary", "id"))
    if contact_id is None and contacts:
        contact_id = contacts[0].pk
    return {
        "caller": customer,
        "contacts": contacts,
        "contact_id": contact_id,
        "open_tickets": list(open_tickets_of_customer(user=user, customer_id=customer.pk)[:OPEN_TICKETS]),
        "timeline": list(timeline_for(user=user, customer=customer)[:TIMELINE]),
    }


def _may_route(user) -> bool:
    return access.has_perm(user, ROUTE)


def _register(user, form: TicketCallForm):
    """Create the ticket and, when departments were picked, route it, in one
    transaction: a refused routing leaves no half-registered ticket behind."""
    data = form.cleaned_data
    agency = data["channel"] == Channel.AGENCY
    ticket_input = TicketInput(
        kind=data["kind"],
        title=data["title"],
        description=data["description"],
        customer=data.get("customer"),
        contact=data.get("contact"),
        caller_name=data.get("caller_name") or "",
        caller_phone=data.get("caller_phone") or "",
        channel=data["channel"],
        agency_name=(data.get("agency_name") or "") if agency else "",
        agency_ref=(data.get("agency_ref") or "") if agency else "",
        agency_deadline=data.get("agency_deadline") if agency else None,
        category=data.get("category"),
        severity=data["severity"],
        extra=form.extra_values(),
    )
    departments = list(data.get("departments") or [])
    with transaction.atomic():
        ticket = ticket_create(actor=user, data=ticket_input)
        if departments:
            ticket_route(
                actor=user, ticket=ticket, departments=departments, instructions=data.get("instructions") or ""
            )
    return ticket, departments


@require_http_methods(["GET", "POST"])
@require_perm(ADD)
def call_screen(request):
    user = request.user
    may_route = _may_route(user)
    if request.method == "POST":
        form = TicketCallForm(request.POST, user=user, may_route=may_route)
        if form.is_valid():
            try:
                ticket, departments = _register(user, form)
            except KefuError as err:
                add_service_error(form, err)
            else:
                if departments:
                    text = _("已登记工单 %(no)s，并派单至%(depts)s。") % {
                        "no": ticket.number,
                        "depts": "、".join(d.name for d in departments),
                    }
                else:
                    text = _("已登记工单 %(no)s。") % {"no": ticket.number}
                messages.success(request, text)
                return redirect("tickets:detail", pk=ticket.pk)
        selected = _customer(user, request.POST.get("customer"))
        contact_id = request.POST.get("contact")
        q = ""
    else:
        selected = _customer(user, request.GET.get("customer"))
        form = TicketCallForm(initial={"customer": selected.pk if selected else None}, user=user, may_route=may_route)
        contact_id = None
        q = clean_query(request.GET.get("q"))
    context = {
        "form": form,
        "may_route": may_route,
        "may_add_customer": access.has_perm(user, ADD_CUSTOMER),
        "quick_form": QuickCustomerForm(user=user),
        **_results_context(user, q=q, selected=selected),
        **_caller_context(user, selected, contact_id=_int_or_none(contact_id)),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "tickets/desk/call.html", context, status=status)


def _int_or_none(raw) -> int | None:
    raw = str(raw or "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


@require_GET
@require_perm(ADD)
def call_customers(request):
    """htmx: the search results as the agent types (radio buttons of the ticket form).
    With `customer` (a duplicate picked in the quick-create warning): that archive,
    selected, and its panel."""
    user = request.user
    if request.GET.get("customer"):
        customer = _customer(user, request.GET.get("customer"))
        context = {
            **_results_context(user, customers=[], selected=customer),
            **_caller_context(user, customer),
            "with_caller": True,
        }
        return render(request, "tickets/desk/_call_customers.html", context)
    q = clean_query(request.GET.get("q"))
    return render(request, "tickets/desk/_call_customers.html", _results_context(user, q=q))


@require_GET
@require_perm(ADD)
def call_caller(request):
    """htmx: the chosen caller's panel (contacts, open tickets, latest history)."""
    customer = _customer(request.user, request.GET.get("customer"))
    return render(request, "tickets/desk/_call_caller.html", _caller_context(request.user, customer))


@require_GET
@require_perm(ADD)
def call_kind(request):
    """htmx: the categories and extra fields of the chosen kind."""
    form = TicketCallForm(
        initial={"kind": request.GET.get("kind")}, user=request.user, may_route=_may_route(request.user)
    )
    return render(request, "tickets/desk/_call_kind.html", {"form": form})


@require_POST
@require_perm(ADD)
def call_new_customer(request):
    """htmx: 快速建档 through the archive's own service (its duplicate check included).
    On success the new archive is selected in the results and its panel shown."""
    user = request.user
    form = QuickCustomerForm(request.POST, user=user)
    duplicates = []
    if form.is_valid():
        data = form.cleaned_data
        phone = (data.get("phone") or "").strip()
        customer_input = CustomerInput(
            name=data["name"],
            contacts=[ContactInput(name=data["name"], phone=phone, is_primary=True)] if phone else [],
            region=data.get("region"),
        )
        try:
            customer = customer_create(actor=user, data=customer_input, allow_duplicate=data["allow_duplicate"])
        except DuplicateSuspected as err:
            form.add_error(None, err.message)
            found = (err.details or {}).get("duplicates", []) if isinstance(err.details, dict) else []
            duplicates = [d for d in found if d.get("visible")]
        except KefuError as err:
            add_service_error(form, err)
        else:
            customer = _customer(user, customer.pk)
            context = {
                "quick_form": QuickCustomerForm(user=user),
                "may_add_customer": True,
                "created": customer,
                **_results_context(user, customers=[], selected=customer),
                **_caller_context(user, customer),
            }
            return render(request, "tickets/desk/_call_quick_done.html", context)
    return render(
        request,
        "tickets/desk/_call_quick.html",
        # 200: htmx swaps only successful answers; the errors are in the partial.
        {"quick_form": form, "may_add_customer": True, "duplicates": duplicates},
    )
