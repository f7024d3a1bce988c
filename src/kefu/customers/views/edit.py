"""Creating and editing an archive: one form (with the profile's custom fields), up to
three contacts on create, the duplicate warning with its explicit confirmation, and the
stale-version refusal on edit that keeps what the user typed."""

from __future__ import annotations

import re

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.pii import mask_id_number
from kefu.core.views.base import get_visible, require_perm
from kefu.customers.forms import ContactFormSet, CustomerForm, split_tags
from kefu.customers.models import Customer
from kefu.customers.services.customers import (
    CustomerInput,
    DuplicateSuspected,
    customer_create,
    customer_update,
)
from kefu.customers.views.archive import CHANGE

ADD = "customers.add_customer"
CHANGE_CREDIT = "customers.change_credit"
_CONTACT_FIELD = re.compile(r"^contacts\.(\d+)\.(\w+)$")


def _add_error(form, formset, err: KefuError) -> None:
    """A service error on the field it names: `contacts.1.phone` on the second contact
    row, `extra.<key>` on the custom field, anything else on the main form."""
    field = err.details.get("field") if isinstance(err.details, dict) else None
    match = _CONTACT_FIELD.match(field or "")
    if formset is not None and match and int(match.group(1)) < len(formset.forms):
        row = formset.forms[int(match.group(1))]
        if match.group(2) in row.fields:
            row.add_error(match.group(2), err.message)
            return
    add_service_error(form, err)


def _duplicate_summary(err: DuplicateSuspected) -> dict:
    found = (err.details or {}).get("duplicates", []) if isinstance(err.details, dict) else []
    return {
        "visible": [d for d in found if d.get("visible")],
        "hidden_count": sum(1 for d in found if not d.get("visible")),
    }


@require_perm(ADD)
def customer_create_view(request):
    user = request.user
    may_set_credit = access.has_perm(user, CHANGE_CREDIT)
    duplicates = None
    if request.method == "POST":
        form = CustomerForm(request.POST, user=user, may_set_credit=may_set_credit)
        formset = ContactFormSet(request.POST, prefix="contacts")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            kind = data["kind"]
            customer_input = CustomerInput(
                name=data["name"],
                kind=kind,
                contacts=[row.to_input() for row in formset.forms if row.cleaned_data],
                id_number=data.get("id_number") or "",
                gender=data.get("gender") or "",
                birthday=data.get("birthday"),
                address=data.get("address") or "",
                region=data.get("region"),
                owner=data.get("owner"),
                customer_class=data.get("customer_class"),
                is_key_account=bool(data.get("is_key_account")),
                credit_grade=data.get("credit_grade") if may_set_credit else None,
                source=data.get("source"),
                categories=list(data.get("categories") or []),
                tags=split_tags(data.get("tags") or ""),
                lifecycle=data["lifecycle"],
                marketing_consent=bool(data.get("marketing_consent")),
                consent_channel=data.get("consent_channel") or "",
                notes=data.get("notes") or "",
                extra=form.extra_values(kind),
            )
            try:
                customer = customer_create(
                    actor=user, data=customer_input, allow_duplicate=bool(data.get("allow_duplicate"))
                )
            except DuplicateSuspected as err:
                duplicates = _duplicate_summary(err)
                duplicates["message"] = err.message
            except KefuError as err:
                _add_error(form, formset, err)
            else:
                messages.success(
                    request, _("已建立档案 %(no)s「%(name)s」。") % {"no": customer.archive_no, "name": customer.name}
                )
                return redirect("customers:detail", pk=customer.pk)
    else:
        form = CustomerForm(initial={"region": user.region_id}, user=user, may_set_credit=may_set_credit)
        formset = ContactFormSet(prefix="contacts")
    return render(
        request,
        "customers/archive/form.html",
        {
            "form": form,
            "formset": formset,
            "duplicates": duplicates,
            "title": _("新建客户档案"),
            "back_url": reverse("customers:list"),
            "submit_label": _("建立档案"),
        },
    )


@require_perm(CHANGE)
def customer_edit_view(request, pk: int):
    """Edit the plain fields, categories, tags and custom fields. The stored ID number is
    not filled in (that would show it in full without the audited reveal): left empty,
    it stays as it is."""
    customer = get_visible(
        Customer.objects.filter(merged_into__isnull=True).prefetch_related("categories", "tags"),
        request.user,
        CHANGE,
        pk=pk,
    )
    if request.method == "POST":
        form = CustomerForm(request.POST, user=request.user, instance=customer)
        if form.is_valid():
            values = form.values()
            if not values["id_number"]:
                values.pop("id_number")
            try:
                customer_update(
                    actor=request.user,
                    customer=customer,
                    values=values,
                    expected_version=form.cleaned_data.get("version"),
                    categories=list(form.cleaned_data.get("categories") or []),
                    tags=split_tags(form.cleaned_data.get("tags") or ""),
                    extra=form.extra_values(customer.kind),
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("档案已保存。"))
                return redirect("customers:detail", pk=customer.pk)
    else:
        initial = CustomerForm.initial_for(customer)
        initial["id_number"] = ""
        form = CustomerForm(initial=initial, user=request.user, instance=customer)
    if customer.id_number:
        form.fields["id_number"].help_text = _("当前：%(masked)s。留空表示不修改。") % {
            "masked": mask_id_number(customer.id_number)
        }
    return render(
        request,
        "customers/archive/form.html",
        {
            "form": form,
            "formset": None,
            "customer": customer,
            "title": _("编辑档案：%(name)s") % {"name": customer.name},
            "back_url": reverse("customers:detail", args=[customer.pk]),
            "submit_label": _("保存"),
        },
    )
