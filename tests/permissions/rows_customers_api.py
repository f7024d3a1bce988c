"""Rows for the customer archive API: who may read, write, re-grade, merge and reveal.

Every customer here lies in the matrix region, so each role's scope covers it and the
answer depends on the role alone: department staff and the system administrator see
no archive (403), read-only roles may not write (403)."""

from tests.factories_customers import CreditGradeFactory, CustomerClassFactory, make_customer
from tests.permissions.matrix import Row, roles

VIEWERS = roles(
    "manager", "supervisor", "agent", "account_manager", "quality_officer", "archivist", "finance", "director"
)
EDITORS = roles("manager", "supervisor", "agent", "account_manager", "archivist")
GRADERS = roles("manager", "archivist")
MERGERS = roles("manager", "archivist")
REVEALERS = roles("manager", "supervisor", "account_manager", "archivist", "director")
SETTINGS = VIEWERS | roles("admin")


def _customer(w, name="矩阵客户", phone="13800000001"):
    owner = w.make_user("manager", username="matrix-owner", scope_all=True)
    return make_customer(owner, name=name, phone=phone, region=w.region)


def _with_contact(w):
    w.customer = _customer(w)
    w.contact = w.customer.contacts.get()
    return w.customer


def _url(path):
    return f"/api/v1{path}"


ROWS = [
    Row("api-customer-list", lambda w: _url("/customers"), VIEWERS, api=True),
    Row(
        "api-customer-create",
        lambda w: _url("/customers"),
        EDITORS,
        method="post",
        data=lambda w: {"name": "新客户", "region_id": w.region.pk, "contacts": [{"phone": "13900000000"}]},
        api=True,
    ),
    Row("api-customer-detail", lambda w: _url(f"/customers/{_customer(w).pk}"), VIEWERS, api=True),
    Row(
        "api-customer-update",
        lambda w: _url(f"/customers/{_customer(w).pk}"),
        EDITORS,
        method="patch",
        data=lambda w: {"version": 1, "notes": "矩阵"},
        api=True,
    ),
    Row("api-customer-contacts", lambda w: _url(f"/customers/{_customer(w).pk}/contacts"), VIEWERS, api=True),
    Row(
        "api-customer-contact-add",
        lambda w: _url(f"/customers/{_customer(w).pk}/contacts"),
        EDITORS,
        method="post",
        data=lambda w: {"phone": "13700000000"},
        api=True,
    ),
    Row(
        "api-customer-contact-update",
        lambda w: _url(f"/customers/{_with_contact(w).pk}/contacts/{w.contact.pk}"),
        EDITORS,
        method="patch",
        data=lambda w: {"name": "新联系人"},
        api=True,
    ),
    Row(
        "api-customer-contact-remove",
        lambda w: _url(f"/customers/{_with_contact(w).pk}/contacts/{w.contact.pk}"),
        EDITORS,
        method="delete",
        api=True,
    ),
    Row(
        "api-customer-contact-primary",
        lambda w: _url(f"/customers/{_with_contact(w).pk}/contacts/{w.contact.pk}/primary"),
        EDITORS,
        method="post",
        data=lambda w: {},
        api=True,
    ),
    Row(
        "api-customer-class",
        lambda w: _url(f"/customers/{_customer(w).pk}/class"),
        EDITORS,
        method="post",
        data=lambda w: {"customer_class_id": CustomerClassFactory(code="A").pk, "reason": "矩阵"},
        api=True,
    ),
    Row(
        "api-customer-credit",
        lambda w: _url(f"/customers/{_customer(w).pk}/credit"),
        GRADERS,
        method="post",
        data=lambda w: {"credit_grade_id": CreditGradeFactory(code="AA").pk, "reason": "矩阵"},
        api=True,
    ),
    Row(
        "api-customer-reveal",
        lambda w: _url(f"/customers/{_customer(w).pk}/reveal"),
        REVEALERS,
        method="post",
        data=lambda w: {"field": "phone"},
        api=True,
    ),
    Row("api-customer-timeline", lambda w: _url(f"/customers/{_customer(w).pk}/timeline"), VIEWERS, api=True),
    Row(
        "api-customer-merge",
        lambda w: _url(f"/customers/{_customer(w).pk}/merge"),
        MERGERS,
        method="post",
        data=lambda w: {"source_id": _customer(w, name="重复客户", phone="13800000002").pk},
        api=True,
    ),
    Row("api-customer-settings", lambda w: _url("/customer-settings"), SETTINGS, api=True),
]
