"""The customer page: header, contacts, custom fields, timeline, and the forms that act
on it (class, credit, contacts) plus the audited reveal of phone and ID numbers.

Every button posts to a service; a refusal comes back as a message or a form error,
never a 500. Contact buttons answer htmx requests with the contacts card alone."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core import access
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.forms import add_service_error
from kefu.core.pagination import keyset_page
from kefu.core.pii import REVEAL_PERMISSION, mask_phone, may_reveal, reveal
from kefu.core.views.base import get_visible, require_perm
from kefu.customers.fields import active_fields
from kefu.customers.forms import ClassChangeForm, ContactForm, CreditChangeForm
from kefu.customers.models import Customer
from kefu.customers.selectors import customer_get, timeline_for
from kefu.customers.services import contacts as contact_services
from kefu.customers.services.contacts import ContactInput
from kefu.customers.services.customers import customer_change_class, customer_change_credit
from kefu.customers.views.archive import CHANGE, VIEW, is_htmx

CHANGE_CREDIT = "customers.change_credit"
TIMELINE_PAGE = 20


def _visible(request, pk: int) -> Customer:
    customer = customer_get(user=request.user, pk=pk)
    if customer is None:
        raise Http404
    return customer


def _changeable(request, pk: int) -> Customer:
    return get_visible(Customer.objects.all(), request.user, CHANGE, pk=pk)


def _timeline_page(request, customer: Customer, cursor: str | None = None):
    entries = timeline_for(user=request.user, customer=customer)
    try:
        return keyset_page(entries, order=("-at", "-id"), cursor=cursor, size=TIMELINE_PAGE)
    except ValidationFailed:
        return keyset_page(entries, order=("-at", "-id"), cursor=None, size=TIMELINE_PAGE)


def _contacts_context(request, customer: Customer, contact_form=None) -> dict:
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
        **_contacts_context(request, customer, forms.get("contact_form")),
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
    }
    return render(request, "customers/archive/detail.html", context)


@require_perm(VIEW)
@require_GET
def customer_detail(request, pk: int):
    return render_detail(request, _visible(request, pk))


@require_perm(VIEW)
@require_GET
def customer_timeline(request, pk: int):
    """More timeline entries (the "更多" button, htmx)."""
    customer = _visible(request, pk)
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
        return render_detail(request, _visible(request, customer.pk), **{form_name: form})
    messages.success(request, success)
    return redirect("customers:detail", pk=customer.pk)


@require_perm(CHANGE)
@require_POST
def customer_change_class_view(request, pk: int):
    customer = _changeable(request, pk)
    form = ClassChangeForm(request.POST, current=customer.customer_class)
    if not form.is_valid():
        return render_detail(request, _visible(request, pk), class_form=form)
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
        return render_detail(request, _visible(request, pk), credit_form=form)
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


# --- contacts -----------------------------------------------------------------------


def _contacts_response(request, customer: Customer, *, contact_form=None, error: str = ""):
    """htmx: the contacts card alone (with the refusal, if any, inside it); otherwise
    back to the page (or the page with the form's errors)."""
    fresh = _visible(request, customer.pk)
    if is_htmx(request):
        context = {**_contacts_context(request, fresh, contact_form), "contacts_error": error}
        return render(request, "customers/archive/_contacts.html", context)
    if error:
        messages.error(request, error)
    if contact_form is not None and contact_form.errors:
        return render_detail(request, fresh, contact_form=contact_form)
    return redirect("customers:detail", pk=customer.pk)


def _run(request, action, success: str) -> str:
    """Run a contact button's service: "" when done (a message for full pages), else
    the refusal."""
    try:
        action()
    except KefuError as err:
        return err.message
    if not is_htmx(request):
        messages.success(request, success)
    return ""


def _contact_error(form: ContactForm, err: KefuError) -> None:
    # The service names contact fields "phone" or "contacts.0.phone"; the form has "phone".
    if isinstance(err.details, dict) and str(err.details.get("field", "")).endswith("phone"):
        form.add_error("phone", err.message)
    else:
        add_service_error(form, err)


@require_perm(CHANGE)
@require_POST
def contact_add(request, pk: int):
    customer = _changeable(request, pk)
    form = ContactForm(request.POST, prefix="contact")
    if form.is_valid():
        try:
            contact_services.contact_add(actor=request.user, customer=customer, data=form.to_input())
        except KefuError as err:
            _contact_error(form, err)
        else:
            if not is_htmx(request):
                messages.success(request, _("已新增联系方式。"))
            return _contacts_response(request, customer)
    return _contacts_response(request, customer, contact_form=form)


@require_perm(CHANGE)
def contact_edit(request, pk: int, contact_id: int):
    """A contact's own form page. The stored phone is not filled in (it would show the
    full number without the audited reveal): left empty, it stays as it is."""
    customer = _changeable(request, pk)
    contact = customer.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            data: ContactInput = form.to_input()
            if not data.phone:
                data.phone = contact.phone
            try:
                contact_services.contact_update(actor=request.user, customer=customer, contact_id=contact.pk, data=data)
            except KefuError as err:
                _contact_error(form, err)
            else:
                messages.success(request, _("联系方式已保存。"))
                return redirect("customers:detail", pk=customer.pk)
    else:
        form = ContactForm(
            initial={"name": contact.name, "role": contact.role, "wechat": contact.wechat, "email": contact.email}
        )
    form.fields.pop("is_primary", None)
    form.fields["phone"].help_text = _("当前：%(masked)s。留空表示不修改。") % {
        "masked": mask_phone(contact.phone) or _("（无）")
    }
    return render(
        request,
        "customers/archive/contact_form.html",
        {"form": form, "customer": customer, "contact": contact},
    )


@require_perm(CHANGE)
@require_POST
def contact_remove(request, pk: int, contact_id: int):
    customer = _changeable(request, pk)
    error = _run(
        request,
        lambda: contact_services.contact_remove(actor=request.user, customer=customer, contact_id=contact_id),
        _("已删除联系方式。"),
    )
    return _contacts_response(request, customer, error=error)


@require_perm(CHANGE)
@require_POST
def contact_set_primary(request, pk: int, contact_id: int):
    customer = _changeable(request, pk)
    error = _run(
        request,
        lambda: contact_services.contact_set_primary(actor=request.user, customer=customer, contact_id=contact_id),
        _("已设为主要联系方式。"),
    )
    return _contacts_response(request, customer, error=error)


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
