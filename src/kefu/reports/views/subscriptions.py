"""Scheduled reports in the browser: the managers' page of subscriptions (list, create,
pause / resume, delete) and each recipient's own delivered reports with their downloads. Managing
needs `reports.manage_subscriptions`; reading one's deliveries `reports.view_reports`,
and a delivery made for somebody else is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.forms import add_service_error
from kefu.core.pagination import keyset_page
from kefu.core.roles import role_name
from kefu.core.views.base import require_perm
from kefu.customers.io.exporting import XLSX_CONTENT_TYPE
from kefu.reports.catalog import REPORTS
from kefu.reports.forms_subscriptions import ReportSubscriptionForm
from kefu.reports.models import ReportSubscription
from kefu.reports.subscriptions import (
    MANAGE,
    VIEW,
    deliveries_for,
    recipients_map,
    subscription_create,
    subscription_list,
    subscription_set_active,
)
from kefu.reports.subscriptions import delivery_download as delivery_download_service
from kefu.reports.subscriptions import subscription_delete as subscription_delete_service
from kefu.tickets.views.files import content_disposition

PAGE_SIZE = 50
_ORDER = ("-delivered_at", "-id")


def _rows(subscriptions: list[ReportSubscription]) -> list[dict]:
    """Each subscription with what the page prints about it; the recipients of all of
    them are counted in a fixed number of queries."""
    recipients = recipients_map(subscriptions)
    return [
        {
            "sub": sub,
            "report_title": REPORTS[sub.report_key].title if sub.report_key in REPORTS else sub.report_key,
            "target": role_name(sub.role) if sub.role else str(sub.user),
            "is_role": bool(sub.role),
            "recipients": len(recipients[sub.pk]),
        }
        for sub in subscriptions
    ]


@require_http_methods(["GET", "POST"])
@require_perm(MANAGE)
def subscriptions(request):
    """The list of subscriptions with the form to add one (posting it back here)."""
    form = ReportSubscriptionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            subscription_create(
                actor=request.user,
                report_key=values["report_key"],
                frequency=values["frequency"],
                role=values["role"],
                user=values["user"],
                by_email=values["by_email"],
            )
        except KefuError as err:
            add_service_error(form, err)
        else:
            messages.success(request, _("已添加报表订阅。"))
            return redirect("reports:subscriptions")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reports/subscriptions/list.html",
        {"rows": _rows(list(subscription_list())), "form": form},
        status=status,
    )


@require_POST
@require_perm(MANAGE)
def subscription_delete(request, pk: int):
    subscription = get_object_or_404(ReportSubscription, pk=pk)
    subscription_delete_service(actor=request.user, subscription=subscription)
    messages.success(request, _("已取消该报表订阅，已送达的报表仍保留在接收人处。"))
    return redirect("reports:subscriptions")


def _set_active(request, pk: int, *, active: bool, done: str):
    subscription = get_object_or_404(ReportSubscription, pk=pk)
    subscription_set_active(actor=request.user, subscription=subscription, active=active)
    messages.success(request, done)
    return redirect("reports:subscriptions")


@require_POST
@require_perm(MANAGE)
def subscription_pause(request, pk: int):
    return _set_active(request, pk, active=False, done=_("已暂停该报表订阅，恢复前不再送达。"))


@require_POST
@require_perm(MANAGE)
def subscription_resume(request, pk: int):
    return _set_active(request, pk, active=True, done=_("已恢复该报表订阅，下次送达最近一个已结束的周期。"))


@require_GET
@require_perm(VIEW)
def my_deliveries(request):
    """The reports delivered to the viewer, newest first."""
    try:
        page = keyset_page(deliveries_for(request.user), order=_ORDER, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    except ValidationFailed:
        # A mangled cursor (an edited URL) shows the first page rather than an error.
        page = keyset_page(deliveries_for(request.user), order=_ORDER, cursor=None, size=PAGE_SIZE)
    return render(request, "reports/subscriptions/deliveries.html", {"page": page, "query_without_cursor": ""})


@require_GET
@require_perm(VIEW)
def delivery_download(request, pk: int):
    """The delivered Excel file, to its recipient only (audited by the service)."""
    delivery = delivery_download_service(user=request.user, pk=pk)
    response = HttpResponse(bytes(delivery.content), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition("attachment", delivery.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
