"""Creating, changing and (de)activating archive setting rows. One generic service per
verb takes the row's `ConfigKind`; the named services below (`customer_class_create` …)
are the same with each kind's fields spelled out. Rows are deactivated, never deleted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, models, transaction

from kefu.core.audit import audit_record, audited_update
from kefu.customers.choices import FieldType
from kefu.customers.models import CreditGrade, CustomerClass, CustomerSource, CustomField, ProductCategory
from kefu.customers.services.config.kinds import (
    CATEGORY,
    CLASS,
    FIELD,
    GRADE,
    SOURCE,
    ConfigKind,
    clean_values,
    code_taken,
    guard_field_change,
    require_manager,
)

# --- one service per verb, for every kind --------------------------------------------


def archive_setting_create(*, actor, kind: ConfigKind, values: Mapping[str, Any]) -> models.Model:
    """A new row of `kind` from `values` (its editable fields; a missing code or name is
    refused like an empty one)."""
    require_manager(actor)
    given = {name: values.get(name) for name in kind.fields if name in values}
    missing = [name for name in (kind.code_field, "label" if kind is FIELD else "name") if name not in given]
    for name in missing:
        given[name] = ""
    cleaned = clean_values(kind, given)
    try:
        with transaction.atomic():
            obj = kind.model._default_manager.create(**cleaned)
            audit_record(code=f"{kind.audit}.created", obj=obj, actor=actor, data=cleaned)
    except IntegrityError:
        raise code_taken(kind, cleaned[kind.code_field]) from None
    return obj


def archive_setting_update(*, actor, kind: ConfigKind, obj: models.Model, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change the fields in `values` of the row `obj` of `kind`; returns the changes."""
    require_manager(actor)
    cleaned = clean_values(kind, values, instance=obj)
    try:
        with transaction.atomic():
            locked = kind.model._default_manager.select_for_update().get(pk=obj.pk)
            if kind is FIELD:
                # Checked under the lock: values may have been saved since the form opened.
                guard_field_change(locked, cleaned)
            changes = audited_update(locked, values=cleaned, code=f"{kind.audit}.updated", actor=actor)
    except IntegrityError:
        raise code_taken(kind, cleaned.get(kind.code_field, "")) from None
    for name in cleaned:
        setattr(obj, name, getattr(locked, name))
    return changes


def archive_setting_set_active(*, actor, kind: ConfigKind, obj: models.Model, active: bool) -> models.Model:
    """Offer the row `obj` of `kind` again (`active`) or no longer; archives keep it."""
    require_manager(actor)
    code = f"{kind.audit}.{'reactivated' if active else 'deactivated'}"
    with transaction.atomic():
        audited_update(obj, values={"is_active": active}, code=code, actor=actor)
    return obj


# --- customer classes --------------------------------------------------------------------


def customer_class_create(
    *, actor, code: str, name: str, visits_per_month: int = 1, description: str = "", sort_order: int = 0
) -> CustomerClass:
    """A new customer class; `visits_per_month` is the follow-up cadence (A ≥ 1 …)."""
    return archive_setting_create(
        actor=actor,
        kind=CLASS,
        values={
            "code": code,
            "name": name,
            "visits_per_month": visits_per_month,
            "description": description,
            "sort_order": sort_order,
        },
    )


