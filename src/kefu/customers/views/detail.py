"""The customer page: header, contacts, custom fields, timeline, lending, points and
possible duplicates, with the forms that act on it here (class, credit, points) and the
audited reveal of phone and ID numbers. The contact buttons are in `contacts`, the
merge in `merge`.

Every button posts to a service; a refusal comes back as a message or a form error,
never a 500."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core import access
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.forms import StyledForm, add_service_error
from kefu.core.pagination import keyset_page
from kefu.core.pii import REVEAL_PERMISSION, mask_id_number, mask_phone, may_reveal, reveal
from kefu.core.views.base import get_visible, require_perm
from kefu.customers.duplicates import find_duplicates
from kefu.customers.fields import active_fields
from kefu.customers.forms import ClassChangeForm, ContactForm, CreditChangeForm
from kefu.customers.models import Customer
from kefu.customers.selectors import customer_base, customer_get, timeline_for
from kefu.customers.services.customers import customer_change_class, customer_change_credit
from kefu.customers.services.loans import LEND, VIEW_LOANS, loans_for_customer
from kefu.customers.services.merge import MERGE
from kefu.customers.services.points import points_add, points_ledger
from kefu.customers.views.archive import CHANGE, VIEW

CHANGE_CREDIT = "customers.change_credit"
TIMELINE_PAGE = 20
LEDGER_SHOWN = 10
LOANS_SHOWN = 20
DUPLICATES_SHOWN = 20


class PointsForm(StyledForm):
    """Add or redeem points by hand. `token` is made when the form is shown and becomes
    the movement's idempotency key, so submitting the same form twice counts once."""

    delta = forms.IntegerField(
        label=gettext_lazy("积分变动"),
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text=gettext_lazy("正数为增加，负数为扣减。"),
    )
    reason = forms.CharField(label=gettext_lazy("事由"), max_length=200)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(_("积分变动必须是非零整数。"))
        return delta


class MergeSourceForm(StyledForm):
    """The archive number of the archive to merge into this one (on this page beside the
    possible duplicates, and on the merge page)."""

    archive_no = forms.CharField(label=gettext_lazy("被合并的档案编号"), max_length=64)


def visible_customer(request, pk: int) -> Customer:
    """The archive as the page shows it (with what the page reads), or 404."""
    customer = customer_get(user=request.user, pk=pk)
    if customer is None:
        raise Http404
    return customer


def changeable_customer(request, pk: int) -> Customer:
    return get_visible(Customer.objects.all(), request.user, CHANGE, pk=pk)


def live_customer(request, perm: str, pk: int) -> Customer:
    """An archive not merged into another, that the user may act on with `perm`."""
    return get_visible(Customer.objects.filter(merged_into__isnull=True), request.user, perm, pk=pk)


def _timeline_page(request, customer: Customer, cursor: str | None = None):
    entries = timeline_for(user=request.user, customer=customer)
    try:
        return keyset_page(entries, order=("-at", "-id"), cursor=cursor, size=TIMELINE_PAGE)
    except ValidationFailed:
        return keyset_page(entries, order=("-at", "-id"), cursor=None, size=TIMELINE_PAGE)


def contacts_context(request, customer: Customer, contact_form=None) -> dict:
    user = request.user
    live = customer.merged_into_id is None
    return {
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "can_change": live and access.can(user, CHANGE, customer),
        "can_reveal": may_reveal(user),
        "contact_form": contact_form or ContactForm(prefix="contact"),
    }


def render_detail(request, customer: Customer, **forms):
    """The page, with any bound form that failed passed in to show its errors."""
    user = request.user
    live = customer.merged_into_id is None
    can_change = live and access.can(user, CHANGE, customer)
    can_credit = live and access.can(user, CHANGE_CREDIT, customer)
    context = {
        **contacts_context(request, customer, forms.get("contact_form")),
        "live": live,
        "can_edit": can_change,
        "can_credit": can_credit,
        "custom_fields": active_fields(customer.kind),
        "categories": list(customer.categories.all()),
        "tags": list(customer.tags.all()),
        "timeline": _timeline_page(request, customer),
        "class_form": forms.get("class_form")
        or (ClassChangeForm(initial={"customer_class": customer.customer_class_id}, current=customer.customer_class)),
        "credit_form": forms.get("credit_form")
        or (CreditChangeForm(initial={"grade": customer.credit_grade_id}, current=customer.credit_grade)),
        "credit_changes": list(customer.credit_changes.select_related("from_grade", "to_grade")[:5]),
        **_loans_context(request, customer),
        **_points_context(request, customer, forms.get("points_form")),
        **_duplicates_context(request, customer),
    }
    return render(request, "customers/archive/detail.html", context)


def _loans_context(request, customer: Customer) -> dict:
    user = request.user
    if not access.has_perm(user, VIEW_LOANS):
        return {"show_loans": False}
    return {
        "show_loans": True,
        "loans": list(loans_for_customer(user, customer)[:LOANS_SHOWN]),
        "today": timezone.localdate(),
        "can_lend": access.has_perm(user, LEND),
    }


def _points_context(request, customer: Customer, points_form=None) -> dict:
    can_points = customer.merged_into_id is None and access.can(request.user, CHANGE, customer)
    if points_form is None and can_points:
        points_form = PointsForm(initial={"token": secrets.token_urlsafe(24)})
    return {
        "ledger": list(points_ledger(request.user, customer)[:LEDGER_SHOWN]),
        "can_points": can_points,
        "points_form": points_form,
    }


