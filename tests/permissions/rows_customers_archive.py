"""Rows for the archive pages: every role that holds the archive sees list and detail;
writes per the grants of `kefu.customers.menu`; reveals for those with `core.reveal_pii`.
Department staff and the system administrator see no customer (403)."""

from django.urls import reverse

from kefu.customers.services.customers import ContactInput
from tests.factories_customers import CreditGradeFactory, make_customer
from tests.permissions.matrix import Row, roles

VIEWERS = roles(
    "manager", "supervisor", "agent", "account_manager", "archivist", "quality_officer", "finance", "director"
)
EDITORS = roles("manager", "supervisor", "agent", "account_manager", "archivist")
CREDIT = roles("manager", "archivist")
REVEALERS = roles("manager", "supervisor", "account_manager", "archivist", "director")


def _customer(w, **fields):
    # In every scoped role's sight: the matrix users belong to the same region.
    owner = w.make_user("manager", username="matrix-archive-owner", scope_all=True)
    contacts = [ContactInput(name="张三", phone="13812345678"), ContactInput(name="李秘书", phone="13900001111")]
    return make_customer(
        owner, name="张三", contacts=contacts, region=w.region, id_number="11010519491231002X", **fields
    )


def _url(name, *args):
    return reverse(f"customers:{name}", args=args)


def _contact_url(name, *, primary: bool):
    def url(w):
        customer = _customer(w)
        contact = customer.contacts.get(is_primary=primary)
        return _url(name, customer.pk, contact.pk)

    return url


def _new_customer(w):
    return {
        "kind": "person",
        "name": "矩阵新客户",
        "lifecycle": "active",
        "region": w.region.pk,
        "contacts-TOTAL_FORMS": "3",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-phone": "13700007777",
    }


ROWS = [
    # pages
    Row("customers-list", lambda w: _url("list"), VIEWERS),
    Row("customers-detail", lambda w: _url("detail", _customer(w).pk), VIEWERS),
    Row("customers-timeline", lambda w: _url("timeline", _customer(w).pk), VIEWERS),
    Row("customers-create-page", lambda w: _url("create"), EDITORS),
    Row("customers-edit-page", lambda w: _url("edit", _customer(w).pk), EDITORS),
    Row("customers-contact-edit-page", _contact_url("contact_edit", primary=True), EDITORS),
    # writes
    Row("customers-create", lambda w: _url("create"), EDITORS, method="post", data=_new_customer),
    Row(
        "customers-edit",
        lambda w: _url("edit", _customer(w).pk),
        EDITORS,
        method="post",
        data=lambda w: {"name": "张三丰", "lifecycle": "active", "region": w.region.pk, "version": 1},
    ),
    Row(
        "customers-change-class",
        lambda w: _url("change_class", _customer(w).pk),
        EDITORS,
        method="post",
        data=lambda w: {"customer_class": "", "reason": ""},
    ),
    Row(
        "customers-change-credit",
        lambda w: _url("change_credit", _customer(w).pk),
        CREDIT,
        method="post",
        data=lambda w: {"grade": CreditGradeFactory(code="AAA").pk, "reason": "按时付款"},
    ),
    Row(
        "customers-contact-add",
        lambda w: _url("contact_add", _customer(w).pk),
        EDITORS,
        method="post",
        data=lambda w: {"contact-phone": "13600006666"},
    ),
    Row(
        "customers-contact-edit",
        _contact_url("contact_edit", primary=True),
        EDITORS,
        method="post",
        data=lambda w: {"name": "张先生"},
    ),
    Row(
        "customers-contact-primary",
        _contact_url("contact_primary", primary=False),
        EDITORS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "customers-contact-remove",
        _contact_url("contact_remove", primary=False),
        EDITORS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "customers-bulk-preview",
        lambda w: _url("bulk"),
        EDITORS,
        method="post",
        data=lambda w: {"ids": [_customer(w).pk], "action": "add_tags", "tags": "重点"},
    ),
    Row(
        "customers-bulk-confirm",
        lambda w: _url("bulk"),
        EDITORS,
        method="post",
        data=lambda w: {"ids": [_customer(w).pk], "action": "add_tags", "tags": "重点", "confirm": "1"},
    ),
    # audited reveals
    Row(
        "customers-reveal-phone",
        _contact_url("reveal_phone", primary=True),
        REVEALERS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "customers-reveal-id-number",
        lambda w: _url("reveal_id_number", _customer(w).pk),
        REVEALERS,
        method="post",
        data=lambda w: {},
    ),
]
