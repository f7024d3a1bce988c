"""A customer's contacts: exactly one primary; every change bumps the archive version
(so an editor holding an old version learns about it) and is audited."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record
from kefu.core.errors import NotFound, ValidationFailed
from kefu.customers.models import Contact, Customer
from kefu.customers.services.common import CHANGE, lock_customer, refresh_search_text, require_customer
from kefu.customers.services.customers import ContactInput, clean_contacts
from kefu.customers.timeline import timeline_add
from kefu.customers.validation import phone_digits

_FIELDS = ("name", "role", "phone", "wechat", "email")


def _touch(customer: Customer) -> None:
    customer.version += 1
    customer.save(update_fields=["version", "updated_at"])


def _get_contact(customer: Customer, contact_id: int) -> Contact:
    contact = Contact.objects.select_for_update().filter(customer=customer, pk=contact_id).first()
    if contact is None:
        raise NotFound(_("联系方式不存在。"))
    return contact


def contact_add(*, actor, customer: Customer, data: ContactInput) -> Contact:
    require_customer(actor, CHANGE, customer)
    [cleaned] = clean_contacts([data]) or [None]
    if cleaned is None:
        raise ValidationFailed(_("请至少填写电话、微信或邮箱之一。"), details={"field": "phone"})
    with transaction.atomic():
        locked = lock_customer(customer)
        has_primary = locked.contacts.filter(is_primary=True).exists()
        if data.is_primary and has_primary:
            locked.contacts.filter(is_primary=True).update(is_primary=False)
        contact = Contact.objects.create(
            customer=locked,
            name=cleaned.name,
            role=cleaned.role,
            phone=cleaned.phone,
            phone_digits=phone_digits(cleaned.phone),
            wechat=cleaned.wechat,
            email=cleaned.email,
            is_primary=data.is_primary or not has_primary,
        )
        _touch(locked)
        refresh_search_text(locked)
        audit_record(code="customer.contact_added", obj=locked, actor=actor, data={"contact": contact.pk})
        timeline_add(customer=locked, kind="customer.contact_added", title=_("新增联系方式"), actor=actor)
    return contact


def contact_update(*, actor, customer: Customer, contact_id: int, data: ContactInput) -> Contact:
    require_customer(actor, CHANGE, customer)
    [cleaned] = clean_contacts([data]) or [None]
    if cleaned is None:
        raise ValidationFailed(_("请至少填写电话、微信或邮箱之一。"), details={"field": "phone"})
    with transaction.atomic():
        locked = lock_customer(customer)
        contact = _get_contact(locked, contact_id)
        changes = {
            f: (getattr(contact, f), getattr(cleaned, f)) for f in _FIELDS if getattr(contact, f) != getattr(cleaned, f)
        }
        if not changes:
            return contact
        for name, (_old, new) in changes.items():
            setattr(contact, name, new)
        contact.phone_digits = phone_digits(contact.phone)
        contact.save(update_fields=[*changes, "phone_digits"])
        _touch(locked)
        refresh_search_text(locked)
        # Phone numbers are personal data: the audit says which fields changed, not to what.
        audit_record(
            code="customer.contact_updated",
            obj=locked,
            actor=actor,
            data={"contact": contact.pk, "fields": sorted(changes)},
        )
        timeline_add(customer=locked, kind="customer.contact_updated", title=_("修改联系方式"), actor=actor)
    return contact


def contact_set_primary(*, actor, customer: Customer, contact_id: int) -> Contact:
    require_customer(actor, CHANGE, customer)
    with transaction.atomic():
        locked = lock_customer(customer)
        contact = _get_contact(locked, contact_id)
        if contact.is_primary:
            return contact
        locked.contacts.filter(is_primary=True).update(is_primary=False)
        contact.is_primary = True
        contact.save(update_fields=["is_primary"])
        _touch(locked)
        audit_record(code="customer.contact_primary", obj=locked, actor=actor, data={"contact": contact.pk})
    return contact


def contact_remove(*, actor, customer: Customer, contact_id: int) -> None:
    """Remove a contact; if it was the primary one, the oldest remaining becomes primary."""
    require_customer(actor, CHANGE, customer)
    with transaction.atomic():
        locked = lock_customer(customer)
        contact = _get_contact(locked, contact_id)
        was_primary = contact.is_primary
        contact.delete()
        if was_primary:
            successor = locked.contacts.order_by("id").first()
            if successor is not None:
                successor.is_primary = True
                successor.save(update_fields=["is_primary"])
        _touch(locked)
        refresh_search_text(locked)
        audit_record(code="customer.contact_removed", obj=locked, actor=actor, data={"contact": contact_id})
        timeline_add(customer=locked, kind="customer.contact_removed", title=_("删除联系方式"), actor=actor)
