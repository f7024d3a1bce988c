"""Creating and changing customer archives."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record, audited_update, field_changes
from kefu.core.errors import Conflict, ErrorCode, ValidationFailed
from kefu.customers.choices import CustomerKind, Lifecycle
from kefu.customers.duplicates import find_duplicates
from kefu.customers.fields import clean_extra
from kefu.customers.models import (
    ClassChange,
    Contact,
    CreditChange,
    CreditGrade,
    Customer,
    CustomerClass,
    ProductCategory,
    Tag,
)
from kefu.customers.numbering import next_archive_no
from kefu.customers.services.common import (
    ADD,
    CHANGE,
    ensure_in_scope,
    lock_customer,
    refresh_search_text,
    require_customer,
)
from kefu.customers.timeline import timeline_add
from kefu.customers.validation import clean_id_number, clean_phone, phone_digits

CHANGE_CREDIT = "customers.change_credit"


class DuplicateSuspected(Conflict):
    """Name+phone or ID number matches an existing archive; the caller may confirm."""

    code = "customer_duplicate"


@dataclass
class ContactInput:
    name: str = ""
    role: str = ""
    phone: str = ""
    wechat: str = ""
    email: str = ""
    is_primary: bool = False


@dataclass
class CustomerInput:
    """What a person fills in for a new archive (class and credit grade included: the
    first class/grade is set at creation, later changes go through their services)."""

    name: str
    kind: str = CustomerKind.PERSON
    contacts: Sequence[ContactInput] = field(default_factory=list)
    id_number: str = ""
    gender: str = ""
    birthday: datetime.date | None = None
    address: str = ""
    region: Any = None
    owner: Any = None
    customer_class: CustomerClass | None = None
    is_key_account: bool = False
    credit_grade: CreditGrade | None = None
    source: Any = None
    categories: Iterable[ProductCategory] = ()
    tags: Iterable[str] = ()
    lifecycle: str = Lifecycle.ACTIVE
    marketing_consent: bool = False
    consent_channel: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def clean_contacts(contacts: Sequence[ContactInput]) -> list[ContactInput]:
    """Validated contacts, exactly one primary when there are any."""
    cleaned = []
    for index, contact in enumerate(contacts):
        phone = clean_phone(contact.phone, field=f"contacts.{index}.phone")
        if not (phone or contact.wechat or contact.email):
            continue
        cleaned.append(
            ContactInput(
                name=contact.name.strip(),
                role=contact.role.strip(),
                phone=phone,
                wechat=contact.wechat.strip(),
                email=contact.email.strip(),
                is_primary=contact.is_primary,
            )
        )
    primaries = [c for c in cleaned if c.is_primary]
    if len(primaries) > 1:
        raise ValidationFailed(_("只能有一个主要联系方式。"), details={"field": "contacts"})
    if cleaned and not primaries:
        cleaned[0].is_primary = True
    return cleaned


def _clean_kind(kind: str) -> str:
    if kind not in CustomerKind.values:
        raise ValidationFailed(_("客户类型无效。"), details={"field": "kind"})
    return kind


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("请填写客户名称。"), details={"field": "name"})
    if len(name) > 120:
        raise ValidationFailed(_("客户名称不能超过 120 个字。"), details={"field": "name"})
    return name


def tags_by_name(names: Iterable[str]) -> list[Tag]:
    wanted = sorted({n.strip() for n in names if n and n.strip()})
    if any(len(n) > 40 for n in wanted):
        raise ValidationFailed(_("标签不能超过 40 个字。"), details={"field": "tags"})
    existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    Tag.objects.bulk_create([Tag(name=n) for n in wanted if n not in existing], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=wanted))


def customer_create(*, actor, data: CustomerInput, allow_duplicate: bool = False) -> Customer:
    """Open a new archive with the next archive number. Refuses a suspected duplicate
    (same name and phone, or same ID number) unless the user confirmed it."""
    access.require(actor, ADD)
    kind = _clean_kind(data.kind)
    name = _clean_name(data.name)
    id_number = clean_id_number(data.id_number, organisation=kind == CustomerKind.ORGANISATION)
    contacts = clean_contacts(data.contacts)
    if data.lifecycle not in Lifecycle.values:
        raise ValidationFailed(_("生命周期无效。"), details={"field": "lifecycle"})
    extra = clean_extra(data.extra, kind=kind)
    region = data.region if data.region is not None else getattr(actor, "region", None)
    ensure_in_scope(actor, region=region, owner=data.owner)

    with transaction.atomic():
        if not allow_duplicate:
            duplicates = list(find_duplicates(name=name, phones=[c.phone for c in contacts], id_number=id_number)[:10])
            if duplicates:
                raise DuplicateSuspected(
                    _("可能与已有档案重复（姓名与电话相同，或证件号码相同）。确认不是同一客户后可继续建档。"),
                    details={"duplicates": [_duplicate_summary(actor, d) for d in duplicates]},
                )
        now = timezone.now()
        customer = Customer.objects.create(
            kind=kind,
            archive_no=next_archive_no(),
            name=name,
            id_number=id_number,
            gender=data.gender,
            birthday=data.birthday,
            address=data.address.strip(),
            region=region,
            owner=data.owner,
            customer_class=data.customer_class,
            is_key_account=data.is_key_account,
            credit_grade=data.credit_grade,
            source=data.source,
            lifecycle=data.lifecycle,
            marketing_consent=data.marketing_consent,
            consent_at=now if data.marketing_consent else None,
            consent_channel=data.consent_channel if data.marketing_consent else "",
            notes=data.notes,
            extra=extra,
            created_by=actor,
        )
        Contact.objects.bulk_create(
            [
                Contact(
                    customer=customer,
                    name=c.name,
                    role=c.role,
                    phone=c.phone,
                    phone_digits=phone_digits(c.phone),
                    wechat=c.wechat,
                    email=c.email,
                    is_primary=c.is_primary,
                )
                for c in contacts
            ]
        )
        if data.categories:
            customer.categories.set(list(data.categories))
        if data.tags:
            customer.tags.set(tags_by_name(data.tags))
        refresh_search_text(customer)
        if data.credit_grade is not None:
            CreditChange.objects.create(
                customer=customer, to_grade=data.credit_grade, reason=_("建档时评定"), changed_by=actor
            )
        audit_record(
            code="customer.created",
            obj=customer,
            actor=actor,
            data={"archive_no": customer.archive_no, "duplicate_confirmed": allow_duplicate},
        )
        timeline_add(customer=customer, kind="customer.created", title=_("建立档案"), actor=actor)
    return customer


def _duplicate_summary(actor, customer: Customer) -> dict[str, Any]:
    """What the warning may show: details only of archives the actor may see."""
    if access.can(actor, "customers.view_customer", customer):
        return {"id": customer.pk, "archive_no": customer.archive_no, "name": customer.name, "visible": True}
    return {"id": None, "archive_no": customer.archive_no, "name": "", "visible": False}


# Plain fields a person may change on the edit form; class, credit grade, points and
# merge have their own services with their own reasons and permissions.
EDITABLE_FIELDS = {
    "name",
    "id_number",
    "gender",
    "birthday",
    "address",
    "region",
    "owner",
    "is_key_account",
    "source",
    "lifecycle",
    "marketing_consent",
    "consent_channel",
    "notes",
}


def customer_update(
    *,
    actor,
    customer: Customer,
    values: dict[str, Any],
    expected_version: int | None,
    categories: Iterable[ProductCategory] | None = None,
    tags: Iterable[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Customer:
    """Change an archive's fields. A stale `expected_version` is a Conflict (409): two
    people editing the same archive never silently overwrite each other."""
    require_customer(actor, CHANGE, customer)
    unknown = set(values) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(_("不能在此修改：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    values = dict(values)
    if "name" in values:
        values["name"] = _clean_name(values["name"])
    if "id_number" in values:
        values["id_number"] = clean_id_number(
            values["id_number"], organisation=customer.kind == CustomerKind.ORGANISATION
        )
    if "lifecycle" in values and values["lifecycle"] not in Lifecycle.values:
        raise ValidationFailed(_("生命周期无效。"), details={"field": "lifecycle"})

    with transaction.atomic():
        locked = lock_customer(customer)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该档案已被他人修改，请刷新后重试。"), code=ErrorCode.CONFLICT)
        if "region" in values or "owner" in values:
            ensure_in_scope(actor, region=values.get("region", locked.region), owner=values.get("owner", locked.owner))
        if values.get("marketing_consent") and not locked.marketing_consent:
            values["consent_at"] = timezone.now()
        elif values.get("marketing_consent") is False:
            values["consent_channel"] = ""
        if extra is not None:
            values["extra"] = clean_extra(extra, kind=locked.kind, existing=locked.extra)
        pending = field_changes(locked, values)
        m2m_changes = _set_m2m(locked, categories=categories, tags=tags)
        if not pending and not m2m_changes:
            return locked
        changes = {}
        if pending:
            changes = audited_update(locked, values=values, code="customer.updated", actor=actor, data=m2m_changes)
        else:
            _bump_version(locked)
            audit_record(code="customer.updated", obj=locked, actor=actor, changes=m2m_changes)
        if "name" in changes:
            refresh_search_text(locked)
        labels = [str(Customer._meta.get_field(n).verbose_name) for n in [*changes, *m2m_changes] if n != "consent_at"]
        timeline_add(
            customer=locked,
            kind="customer.updated",
            title=_("修改档案：%(fields)s") % {"fields": "、".join(labels)},
            actor=actor,
            data={"fields": sorted([*changes, *m2m_changes])},
        )
        if changes.get("lifecycle"):
            timeline_add(
                customer=locked,
                kind="customer.lifecycle_changed",
                title=_("生命周期：%(old)s → %(new)s")
                % {"old": Lifecycle(changes["lifecycle"][0]).label, "new": Lifecycle(changes["lifecycle"][1]).label},
                actor=actor,
                # The states themselves, for the statistics (customers lost in a period).
                data={"from": changes["lifecycle"][0], "to": changes["lifecycle"][1]},
            )
    customer.refresh_from_db()
    return customer


def _bump_version(customer: Customer) -> None:
    customer.version += 1
    customer.save(update_fields=["version", "updated_at"])


def _set_m2m(customer: Customer, *, categories, tags) -> dict[str, list]:
    changes: dict[str, list] = {}
    if categories is not None:
        before = sorted(customer.categories.values_list("pk", flat=True))
        after = sorted({c.pk for c in categories})
        if before != after:
            customer.categories.set(after)
            changes["categories"] = [before, after]
    if tags is not None:
        before_names = sorted(customer.tags.values_list("name", flat=True))
        new_tags = tags_by_name(tags)
        after_names = sorted(t.name for t in new_tags)
        if before_names != after_names:
            customer.tags.set(new_tags)
            changes["tags"] = [before_names, after_names]
    return changes


def customer_change_class(
    *, actor, customer: Customer, customer_class: CustomerClass | None, reason: str = ""
) -> Customer:
    """Re-classify (A/B/C…): recorded with its reason; the visit cadence follows it."""
    require_customer(actor, CHANGE, customer)
    with transaction.atomic():
        locked = lock_customer(customer)
        if locked.customer_class_id == (customer_class.pk if customer_class else None):
            return locked
        before = locked.customer_class
        locked.customer_class = customer_class
        locked.version += 1
        locked.save(update_fields=["customer_class", "version", "updated_at"])
        ClassChange.objects.create(
            customer=locked, from_class=before, to_class=customer_class, reason=reason.strip(), changed_by=actor
        )
        audit_record(
            code="customer.class_changed",
            obj=locked,
            actor=actor,
            changes={"customer_class": (before.pk if before else None, customer_class.pk if customer_class else None)},
            data={"reason": reason},
        )
        timeline_add(
            customer=locked,
            kind="customer.class_changed",
            title=_("客户分类：%(old)s → %(new)s") % {"old": before or "—", "new": customer_class or "—"},
            body=reason,
            actor=actor,
        )
    return locked


def customer_change_credit(
    *,
    actor,
    customer: Customer,
    grade: CreditGrade | None,
    reason: str,
    effective_on: datetime.date | None = None,
) -> Customer:
    """Change the credit rating (信用等级), with the date and reason of the change."""
    access.require(actor, CHANGE_CREDIT, customer)
    if not (reason or "").strip():
        raise ValidationFailed(_("请填写信用等级调整原因。"), details={"field": "reason"})
    with transaction.atomic():
        locked = lock_customer(customer)
        if locked.credit_grade_id == (grade.pk if grade else None):
            raise ValidationFailed(_("信用等级没有变化。"), details={"field": "grade"})
        before = locked.credit_grade
        locked.credit_grade = grade
        locked.version += 1
        locked.save(update_fields=["credit_grade", "version", "updated_at"])
        change = CreditChange.objects.create(
            customer=locked,
            from_grade=before,
            to_grade=grade,
            reason=reason.strip(),
            effective_on=effective_on or timezone.localdate(),
            changed_by=actor,
        )
        audit_record(
            code="customer.credit_changed",
            obj=locked,
            actor=actor,
            changes={"credit_grade": (before.pk if before else None, grade.pk if grade else None)},
            data={"reason": reason, "effective_on": change.effective_on},
        )
        timeline_add(
            customer=locked,
            kind="customer.credit_changed",
            title=_("信用等级：%(old)s → %(new)s") % {"old": before or "—", "new": grade or "—"},
            body=reason,
            actor=actor,
            ref=change,
        )
    return locked