def customer_class_update(*, actor, customer_class: CustomerClass, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change a class (its cadence applies to the visit plans made from now on)."""
    return archive_setting_update(actor=actor, kind=CLASS, obj=customer_class, values=values)


def customer_class_deactivate(*, actor, customer_class: CustomerClass) -> CustomerClass:
    """No longer offered for new classifications; archives keep their class."""
    return archive_setting_set_active(actor=actor, kind=CLASS, obj=customer_class, active=False)


def customer_class_reactivate(*, actor, customer_class: CustomerClass) -> CustomerClass:
    """Offer the class again."""
    return archive_setting_set_active(actor=actor, kind=CLASS, obj=customer_class, active=True)


# --- credit grades -----------------------------------------------------------------------


def credit_grade_create(*, actor, code: str, name: str, description: str = "", sort_order: int = 0) -> CreditGrade:
    """A new credit grade (信用等级)."""
    return archive_setting_create(
        actor=actor,
        kind=GRADE,
        values={"code": code, "name": name, "description": description, "sort_order": sort_order},
    )


def credit_grade_update(*, actor, grade: CreditGrade, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change a credit grade; the rating history keeps pointing at it."""
    return archive_setting_update(actor=actor, kind=GRADE, obj=grade, values=values)


def credit_grade_deactivate(*, actor, grade: CreditGrade) -> CreditGrade:
    """No longer offered for new ratings; archives and their rating history keep it."""
    return archive_setting_set_active(actor=actor, kind=GRADE, obj=grade, active=False)


def credit_grade_reactivate(*, actor, grade: CreditGrade) -> CreditGrade:
    """Offer the grade again."""
    return archive_setting_set_active(actor=actor, kind=GRADE, obj=grade, active=True)


# --- sources -----------------------------------------------------------------------------


def customer_source_create(*, actor, code: str, name: str, sort_order: int = 0) -> CustomerSource:
    """A new information source (信息来源)."""
    return archive_setting_create(
        actor=actor, kind=SOURCE, values={"code": code, "name": name, "sort_order": sort_order}
    )


def customer_source_update(*, actor, source: CustomerSource, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change an information source."""
    return archive_setting_update(actor=actor, kind=SOURCE, obj=source, values=values)


def customer_source_deactivate(*, actor, source: CustomerSource) -> CustomerSource:
    """No longer offered for new archives; archives keep their source."""
    return archive_setting_set_active(actor=actor, kind=SOURCE, obj=source, active=False)


def customer_source_reactivate(*, actor, source: CustomerSource) -> CustomerSource:
    """Offer the source again."""
    return archive_setting_set_active(actor=actor, kind=SOURCE, obj=source, active=True)


# --- product categories ------------------------------------------------------------------


def product_category_create(
    *, actor, code: str, name: str, description: str = "", sort_order: int = 0
) -> ProductCategory:
    """A new product category (一类 计重收费设备 …)."""
    return archive_setting_create(
        actor=actor,
        kind=CATEGORY,
        values={"code": code, "name": name, "description": description, "sort_order": sort_order},
    )


def product_category_update(*, actor, category: ProductCategory, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change a product category."""
    return archive_setting_update(actor=actor, kind=CATEGORY, obj=category, values=values)


def product_category_deactivate(*, actor, category: ProductCategory) -> ProductCategory:
    """No longer offered; archives keep their categories."""
    return archive_setting_set_active(actor=actor, kind=CATEGORY, obj=category, active=False)


def product_category_reactivate(*, actor, category: ProductCategory) -> ProductCategory:
    """Offer the category again."""
    return archive_setting_set_active(actor=actor, kind=CATEGORY, obj=category, active=True)


# --- custom fields -----------------------------------------------------------------------


def custom_field_create(
    *,
    actor,
    key: str,
    label: str,
    field_type: str = FieldType.TEXT,
    choices: Iterable[str] | str = (),
    required: bool = False,
    applies_to: str = "",
    sort_order: int = 0,
) -> CustomField:
    """A new profile custom field, stored in `Customer.extra[key]`. `applies_to` is
    "person", "organisation" or "" (both)."""
    return archive_setting_create(
        actor=actor,
        kind=FIELD,
        values={
            "key": key,
            "label": label,
            "field_type": field_type,
            "choices": choices,
            "required": required,
            "applies_to": applies_to,
            "sort_order": sort_order,
        },
    )


def custom_field_update(*, actor, field: CustomField, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change a custom field; its key and type are fixed once archives hold values."""
    return archive_setting_update(actor=actor, kind=FIELD, obj=field, values=values)


def custom_field_deactivate(*, actor, field: CustomField) -> CustomField:
    """Hidden from forms and no longer validated; the values stay in the archives."""
    return archive_setting_set_active(actor=actor, kind=FIELD, obj=field, active=False)


def custom_field_reactivate(*, actor, field: CustomField) -> CustomField:
    """Show and validate the field again."""
    return archive_setting_set_active(actor=actor, kind=FIELD, obj=field, active=True)
