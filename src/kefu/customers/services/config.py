"""Archive settings (档案配置) a manager keeps: customer classes with their follow-up
cadence, credit grades, information sources, product categories, custom fields and the
archive-number pattern. Profiles seed them through `archive_settings_seed`.

Rows are deactivated, never deleted: archives keep pointing at them, and reports of
past months still name them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record, audited_update
from kefu.core.errors import ValidationFailed
from kefu.customers.choices import CustomerKind, FieldType
from kefu.customers.models import (
    ArchiveNumbering,
    CreditGrade,
    Customer,
    CustomerClass,
    CustomerSource,
    CustomField,
    ProductCategory,
)
from kefu.customers.numbering import format_archive_no

MANAGE = "customers.manage_archive_settings"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
APPLIES_TO = {"", CustomerKind.PERSON.value, CustomerKind.ORGANISATION.value}
MAX_VISITS_PER_MONTH = 31
MAX_SORT_ORDER = 32767


@dataclass(frozen=True)
class ConfigKind:
    """One kind of setting row: its model, the field naming it uniquely, the fields a
    manager edits and its audit-code prefix."""

    slug: str
    model: type[models.Model]
    code_field: str
    fields: tuple[str, ...]
    audit: str


CLASS = ConfigKind(
    "classes",
    CustomerClass,
    "code",
    ("code", "name", "description", "visits_per_month", "sort_order"),
    "customer_class",
)
GRADE = ConfigKind("grades", CreditGrade, "code", ("code", "name", "description", "sort_order"), "credit_grade")
SOURCE = ConfigKind("sources", CustomerSource, "code", ("code", "name", "sort_order"), "customer_source")
CATEGORY = ConfigKind(
    "categories", ProductCategory, "code", ("code", "name", "description", "sort_order"), "product_category"
)
FIELD = ConfigKind(
    "fields",
    CustomField,
    "key",
    ("key", "label", "field_type", "choices", "required", "applies_to", "sort_order"),
    "custom_field",
)
KINDS: dict[str, ConfigKind] = {k.slug: k for k in (CLASS, GRADE, SOURCE, CATEGORY, FIELD)}


# --- validation ------------------------------------------------------------------------


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _text(model, name: str, value: Any, *, required: bool) -> str:
    text = " ".join(str(value or "").split())
    label = str(model._meta.get_field(name).verbose_name)
    if required and not text:
        raise ValidationFailed(_("请填写%(label)s。") % {"label": label}, details={"field": name})
    limit = _max_length(model, name)
    if len(text) > limit:
        raise ValidationFailed(
            _("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": limit}, details={"field": name}
        )
    return text


def _int(name: str, value: Any, *, low: int, high: int, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(label)s必须是整数。") % {"label": label}, details={"field": name}) from None
    if isinstance(value, float) and value != number:
        raise ValidationFailed(_("%(label)s必须是整数。") % {"label": label}, details={"field": name})
    if not low <= number <= high:
        raise ValidationFailed(
            _("%(label)s应在 %(low)s 到 %(high)s 之间。") % {"label": label, "low": low, "high": high},
            details={"field": name},
        )
    return number


def _code(kind: ConfigKind, value: Any, *, instance: models.Model | None) -> str:
    name = kind.code_field
    code = str(value or "").strip()
    if kind is FIELD:
        if not code:
            raise ValidationFailed(_("请填写字段键。"), details={"field": name})
        if not KEY_RE.fullmatch(code) or len(code) > _max_length(CustomField, "key"):
            raise ValidationFailed(
                _("字段键只能由小写字母、数字和下划线组成，以字母开头，不超过 40 个字符，如 contract_date。"),
                details={"field": name},
            )
    else:
        if not code:
            raise ValidationFailed(_("请填写编码。"), details={"field": name})
        if any(ch.isspace() for ch in code):
            raise ValidationFailed(_("编码不能包含空格。"), details={"field": name})
        limit = _max_length(kind.model, name)
        if len(code) > limit:
            raise ValidationFailed(_("编码不能超过 %(n)s 个字符。") % {"n": limit}, details={"field": name})
    taken = kind.model._default_manager.filter(**{f"{name}__iexact": code})
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        message = _("字段键 %(code)s 已存在。") if kind is FIELD else _("编码 %(code)s 已存在。")
        raise ValidationFailed(message % {"code": code}, details={"field": name})
    return code


def _choices(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = re.split(r"[\n,，、]", value)
    cleaned: list[str] = []
    for item in value:
        text = " ".join(str(item).split())
        if not text:
            continue
        if len(text) > 60:
            raise ValidationFailed(_("每个可选值不能超过 60 个字。"), details={"field": "choices"})
        if text in cleaned:
            raise ValidationFailed(_("可选值“%(value)s”重复。") % {"value": text}, details={"field": "choices"})
        cleaned.append(text)
    return cleaned


def _clean(kind: ConfigKind, values: Mapping[str, Any], *, instance: models.Model | None = None) -> dict[str, Any]:
    """`values` validated for `kind` (only the fields given; a create passes them all)."""
    unknown = set(values) - set(kind.fields)
    if unknown:
        raise ValidationFailed(_("不能在此修改：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    model = kind.model
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == kind.code_field:
            out[name] = _code(kind, value, instance=instance)
        elif name in ("name", "label"):
            out[name] = _text(model, name, value, required=True)
        elif name == "description":
            out[name] = _text(model, name, value, required=False)
        elif name == "sort_order":
            out[name] = _int(name, value or 0, low=0, high=MAX_SORT_ORDER, label=_("排序"))
        elif name == "visits_per_month":
            out[name] = _int(name, value, low=0, high=MAX_VISITS_PER_MONTH, label=_("每月最少跟踪次数"))
        elif name == "field_type":
            if value not in FieldType.values:
                raise ValidationFailed(_("字段类型无效。"), details={"field": name})
            out[name] = value
        elif name == "choices":
            out[name] = _choices(value)
        elif name == "required":
            out[name] = bool(value)
        elif name == "applies_to":
            value = value or ""
            if value == "both":
                value = ""
            if value not in APPLIES_TO:
                raise ValidationFailed(_("适用范围无效。"), details={"field": name})
            out[name] = value
    if kind is FIELD:
        _check_field_choices(out, instance)
    return out


def _check_field_choices(out: dict[str, Any], instance: CustomField | None) -> None:
    field_type = out.get("field_type", instance.field_type if instance else FieldType.TEXT)
    choices = out.get("choices", instance.choices if instance else [])
    if field_type == FieldType.CHOICE:
        if not choices:
            raise ValidationFailed(_("单选类型的字段请至少填写一个可选值。"), details={"field": "choices"})
    elif choices:
        # Choices only mean something for a choice field; keep no stale list around.
        out["choices"] = []


def field_has_values(key: str) -> bool:
    """Whether any archive holds a value for custom field `key`."""
    return Customer.objects.filter(extra__has_key=key).exists()


def _guard_field_change(field: CustomField, values: dict[str, Any]) -> None:
    """Once archives hold values, the key and the type are fixed (the values are stored
    under the key and were validated for the type), and a choice still used stays."""
    key_change = "key" in values and values["key"] != field.key
    type_change = "field_type" in values and values["field_type"] != field.field_type
    removed = set(field.choices or []) - set(values.get("choices", field.choices) or [])
    if not (key_change or type_change or (removed and field.field_type == FieldType.CHOICE)):
        return
    if not field_has_values(field.key):
        return
    if key_change:
        raise ValidationFailed(_("已有档案填写了该字段，字段键不能再修改。"), details={"field": "key"})
    if type_change:
        raise ValidationFailed(_("已有档案填写了该字段，字段类型不能再修改。"), details={"field": "field_type"})
    used = sorted(v for v in removed if Customer.objects.filter(**{f"extra__{field.key}": v}).exists())
    if used:
        raise ValidationFailed(
            _("可选值“%(values)s”已被档案使用，不能删除。") % {"values": "、".join(used)}, details={"field": "choices"}
        )


# --- generic create / update / (de)activate ----------------------------------------------


def _require(actor) -> None:
    access.require(actor, MANAGE)


def _create(kind: ConfigKind, *, actor, values: Mapping[str, Any]) -> models.Model:
    _require(actor)
    given = {name: values.get(name) for name in kind.fields if name in values}
    missing = [name for name in (kind.code_field, "label" if kind is FIELD else "name") if name not in given]
    for name in missing:
        given[name] = ""
    cleaned = _clean(kind, given)
    try:
        with transaction.atomic():
            obj = kind.model._default_manager.create(**cleaned)
            audit_record(code=f"{kind.audit}.created", obj=obj, actor=actor, data=cleaned)
    except IntegrityError:
        raise _taken(kind, cleaned[kind.code_field]) from None
    return obj


def _taken(kind: ConfigKind, code: str) -> ValidationFailed:
    message = _("字段键 %(code)s 已存在。") if kind is FIELD else _("编码 %(code)s 已存在。")
    return ValidationFailed(message % {"code": code}, details={"field": kind.code_field})


def _update(kind: ConfigKind, *, actor, obj: models.Model, values: Mapping[str, Any]) -> dict[str, Any]:
    _require(actor)
    cleaned = _clean(kind, values, instance=obj)
    try:
        with transaction.atomic():
            locked = kind.model._default_manager.select_for_update().get(pk=obj.pk)
            if kind is FIELD:
                # Checked under the lock: values may have been saved since the form opened.
                _guard_field_change(locked, cleaned)
            changes = audited_update(locked, values=cleaned, code=f"{kind.audit}.updated", actor=actor)
    except IntegrityError:
        raise _taken(kind, cleaned.get(kind.code_field, "")) from None
    for name in cleaned:
        setattr(obj, name, getattr(locked, name))
    return changes


def _set_active(kind: ConfigKind, *, actor, obj: models.Model, active: bool) -> models.Model:
    _require(actor)
    code = f"{kind.audit}.{'reactivated' if active else 'deactivated'}"
    with transaction.atomic():
        audited_update(obj, values={"is_active": active}, code=code, actor=actor)
    return obj


# --- customer classes --------------------------------------------------------------------


def customer_class_create(
    *, actor, code: str, name: str, visits_per_month: int = 1, description: str = "", sort_order: int = 0
) -> CustomerClass:
    """A new customer class; `visits_per_month` is the follow-up cadence (A ≥ 1 …)."""
    return _create(
        CLASS,
        actor=actor,
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
    return _update(CLASS, actor=actor, obj=customer_class, values=values)


def customer_class_deactivate(*, actor, customer_class: CustomerClass) -> CustomerClass:
    """No longer offered for new classifications; archives keep their class."""
    return _set_active(CLASS, actor=actor, obj=customer_class, active=False)


def customer_class_reactivate(*, actor, customer_class: CustomerClass) -> CustomerClass:
    """Offer the class again."""
    return _set_active(CLASS, actor=actor, obj=customer_class, active=True)


# --- credit grades -----------------------------------------------------------------------


def credit_grade_create(*, actor, code: str, name: str, description: str = "", sort_order: int = 0) -> CreditGrade:
    """A new credit grade (信用等级)."""
    return _create(
        GRADE, actor=actor, values={"code": code, "name": name, "description": description, "sort_order": sort_order}
    )


def credit_grade_update(*, actor, grade: CreditGrade, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change a credit grade; the rating history keeps pointing at it."""
    return _update(GRADE, actor=actor, obj=grade, values=values)


