"""The contact buttons of the customer page: add, edit, remove, make primary. They
answer htmx requests with the contacts card alone, other requests with the page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.pii import mask_phone
from kefu.core.views.base import require_perm
from kefu.customers.forms import ContactForm
from kefu.customers.models import Customer
from kefu.customers.services import contacts as contact_services
from kefu.customers.services.contacts import ContactInput
from kefu.customers.views.archive import CHANGE, is_htmx
from kefu.customers.views.detail import (
    changeable_customer,
    contacts_context,
    render_detail,
    visible_customer,
)


def _contacts_response(request, customer: Customer, *, contact_form=None, error: str = ""):
    """htmx: the contacts card alone (with the refusal, if any, inside it); otherwise
    back to the page (or the page with the form's errors)."""
    fresh = visible_customer(request, customer.pk)
    if is_htmx(request):
        context = {**contacts_context(request, fresh, contact_form), "contacts_error": error}
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
    customer = changeable_customer(request, pk)
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
    customer = changeable_customer(request, pk)
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
    customer = changeable_customer(request, pk)
    error = _run(
        request,
        lambda: contact_services.contact_remove(actor=request.user, customer=customer, contact_id=contact_id),
        _("已删除联系方式。"),
    )
    return _contacts_response(request, customer, error=error)


@require_perm(CHANGE)
@require_POST
def contact_set_primary(request, pk: int, contact_id: int):
    customer = changeable_customer(request, pk)
    error = _run(
        request,
        lambda: contact_services.contact_set_primary(actor=request.user, customer=customer, contact_id=contact_id),
        _("已设为主要联系方式。"),
    )
    return _contacts_response(request, customer, error=error)
