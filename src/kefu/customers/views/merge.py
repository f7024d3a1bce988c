"""合并档案: merging another archive into this one — find it by its number, compare the
two side by side with what will move, confirm with both versions as shown."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import Conflict, KefuError
from kefu.core.pii import mask_id_number, mask_phone
from kefu.core.views.base import get_visible, require_perm
from kefu.customers.models import Customer
from kefu.customers.services.merge import MERGE, customer_merge
from kefu.customers.views.detail import MergeSourceForm, live_customer


class MergeConfirmForm(forms.Form):
    source = forms.IntegerField(widget=forms.HiddenInput)
    survivor_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    source_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _merge_summary(customer: Customer) -> dict:
    """What an archive brings into a merge, as shown on the confirmation page."""
    contacts = list(customer.contacts.all())
    return {
        "customer": customer,
        "phones": [mask_phone(c.phone) for c in contacts if c.phone],
        "id_number": mask_id_number(customer.id_number) if customer.id_number else "",
        "contacts": len(contacts),
        "timeline": customer.timeline.count(),
        "points": customer.points_balance,
        "points_entries": customer.points_entries.count(),
        "loans": customer.loans.count(),
    }


def _merge_url(survivor: Customer, source: Customer | None = None) -> str:
    url = reverse("customers:merge", args=[survivor.pk])
    return f"{url}?source={source.pk}" if source is not None else url


@require_perm(MERGE)
def customer_merge_view(request, pk: int):
    """合并档案 into this one. GET without a source: type the other archive's number;
    GET `?source=<pk>`: both archives side by side with what will move, and the confirm
    button; POST: the merge, with both versions as shown."""
    survivor = live_customer(request, MERGE, pk)
    if request.method == "POST":
        return _merge_post(request, survivor)

    number_form = MergeSourceForm(request.GET if "archive_no" in request.GET else None)
    source = None
    source_id = request.GET.get("source", "")
    if source_id:
        if not source_id.isdigit():
            raise Http404
        source = live_customer(request, MERGE, int(source_id))
    elif number_form.is_bound and number_form.is_valid():
        found = (
            access.restrict(Customer.objects.filter(merged_into__isnull=True), request.user, MERGE)
            .filter(archive_no=number_form.cleaned_data["archive_no"].strip())
            .first()
        )
        if found is None:
            number_form.add_error("archive_no", _("找不到该档案编号，或该档案不在您的可见范围内。"))
        elif found.pk == survivor.pk:
            number_form.add_error("archive_no", _("不能将档案与自身合并。"))
        else:
            return redirect(_merge_url(survivor, found))
    if source is not None and source.pk == survivor.pk:
        messages.error(request, _("不能将档案与自身合并。"))
        return redirect("customers:detail", pk=survivor.pk)

    context = {
        "customer": survivor,
        "number_form": number_form if number_form.is_bound else MergeSourceForm(),
        "source": source,
    }
    if source is not None:
        context.update(
            keep=_merge_summary(survivor),
            gone=_merge_summary(source),
            confirm_form=MergeConfirmForm(
                initial={"source": source.pk, "survivor_version": survivor.version, "source_version": source.version}
            ),
        )
    return render(request, "customers/archive/merge.html", context)


def _merge_post(request, survivor: Customer):
    form = MergeConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("合并请求不完整，请重新确认。"))
        return redirect("customers:merge", pk=survivor.pk)
    data = form.cleaned_data
    # A source merged meanwhile is still found, so the service's refusal is shown.
    source = get_visible(Customer.objects.all(), request.user, MERGE, pk=data["source"])
    try:
        customer_merge(
            actor=request.user,
            survivor=survivor,
            source=source,
            expected_versions=(data["survivor_version"], data["source_version"]),
        )
    except Conflict as err:
        # Stale versions or a refused move: the page again with what is stored now.
        messages.error(request, err.message)
        return redirect(_merge_url(survivor, source))
    except KefuError as err:
        messages.error(request, err.message)
        return redirect("customers:detail", pk=survivor.pk)
    messages.success(
        request,
        _("已将档案 %(no)s（%(name)s）合并到本档案。") % {"no": source.archive_no, "name": source.name},
    )
    return redirect("customers:detail", pk=survivor.pk)