def _duplicates_context(request, customer: Customer) -> dict:
    """Live archives that look like this one, among those the user may see."""
    if customer.merged_into_id is not None:
        return {"duplicates": [], "can_merge": False}
    user = request.user
    found = find_duplicates(
        name=customer.name,
        phones=[c.phone for c in customer.contacts.all()],
        id_number=customer.id_number or "",
        exclude_pk=customer.pk,
    )
    rows = []
    for other in customer_base(user).filter(pk__in=found.values("pk")).prefetch_related("contacts")[:DUPLICATES_SHOWN]:
        rows.append(
            {
                "customer": other,
                "phones": [mask_phone(c.phone) for c in other.contacts.all() if c.phone],
                "id_number": mask_id_number(other.id_number) if other.id_number else "",
            }
        )
    can_merge = access.can(user, MERGE, customer)
    return {
        "duplicates": rows,
        "can_merge": can_merge,
        "merge_source_form": MergeSourceForm() if can_merge else None,
    }


@require_perm(VIEW)
@require_GET
def customer_detail(request, pk: int):
    return render_detail(request, visible_customer(request, pk))


@require_perm(VIEW)
@require_GET
def customer_timeline(request, pk: int):
    """More timeline entries (the "更多" button, htmx)."""
    customer = visible_customer(request, pk)
    page = _timeline_page(request, customer, request.GET.get("cursor"))
    return render(request, "customers/archive/_timeline.html", {"customer": customer, "timeline": page})


# --- class and credit -------------------------------------------------------------


def _after_service(request, customer: Customer, action, success: str, form, form_name: str):
    """Run `action`; on success a message and back to the page, on refusal the page
    again with the error on the form (what the user typed kept)."""
    try:
        action()
    except KefuError as err:
        add_service_error(form, err)
        return render_detail(request, visible_customer(request, customer.pk), **{form_name: form})
    messages.success(request, success)
    return redirect("customers:detail", pk=customer.pk)


@require_perm(CHANGE)
@require_POST
def customer_change_class_view(request, pk: int):
    customer = changeable_customer(request, pk)
    form = ClassChangeForm(request.POST, current=customer.customer_class)
    if not form.is_valid():
        return render_detail(request, visible_customer(request, pk), class_form=form)
    return _after_service(
        request,
        customer,
        lambda: customer_change_class(
            actor=request.user,
            customer=customer,
            customer_class=form.cleaned_data["customer_class"],
            reason=form.cleaned_data["reason"],
        ),
        _("客户分类已修改。"),
        form,
        "class_form",
    )


@require_perm(CHANGE_CREDIT)
@require_POST
def customer_change_credit_view(request, pk: int):
    customer = get_visible(Customer.objects.all(), request.user, CHANGE_CREDIT, pk=pk)
    form = CreditChangeForm(request.POST, current=customer.credit_grade)
    if not form.is_valid():
        return render_detail(request, visible_customer(request, pk), credit_form=form)
    return _after_service(
        request,
        customer,
        lambda: customer_change_credit(
            actor=request.user,
            customer=customer,
            grade=form.cleaned_data["grade"],
            reason=form.cleaned_data["reason"],
            effective_on=form.cleaned_data.get("effective_on"),
        ),
        _("信用等级已调整。"),
        form,
        "credit_form",
    )


# --- reveal -------------------------------------------------------------------------


def _revealed(request, value: str, testid: str):
    html = render_to_string("customers/archive/_revealed.html", {"value": value, "testid": testid}, request=request)
    response = HttpResponse(html)
    # A revealed number must not linger in any cache.
    response["Cache-Control"] = "no-store"
    return response


@require_perm(REVEAL_PERMISSION)
@require_POST
def reveal_phone(request, pk: int, contact_id: int):
    """The full number of one contact, recorded as `customer.phone.revealed`."""
    customer = get_visible(Customer.objects.all(), request.user, VIEW, pk=pk)
    contact = customer.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    try:
        value = reveal(
            user=request.user, obj=customer, field="phone", value=contact.phone, data={"contact": contact.pk}
        )
    except KefuError:
        raise PermissionDenied
    return _revealed(request, value, "revealed-phone")


@require_perm(REVEAL_PERMISSION)
@require_POST
def reveal_id_number(request, pk: int):
    """The full ID number / credit code, recorded as `customer.id_number.revealed`."""
    customer = get_visible(Customer.objects.all(), request.user, VIEW, pk=pk)
    try:
        value = reveal(user=request.user, obj=customer, field="id_number", value=customer.id_number)
    except KefuError:
        raise PermissionDenied
    return _revealed(request, value, "revealed-id-number")


# --- points -------------------------------------------------------------------------


@require_perm(CHANGE)
@require_POST
def customer_points_add(request, pk: int):
    """Points by hand. The key comes from the form's one-time token: a second submit of
    the same form finds the first movement and changes nothing."""
    customer = live_customer(request, CHANGE, pk)
    form = PointsForm(request.POST)
    if not form.is_valid():
        return render_detail(request, visible_customer(request, pk), points_form=form)
    data = form.cleaned_data
    try:
        entry = points_add(
            actor=request.user,
            customer=customer,
            delta=data["delta"],
            reason=data["reason"],
            key=f"web:{customer.pk}:{data['token']}",
        )
    except KefuError as err:
        add_service_error(form, err)
        return render_detail(request, visible_customer(request, pk), points_form=form)
    messages.success(request, _("积分已记录，当前余额 %(balance)s。") % {"balance": entry.balance_after})
    return redirect("customers:detail", pk=customer.pk)