def credit_grade_deactivate(*, actor, grade: CreditGrade) -> CreditGrade:
    """No longer offered for new ratings; archives and their rating history keep it."""
    return _set_active(GRADE, actor=actor, obj=grade, active=False)


def credit_grade_reactivate(*, actor, grade: CreditGrade) -> CreditGrade:
    """Offer the grade again."""
    return _set_active(GRADE, actor=actor, obj=grade, active=True)


# --- sources -----------------------------------------------------------------------------


def customer_source_create(*, actor, code: str, name: str, sort_order: int = 0) -> CustomerSource:
    """A new information source (信息来源)."""
    return _create(SOURCE, actor=actor, values={"code": code, "name": name, "sort_order": sort_order})


def customer_source_update(*, actor, source: CustomerSource, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change an information source."""
    return _update(SOURCE, actor=actor, obj=source, values=values)


def customer_source_deactivate(*, actor, source: CustomerSource) -> CustomerSource:
    """No longer offered for new archives; archives keep their source."""
    return _set_active(SOURCE, actor=actor, obj=source, active=False)


def customer_source_reactivate(*, actor, source: CustomerSource) -> CustomerSource:
    """Offer the source again."""
    return _set_active(SOURCE, actor=actor, obj=source, active=True)


# --- product categories ------------------------------------------------------------------


def product_category_create(
    *, actor, code: str, name: str, description: str = "", sort_order: int = 0
) -> ProductCategory:
    """A new product category (一类 计重收费设备 …)."""
    return _create(
        CATEGORY,
        actor=actor,
        values={"code": code, "name": name, "description": description, "sort_order": sort_order},
    )


def product_category_update(*, actor, category: ProductCategory, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change a product category."""
    return _update(CATEGORY, actor=actor, obj=category, values=values)


def product_category_deactivate(*, actor, category: ProductCategory) -> ProductCategory:
    """No longer offered; archives keep their categories."""
    return _set_active(CATEGORY, actor=actor, obj=category, active=False)


def product_category_reactivate(*, actor, category: ProductCategory) -> ProductCategory:
    """Offer the category again."""
    return _set_active(CATEGORY, actor=actor, obj=category, active=True)


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
    return _create(
        FIELD,
        actor=actor,
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
    return _update(FIELD, actor=actor, obj=field, values=values)


def custom_field_deactivate(*, actor, field: CustomField) -> CustomField:
    """Hidden from forms and no longer validated; the values stay in the archives."""
    return _set_active(FIELD, actor=actor, obj=field, active=False)


def custom_field_reactivate(*, actor, field: CustomField) -> CustomField:
    """Show and validate the field again."""
    return _set_active(FIELD, actor=actor, obj=field, active=True)


# --- archive numbering -------------------------------------------------------------------


def archive_numbering() -> ArchiveNumbering:
    numbering = ArchiveNumbering.objects.order_by("pk").first()
    return numbering if numbering is not None else ArchiveNumbering(pk=1)


def clean_pattern(pattern: str) -> str:
    """A pattern that yields a different, storable number for every sequence value."""
    pattern = (pattern or "").strip()
    if not pattern:
        raise ValidationFailed(_("请填写编号规则。"), details={"field": "pattern"})
    if len(pattern) > _max_length(ArchiveNumbering, "pattern"):
        raise ValidationFailed(_("编号规则不能超过 60 个字符。"), details={"field": "pattern"})
    try:
        samples = [format_archive_no(pattern, year=2026, seq=seq) for seq in (1, 2, 999999)]
    except ValidationFailed:
        raise
    except Exception as exc:  # any other formatting error of a hand-typed pattern
        raise ValidationFailed(
            _("档案编号规则无效：%(pattern)s（可用 {year} 与 {seq:06d}）") % {"pattern": pattern},
            details={"field": "pattern"},
        ) from exc
    if "{seq" not in pattern or len(set(samples)) < len(samples):
        raise ValidationFailed(
            _("编号规则必须包含流水号 {seq}（如 {seq:06d}），否则编号会重复。"), details={"field": "pattern"}
        )
    if any(ch.isspace() for ch in samples[0]):
        raise ValidationFailed(_("编号规则不能包含空格。"), details={"field": "pattern"})
    if max(len(s) for s in samples) > _max_length(Customer, "archive_no"):
        raise ValidationFailed(_("按该规则生成的编号过长（最多 40 个字符）。"), details={"field": "pattern"})
    return pattern


def archive_numbering_update(*, actor, pattern: str) -> ArchiveNumbering:
    """Change the archive-number pattern. Numbers already given stay as they are; the
    counter carries on, and a number the new pattern would produce that an archive
    already holds is skipped (see `numbering.next_archive_no`), so none is reused."""
    _require(actor)
    pattern = clean_pattern(pattern)
    with transaction.atomic():
        numbering = ArchiveNumbering.objects.select_for_update().order_by("pk").first()
        if numbering is None:
            numbering = ArchiveNumbering.objects.create()
        audited_update(numbering, values={"pattern": pattern}, code="archive_numbering.updated", actor=actor)
    return numbering


def preview_archive_no(pattern: str, numbering: ArchiveNumbering | None = None) -> str:
    """What the next number would look like under `pattern` (for the settings page)."""
    numbering = numbering or archive_numbering()
    today = timezone.localdate()
    period = str(today.year) if "{year" in pattern else ""
    seq = (numbering.last_seq if numbering.period == period else 0) + 1
    return format_archive_no(pattern, year=today.year, seq=seq)


# --- profile seeding ---------------------------------------------------------------------


def archive_settings_seed(
    *,
    classes: Iterable[Mapping[str, Any]] = (),
    grades: Iterable[Mapping[str, Any]] = (),
    sources: Iterable[Mapping[str, Any]] = (),
    categories: Iterable[Mapping[str, Any]] = (),
    fields: Iterable[Mapping[str, Any]] = (),
    actor=None,
) -> dict[str, int]:
    """Create the rows a profile declares that do not exist yet (matched by code, or key
    for custom fields, ignoring case); existing rows, including what a manager changed or
    deactivated, are left alone, so re-running is safe. Each item is a mapping of the
    model's fields, e.g. `{"code": "A", "name": "A类", "visits_per_month": 1}`, or a
    dataclass with those fields (`profile_data.ClassSpec` …); without
    `sort_order` the position in the list decides. Returns how many rows of each kind
    were created. `actor=None` is the system (the profile loader)."""
    if actor is not None:
        _require(actor)
    created: dict[str, int] = {}
    with transaction.atomic():
        for kind, items in (
            (CLASS, classes),
            (GRADE, grades),
            (SOURCE, sources),
            (CATEGORY, categories),
            (FIELD, fields),
        ):
            count = 0
            for index, raw in enumerate(items):
                item = dataclasses.asdict(raw) if dataclasses.is_dataclass(raw) else dict(raw)
                values = {name: item[name] for name in kind.fields if name in item}
                unknown = set(item) - set(kind.fields)
                if unknown:
                    raise ValidationFailed(
                        _("不能在此修改：%(fields)s") % {"fields": "、".join(sorted(unknown))},
                        details={"kind": kind.slug, "item": index},
                    )
                code = str(values.get(kind.code_field, "")).strip()
                if code and kind.model._default_manager.filter(**{f"{kind.code_field}__iexact": code}).exists():
                    continue
                values.setdefault("sort_order", (index + 1) * 10)
                if kind is FIELD:
                    values.setdefault("field_type", FieldType.TEXT)
                kind.model._default_manager.create(**_clean(kind, values))
                count += 1
            created[kind.slug] = count
        if any(created.values()):
            audit_record(
                code="archive_settings.seeded",
                actor=actor,
                object_type="customers.archivesettings",
                object_repr=_("客户档案配置"),
                data={"created": created},
            )
    return created
