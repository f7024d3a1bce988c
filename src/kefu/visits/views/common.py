"""What the visit pages share: permissions, the visible visit, rows loaded without
per-row queries, keyset pages that never fail on a bad cursor, safe return addresses and
the next visit of the agent's due list."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from kefu.core.errors import ValidationFailed
from kefu.core.pagination import Page, keyset_page
from kefu.core.views.base import get_visible
from kefu.customers.models import Contact
from kefu.visits.choices import VisitStatus
from kefu.visits.models import Visit
from kefu.visits.selectors import call_list

VIEW = "visits.view_visit"
VIEW_REGION = "visits.view_region_visits"
RECORD = "visits.record_visit"
REASSIGN = "visits.reassign_visit"
EXPORT = "visits.export_visit"
ADD = "visits.add_visit"
ORDER = ("due_date", "id")
PAGE_SIZE = 50


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def with_row_related(queryset: QuerySet[Visit]) -> QuerySet[Visit]:
    """What a list row shows, in a constant number of queries (the primary contact's
    phone, masked, for the agent to dial)."""
    return queryset.select_related(
        "customer", "customer__customer_class", "rule", "ticket", "assignee", "region"
    ).prefetch_related(
        Prefetch("customer__contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary_contacts")
    )


def page_of(queryset: QuerySet, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """A keyset page; a cursor that does not fit (edited by hand) starts again at page 1."""
    try:
        return keyset_page(queryset, order=ORDER, cursor=cursor, size=size)
    except (ValidationFailed, ValueError, TypeError, OverflowError, DjangoValidationError):
        return keyset_page(queryset, order=ORDER, cursor=None, size=size)


def page_of_customers(queryset: QuerySet, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    try:
        return keyset_page(queryset, order=("id",), cursor=cursor, size=size)
    except (ValidationFailed, ValueError, TypeError, OverflowError, DjangoValidationError):
        return keyset_page(queryset, order=("id",), cursor=None, size=size)


def mark_overdue(visits, today) -> None:
    """`overdue_days` on each planned visit past its due date (the rows highlighted)."""
    for visit in visits:
        late = (today - visit.due_date).days
        visit.overdue_days = late if visit.status == VisitStatus.PLANNED and late > 0 else 0


def visible_visit(request, pk: int) -> Visit:
    """The visit through the scoped selector (404 when absent or out of scope)."""
    queryset = Visit.objects.select_related(
        "customer",
        "customer__customer_class",
        "customer__region",
        "customer__owner",
        "rule",
        "ticket",
        "assignee",
        "questionnaire_version__questionnaire",
        "created_ticket",
    )
    return get_visible(queryset, request.user, VIEW, pk=pk)


def safe_back(request, value: str | None, default: str | None = None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return default or reverse("visits:list")


def next_due(user, *, after: Visit, due_date=None) -> Visit | None:
    """The visit after `after` in the user's due list (today and overdue, in list
    order), else the first one left; `due_date` is where `after` stood before it was
    worked (recording moves a no-answer visit to a later day)."""
    due_date = due_date or after.due_date
    remaining = call_list(user=user, today=timezone.localdate(), section="due").exclude(pk=after.pk)
    later = remaining.filter(Q(due_date__gt=due_date) | Q(due_date=due_date, id__gt=after.pk)).first()
    return later or remaining.first()


def next_url(user, *, after: Visit, due_date=None) -> str:
    following = next_due(user, after=after, due_date=due_date)
    if following is None:
        return reverse("visits:list")
    return reverse("visits:work", args=[following.pk])
