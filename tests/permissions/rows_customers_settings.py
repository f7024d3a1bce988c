"""Rows for the archive settings (客服部经理, 系统管理员) and the lending log (read:
manager, archivist, director; register/return: manager, archivist)."""

import datetime

from django.urls import reverse
from django.utils import timezone

from tests.permissions.matrix import Row, roles

SETTINGS = roles("manager", "admin")
LOG_READERS = roles("manager", "archivist", "director")
LENDERS = roles("manager", "archivist")


def _class(w):
    from kefu.customers.models import CustomerClass

    return CustomerClass.objects.get_or_create(code="matrix-x", defaults={"name": "X类"})[0]


def _owner(w):
    return w.make_user("manager", username="matrix-owner", scope_all=True)


def _customer(w):
    from tests.factories_customers import make_customer

    return make_customer(_owner(w), name="矩阵客户", phone="13800009999", region=w.region)


def _loan(w):
    from kefu.customers.services.loans import archive_loan_create

    owner = _owner(w)
    return archive_loan_create(
        actor=owner,
        customer=_customer(w),
        borrower=owner,
        purpose="核对",
        due_on=timezone.localdate() + datetime.timedelta(days=3),
    )


def _url(name, *args):
    return reverse(f"customers:{name}", args=args)


ROWS = [
    # settings pages
    Row("customers-settings", lambda w: _url("settings"), SETTINGS),
    Row("customers-settings-create-page", lambda w: _url("settings_create", "fields"), SETTINGS),
    Row("customers-settings-edit-page", lambda w: _url("settings_edit", "classes", _class(w).pk), SETTINGS),
    Row("customers-settings-numbering-page", lambda w: _url("settings_numbering"), SETTINGS),
    Row(
        "customers-settings-create",
        lambda w: _url("settings_create", "sources"),
        SETTINGS,
        method="post",
        data=lambda w: {"code": "matrix-src", "name": "矩阵来源", "sort_order": 0},
    ),
    Row(
        "customers-settings-edit",
        lambda w: _url("settings_edit", "classes", _class(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {"code": "matrix-x", "name": "X类客户", "visits_per_month": 2, "sort_order": 0},
    ),
    Row(
        "customers-settings-deactivate",
        lambda w: _url("settings_deactivate", "classes", _class(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "customers-settings-reactivate",
        lambda w: _url("settings_reactivate", "classes", _class(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "customers-settings-numbering",
        lambda w: _url("settings_numbering"),
        SETTINGS,
        method="post",
        data=lambda w: {"pattern": "DA-{year}-{seq:06d}"},
    ),
    # lending log
    Row("customers-loans", lambda w: _url("loans"), LOG_READERS),
    Row("customers-loans-overdue", lambda w: _url("loans") + "?status=overdue", LOG_READERS),
    Row("customers-loan-create-page", lambda w: _url("loan_create"), LENDERS),
    Row(
        "customers-loan-create",
        lambda w: _url("loan_create"),
        LENDERS,
        method="post",
        data=lambda w: {
            "archive_no": _customer(w).archive_no,
            "borrower": _owner(w).pk,
            "purpose": "核对",
            "due_on": timezone.localdate().isoformat(),
        },
    ),
    Row(
        "customers-loan-return",
        lambda w: _url("loan_return", _loan(w).pk),
        LENDERS,
        method="post",
        data=lambda w: {},
    ),
]
