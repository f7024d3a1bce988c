"""What the endpoints of the customer archive API (`kefu.customers.api`) share: how an
archive, a contact and a timeline entry are written out (phone and ID numbers masked
unless the caller may see them), and how the ids in a request are looked up."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core import pii
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.models import Region
from kefu.core.pagination import keyset_page
from kefu.core.selectors import org as org_selectors
from kefu.customers import selectors
from kefu.customers.choices import FieldType
from kefu.customers.fields import active_fields
from kefu.customers.models import Contact, Customer, TimelineEntry
from kefu.customers.schemas import MAX_ID


def not_found(**details) -> NotFound:
    return NotFound(_("对象不存在或不在您的可见范围内。"), details=details or None)


# --- output -------------------------------------------------------------------------


def ref(obj, label: str | None = None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.pk, "name": label if label is not None else str(obj.name)}


def user_ref(user) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": user.display_name or user.username}


class Mask:
    """Phone / ID number as the viewer may see them, decided once per request."""

    def __init__(self, viewer):
        self.reveal = pii.may_reveal(viewer)

    def phone(self, value: str) -> str:
        return value if self.reveal else pii.mask_phone(value)

    def id_number(self, value: str) -> str:
        return value if self.reveal else pii.mask_id_number(value)


def contact_out(contact: Contact, mask: Mask) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "role": contact.role,
        "phone": mask.phone(contact.phone),
        "wechat": contact.wechat,
        "email": contact.email,
        "is_primary": contact.is_primary,
    }


def common_fields(customer: Customer, mask: Mask) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "archive_no": customer.archive_no,
        "kind": customer.kind,
        "name": customer.name,
        "id_number": mask.id_number(customer.id_number),
        "region": ref(customer.region),
        "owner": user_ref(customer.owner),
        "customer_class": ref(customer.customer_class),
        "credit_grade": ref(customer.credit_grade),
        "source": ref(customer.source),
        # `.all()` reads the prefetch: no query per row.
        "category_ids": sorted(c.pk for c in customer.categories.all()),
        "tags": sorted(t.name for t in customer.tags.all()),
        "lifecycle": customer.lifecycle,
        "is_key_account": customer.is_key_account,
        "extra": customer.extra or {},
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def list_item(customer: Customer, mask: Mask) -> dict[str, Any]:
    primary = customer.primary_contacts[0] if customer.primary_contacts else None
    return {**common_fields(customer, mask), "primary_phone": mask.phone(primary.phone if primary else "")}


def customer_out(customer: Customer, mask: Mask) -> dict[str, Any]:
    merged = customer.merged_into
    return {
        **common_fields(customer, mask),
        "name_initials": customer.name_initials,
        "gender": customer.gender,
        "birthday": customer.birthday,
        "address": customer.address,
        "marketing_consent": customer.marketing_consent,
        "consent_at": customer.consent_at,
        "consent_channel": customer.consent_channel,
        "points_balance": customer.points_balance,
        "notes": customer.notes,
        "contacts": [contact_out(c, mask) for c in customer.contacts.all()],
        "merged_into": ref(merged, merged.archive_no) if merged else None,
    }


def timeline_out(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "at": entry.at,
        "kind": entry.kind,
        "title": entry.title,
        "body": entry.body,
        "actor": user_ref(entry.actor),
        "ref_type": entry.ref_type,
        "ref_id": entry.ref_id,
        "data": entry.data or {},
    }


# --- lookups ------------------------------------------------------------------------


def visible_customer(user, pk: int) -> Customer:
    """One archive through the scoped selector: absent or out of scope → 404."""
    customer = selectors.customer_get(user=user, pk=pk) if 0 < pk <= MAX_ID else None
    if customer is None:
        raise not_found()
    return customer


def detail_out(user, pk: int) -> dict[str, Any]:
    return customer_out(visible_customer(user, pk), Mask(user))


def pick(queryset: QuerySet, pk: int | None, field: str):
    """An id from the request body resolved through a queryset: unknown → 422."""
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(
            _("%(field)s 无效：%(id)s 不存在或不可用。") % {"field": field, "id": pk}, details={"field": field}
        )
    return obj


def pick_many(queryset: QuerySet, ids: list[int], field: str) -> list:
    found = list(queryset.filter(pk__in=set(ids)))
    missing = sorted(set(ids) - {obj.pk for obj in found})
    if missing:
        raise ValidationFailed(
            _("%(field)s 无效：%(ids)s 不存在或不可用。") % {"field": field, "ids": ", ".join(map(str, missing))},
            details={"field": field},
        )
    return found


def usable(model, current_ids=()) -> QuerySet:
    """Configuration rows a customer may be given: the active ones, plus those it
    already has (a retired source stays valid on the archives that carry it)."""
    return model.objects.filter(Q(is_active=True) | Q(pk__in=[i for i in current_ids if i]))


def regions_for(user) -> QuerySet[Region]:
    return org_selectors.region_list(user)


def owners_for(user) -> QuerySet:
    return org_selectors.staff_list(user, {"active": True})


def page_of(queryset: QuerySet, *, order: tuple[str, ...], cursor: str | None, limit: int):
    try:
        return keyset_page(queryset, order=order, cursor=cursor, size=limit)
    except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
        # A cursor that decodes but carries values of the wrong type or size.
        if not cursor:
            raise
        raise ValidationFailed(_("分页游标无效。"), details={"cursor": cursor}) from exc


def guard_numbers(extra: dict[str, Any] | None) -> None:
    """Number custom fields: a non-finite or astronomically large value would reach the
    database as invalid JSON (or take seconds to convert); refuse it here with the same
    message `clean_extra` uses. TODO: remove once `kefu.customers.fields` checks it."""
    if not extra:
        return
    numeric = {f.key: f for f in active_fields() if f.field_type == FieldType.NUMBER and f.key in extra}
    for key, field in numeric.items():
        try:
            number = Decimal(str(extra[key]).strip())
        except (InvalidOperation, ValueError):
            continue  # not a number at all: clean_extra says so
        if not number.is_finite() or abs(number) >= 10**15:
            raise ValidationFailed(
                _("%(label)s 必须是数字。") % {"label": field.label}, details={"field": f"extra.{key}"}
            )


def refuse_nulls(data: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in data and data[name] is None:
            raise ValidationFailed(_("字段不能为 null。"), details={"field": name})
