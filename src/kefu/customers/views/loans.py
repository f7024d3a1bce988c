"""The archive lending log page (借阅登记): loans with open / overdue / returned filters,
overdue ones highlighted, and the register and return forms."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.forms import add_service_error
from kefu.core.pagination import keyset_page
from kefu.core.views.base import require_perm
from kefu.customers.forms_settings import LoanCreateForm, LoanFilterForm
from kefu.customers.selectors import customer_base
from kefu.customers.services.loans import (
    LEND,
    VIEW_LOANS,
    archive_loan_create,
    archive_loan_return,
    loan_base,
    loan_list,
)

PAGE_SIZE = 50
ORDER = ("-borrowed_at", "-id")


@require_perm(VIEW_LOANS)
def loans(request):
    form = LoanFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    today = timezone.localdate()
    page = keyset_page(
        loan_list(request.user, status=status, today=today),
        order=ORDER,
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    rows = [
        {
            "loan": loan,
            "overdue": loan.returned_at is None and loan.due_on < today,
            "overdue_days": (today - loan.due_on).days,
        }
        for loan in page.items
    ]
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "customers/loans/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "status": status,
            "can_lend": access.has_perm(request.user, LEND),
            "query_without_cursor": query.urlencode(),
        },
    )


@require_perm(LEND)
def loan_create(request):
    initial = {}
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        customer = customer_base(request.user).filter(pk=int(customer_id)).first()
        if customer is not None:
            initial["archive_no"] = customer.archive_no
    form = LoanCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = customer_base(request.user).filter(archive_no=data["archive_no"]).first()
        if customer is None:
            form.add_error("archive_no", _("找不到该档案编号，或该档案不在您的可见范围内。"))
        else:
            try:
                archive_loan_create(
                    actor=request.user,
                    customer=customer,
                    borrower=data["borrower"],
                    purpose=data["purpose"],
                    due_on=data["due_on"],
                )
            except KefuError as err:
                add_service_error(form, err)
            else:
                messages.success(request, _("已登记档案 %(no)s 的借阅。") % {"no": customer.archive_no})
                return redirect(_next(request))
    return render(
        request,
        "customers/loans/form.html",
        {"form": form, "title": _("登记借阅"), "back_url": _next(request), "next": _next(request, default="")},
    )


@require_perm(LEND)
@require_POST
def loan_return(request, pk: int):
    loan = loan_base(request.user).select_related("customer", "borrower").filter(pk=pk).first()
    if loan is None:
        raise Http404
    try:
        archive_loan_return(actor=request.user, loan=loan)
    except KefuError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("档案 %(no)s 已归还。") % {"no": loan.customer.archive_no})
    return redirect(_next(request))


def _next(request, default: str | None = None) -> str:
    """Where to go back to (the customer page the form was opened from): a local path only."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) and url.startswith("/"):
        return url
    return reverse("customers:loans") if default is None else default
