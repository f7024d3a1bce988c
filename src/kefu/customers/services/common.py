"""Helpers shared by the customer services."""

from __future__ import annotations

from django.db.models import Model
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import AccessDenied, NotFound
from kefu.customers.models import Customer
from kefu.customers.pinyin import name_initials
from kefu.customers.search import build_search_text

VIEW = "customers.view_customer"
ADD = "customers.add_customer"
CHANGE = "customers.change_customer"


def lock_customer(customer: Customer) -> Customer:
    """The customer row, locked for the rest of the transaction; merged archives are
    read-only (their successor is the one to change)."""
    locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if locked is None:
        raise NotFound(_("客户不存在。"))
    if locked.merged_into_id:
        raise NotFound(_("该档案已合并到 %(no)s，请在合并后的档案中操作。") % {"no": locked.merged_into.archive_no})
    return locked


def require_customer(actor, perm: str, customer: Customer) -> None:
    access.require(actor, perm, customer)


def ensure_in_scope(actor, *, region, owner) -> None:
    """A customer created or moved by someone who does not see everything must land in
    their own scope, or they would lose sight of it (and could hide archives)."""
    if access.sees_everything(actor):
        return
    region_id = region.pk if isinstance(region, Model) else region
    owner_id = owner.pk if isinstance(owner, Model) else owner
    if owner_id == actor.pk or (region_id is not None and region_id in access.user_region_ids(actor)):
        return
    raise AccessDenied(_("只能在自己负责的片区内建档或调整档案（或将客户经理设为自己）。"))


def refresh_search_text(customer: Customer) -> None:
    """Recompute what search matches (name, initials, phones, archive number)."""
    phones = list(customer.contacts.values_list("phone", flat=True))
    former = list(Customer.objects.filter(merged_into=customer).values_list("archive_no", flat=True))
    person = customer.kind == "person"
    text = build_search_text(
        name=customer.name, person=person, archive_no=customer.archive_no, phones=phones, former_numbers=former
    )
    initials = " ".join(name_initials(customer.name, person=person))
    if text != customer.search_text or initials != customer.name_initials:
        customer.search_text, customer.name_initials = text, initials
        Customer.objects.filter(pk=customer.pk).update(search_text=text, name_initials=initials)
