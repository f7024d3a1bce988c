"""The archive lending log (借阅手续): registering who borrows an archive, why and until
when, and its return; the selectors behind the lending page, the customer page and the
"逾期未还档案" dashboard figure.

Exports of the archive are not loans: they are recorded as audit events by the export."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import access
from kefu.core.access import ScopeFields
from kefu.core.audit import audit_record
from kefu.core.errors import InvalidState, NotFound, ValidationFailed
from kefu.core.models import User
from kefu.customers.models import ArchiveLoan, Customer
from kefu.customers.services.common import VIEW, lock_customer
from kefu.customers.timeline import timeline_add

LEND = "customers.lend_archive"
VIEW_LOANS = "customers.view_archiveloan"
# A loan is seen by whoever may see its archive.
LOAN_SCOPE = ScopeFields(region="customer__region", owner="customer__owner")
# How long a loan runs when the form is not told otherwise.
DEFAULT_DAYS = 7

STATUS_CHOICES = [
    ("", gettext_lazy("全部")),
    ("open", gettext_lazy("未归还")),
    ("overdue", gettext_lazy("逾期未还")),
    ("returned", gettext_lazy("已归还")),
]


class ArchiveOnLoan(InvalidState):
    code = "archive_on_loan"


class LoanAlreadyReturned(InvalidState):
    code = "archive_loan_returned"


def is_overdue(loan: ArchiveLoan, today: datetime.date | None = None) -> bool:
    return loan.returned_at is None and loan.due_on < (today or timezone.localdate())


# --- selectors -------------------------------------------------------------------------


def loan_base(user) -> QuerySet[ArchiveLoan]:
    """Loans `user` may see: the lending-log permission, and the archive in their scope."""
    qs = access.restrict(ArchiveLoan.objects.all(), user, VIEW_LOANS)
    return qs.filter(access.scope_q(user, LOAN_SCOPE))


def loan_list(user, *, status: str = "", today: datetime.date | None = None) -> QuerySet[ArchiveLoan]:
    """The lending page: `status` is "" (all), "open", "overdue" or "returned"."""
    today = today or timezone.localdate()
    qs = loan_base(user).select_related("customer", "borrower", "registered_by")
    if status == "open":
        qs = qs.filter(returned_at__isnull=True)
    elif status == "overdue":
        qs = qs.filter(returned_at__isnull=True, due_on__lt=today)
    elif status == "returned":
        qs = qs.filter(returned_at__isnull=False)
    return qs


def overdue_loans(user, *, today: datetime.date | None = None) -> QuerySet[ArchiveLoan]:
    """Archives lent out and not back after their due date (the dashboard's 逾期未还档案)."""
    return loan_list(user, status="overdue", today=today)


def loans_for_customer(user, customer: Customer) -> QuerySet[ArchiveLoan]:
    """One archive's loans, newest first, for the customer page: empty for someone
    without the lending-log permission."""
    access.require(user, VIEW, customer)
    if not access.has_perm(user, VIEW_LOANS):
        return ArchiveLoan.objects.none()
    return (
        ArchiveLoan.objects.filter(customer=customer)
        .select_related("borrower", "registered_by")
        .order_by("-borrowed_at", "-id")
    )


def open_loan(customer: Customer) -> ArchiveLoan | None:
    return ArchiveLoan.objects.filter(customer=customer, returned_at__isnull=True).select_related("borrower").first()


# --- services --------------------------------------------------------------------------


def archive_loan_create(
    *, actor, customer: Customer, borrower: User, purpose: str, due_on: datetime.date
) -> ArchiveLoan:
    """Register that `borrower` takes the archive for `purpose` until `due_on`. An
    archive already out (not returned) cannot be lent a second time."""
    access.require(actor, LEND, customer)
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise ValidationFailed(_("请填写借阅事由。"), details={"field": "purpose"})
    if len(purpose) > 200:
        raise ValidationFailed(_("借阅事由不能超过 200 个字。"), details={"field": "purpose"})
    if borrower is None or not borrower.is_active:
        raise ValidationFailed(_("请选择在职的借阅人。"), details={"field": "borrower"})
    if due_on is None:
        raise ValidationFailed(_("请填写应还日期。"), details={"field": "due_on"})
    if due_on < timezone.localdate():
        raise ValidationFailed(_("应还日期不能早于今天。"), details={"field": "due_on"})
    with transaction.atomic():
        locked = lock_customer(customer)
        current = open_loan(locked)
        if current is not None:
            raise ArchiveOnLoan(
                _("该档案已借出（借阅人：%(who)s，应还日期：%(due)s），归还后才能再次借出。")
                % {"who": _user_name(current.borrower), "due": current.due_on.isoformat()},
                details={"loan": current.pk},
            )
        loan = ArchiveLoan.objects.create(
            customer=locked, borrower=borrower, purpose=purpose, due_on=due_on, registered_by=actor
        )
        audit_record(
            code="customer.loaned",
            obj=locked,
            actor=actor,
            data={"loan": loan.pk, "borrower": borrower.pk, "purpose": purpose, "due_on": due_on},
        )
        timeline_add(
            customer=locked,
            kind="customer.loaned",
            title=_("档案借出：%(who)s，应还 %(due)s") % {"who": _user_name(borrower), "due": due_on.isoformat()},
            body=purpose,
            actor=actor,
            ref=loan,
        )
    return loan


def archive_loan_return(*, actor, loan: ArchiveLoan) -> ArchiveLoan:
    """Record that the archive came back (now)."""
    access.require(actor, LEND, loan.customer)
    with transaction.atomic():
        locked = ArchiveLoan.objects.select_for_update().filter(pk=loan.pk).first()
        if locked is None:
            raise NotFound(_("借阅记录不存在。"))
        if locked.returned_at is not None:
            raise LoanAlreadyReturned(
                _("该档案已于 %(at)s 归还。")
                % {"at": timezone.localtime(locked.returned_at).strftime("%Y-%m-%d %H:%M")}
            )
        locked.returned_at = timezone.now()
        locked.save(update_fields=["returned_at"])
        overdue_days = max(0, (timezone.localdate() - locked.due_on).days)
        customer = locked.customer
        audit_record(
            code="customer.loan_returned",
            obj=customer,
            actor=actor,
            data={"loan": locked.pk, "borrower": locked.borrower_id, "overdue_days": overdue_days},
        )
        timeline_add(
            customer=customer,
            kind="customer.loan_returned",
            title=_("档案归还：%(who)s") % {"who": _user_name(locked.borrower)}
            + (_("（逾期 %(days)s 天）") % {"days": overdue_days} if overdue_days else ""),
            actor=actor,
            ref=locked,
        )
    loan.returned_at = locked.returned_at
    return locked


def _user_name(user) -> str:
    return (getattr(user, "display_name", "") or user.get_username()) if user else ""


__all__ = [
    "DEFAULT_DAYS",
    "LEND",
    "STATUS_CHOICES",
    "VIEW_LOANS",
    "ArchiveOnLoan",
    "LoanAlreadyReturned",
    "archive_loan_create",
    "archive_loan_return",
    "is_overdue",
    "loan_base",
    "loan_list",
    "loans_for_customer",
    "open_loan",
    "overdue_loans",
]
