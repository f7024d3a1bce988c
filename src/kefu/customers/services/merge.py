"""Merging a duplicate archive into the one that survives (合并档案).

Every row that points at the merged-away archive (the *source*) is moved onto the
survivor: contacts, timeline, class/credit changes, points, loans, categories and tags,
and whatever later modules point at a customer (tickets, visits, bookings…). Those are
found through the model graph, not listed by hand, so a module added later is merged
without touching this file. The source row itself stays, with its archive number and
`merged_into` set, so nothing is lost and its number is never handed out again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from kefu.customers.models import Contact, Customer
from kefu.customers.services.common import refresh_search_text
from kefu.customers.timeline import timeline_add

MERGE = "customers.merge_customer"


class MergeRefused(Conflict):
    """The references could not be moved as they are (a unique rule of another module
    would be broken); nothing was changed."""

    code = "customer_merge_refused"


@dataclass(frozen=True)
class Reference:
    """One foreign key to Customer on some model. `through` is set for the join table
    of a many-to-many relation (ours or another module's), whose rows are united rather
    than moved one by one: the survivor ends up linked to both archives' targets."""

    model: type[models.Model]
    field: models.ForeignKey
    through: bool = False

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


def customer_references() -> list[Reference]:
    """Every foreign key to Customer in the project (hidden ones and join tables too),
    except `Customer.merged_into`, which the merge handles itself."""
    refs = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete):
            continue
        if rel.many_to_many:
            # Covered by its join table's foreign key, which is listed as well.
            continue
        field = rel.field
        if rel.related_model is Customer and field.name == "merged_into":
            continue
        refs.append(Reference(model=rel.related_model, field=field, through=bool(rel.related_model._meta.auto_created)))
    return refs


# Fields the merge never copies: identity, bookkeeping, and values with their own rules.
_NOT_FILLED = {
    "id",
    "kind",
    "archive_no",
    "name",
    "name_initials",
    "search_text",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "merged_into",
    "points_balance",
    "extra",
    "lifecycle",
    "marketing_consent",
    "consent_at",
    "consent_channel",
}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _fill_values(survivor: Customer, source: Customer) -> dict[str, Any]:
    """{field name: value} the survivor lacks and the source has. Booleans are never
    "empty"; the key-account flag is kept if either archive had it, and consent moves as
    a whole (flag, date and channel) when only the source recorded it."""
    values: dict[str, Any] = {}
    for field in Customer._meta.concrete_fields:
        if field.name in _NOT_FILLED or isinstance(field, models.BooleanField):
            continue
        mine, theirs = getattr(survivor, field.attname), getattr(source, field.attname)
        if _empty(mine) and not _empty(theirs):
            values[field.name] = theirs
    if source.is_key_account and not survivor.is_key_account:
        values["is_key_account"] = True
    if source.marketing_consent and not survivor.marketing_consent and survivor.consent_at is None:
        values.update(
            marketing_consent=True, consent_at=source.consent_at, consent_channel=source.consent_channel or ""
        )
    return values


def _merged_extra(survivor: Customer, source: Customer) -> dict[str, Any]:
    extra = dict(survivor.extra or {})
    for key, value in (source.extra or {}).items():
        if _empty(extra.get(key)) and not _empty(value):
            extra[key] = value
    return extra


def _move_contacts(survivor: Customer, source: Customer) -> int:
    """Exactly one primary afterwards: the survivor's, or the source's if the survivor
    had none."""
    moving = Contact.objects.filter(customer=source)
    if Contact.objects.filter(customer=survivor, is_primary=True).exists():
        return moving.update(customer=survivor, is_primary=False)
    return moving.update(customer=survivor)


def _move_through(ref: Reference, survivor: Customer, source: Customer) -> int:
    """Join-table rows: link the survivor to every target the source was linked to (a
    union); rows that would duplicate an existing link are dropped, not the link."""
    manager = ref.model._base_manager
    others = [
        f.attname
        for f in ref.model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.name != ref.field.name
    ]
    source_rows = manager.filter(**{ref.field.name: source})
    if not others:
        return source_rows.update(**{ref.field.name: survivor})
    kept = set(manager.filter(**{ref.field.name: survivor}).values_list(*others))
    moved = 0
    for pk, *target in source_rows.values_list("pk", *others):
        if tuple(target) not in kept:
            moved += manager.filter(pk=pk).update(**{ref.field.name: survivor})
            kept.add(tuple(target))
    source_rows.delete()
    return moved


def _lock(pk: int) -> Customer:
    customer = Customer.objects.select_for_update().filter(pk=pk).first()
    if customer is None:
        raise NotFound(_("客户不存在。"))
    return customer


def customer_merge(
    *,
    actor,
    survivor: Customer,
    source: Customer,
    expected_versions: Mapping[str, int | None] | tuple[int | None, int | None] | None = None,
) -> Customer:
    """Merge `source` into `survivor` (see the module docstring). `expected_versions`
    is `(survivor_version, source_version)` or `{"survivor": …, "source": …}`: a stale
    one is a Conflict (409). Returns the survivor as now stored."""
    access.require(actor, MERGE, survivor)
    access.require(actor, MERGE, source)
    if survivor.pk == source.pk:
        raise ValidationFailed(_("不能将档案与自身合并。"), details={"field": "source"})
    if isinstance(expected_versions, Mapping):
        expected = (expected_versions.get("survivor"), expected_versions.get("source"))
    else:
        expected = tuple(expected_versions or (None, None))
    if len(expected) != 2:
        raise ValidationFailed(_("请同时给出两份档案的版本号。"), details={"field": "expected_versions"})

    try:
        with transaction.atomic():
            # Both rows locked in pk order, whichever way round the merge goes, so two
            # merges of the same pair cannot deadlock.
            locked = {pk: _lock(pk) for pk in sorted((survivor.pk, source.pk))}
            keep, gone = locked[survivor.pk], locked[source.pk]
            for customer in (keep, gone):
                if customer.merged_into_id:
                    raise InvalidState(
                        _("档案 %(no)s 已合并到其他档案，不能再合并。") % {"no": customer.archive_no},
                        code="customer_already_merged",
                    )
            for customer, version in zip((keep, gone), expected, strict=True):
                if version is not None and customer.version != version:
                    raise Conflict(_("档案 %(no)s 已被他人修改，请刷新后重试。") % {"no": customer.archive_no})
            return _merge_locked(actor, keep, gone)
    except IntegrityError as exc:
        raise MergeRefused(
            _("无法自动合并：两份档案的关联记录存在冲突，档案未作任何修改。"),
            details={"error": str(exc)},
        ) from exc


def _merge_locked(actor, survivor: Customer, source: Customer) -> Customer:
    moved: dict[str, int] = {"customers.contact": _move_contacts(survivor, source)}
    for ref in customer_references():
        if ref.model is Contact:
            continue
        if ref.through:
            count = _move_through(ref, survivor, source)
        else:
            count = ref.model._base_manager.filter(**{ref.field.name: source}).update(**{ref.field.name: survivor})
        moved[ref.label] = moved.get(ref.label, 0) + count
    # Archives merged into the source earlier now point at the live archive directly.
    moved["customers.customer"] = Customer.objects.filter(merged_into=source).update(merged_into=survivor)

    fill = _fill_values(survivor, source)
    extra = _merged_extra(survivor, source)
    changes = {}
    for name, value in fill.items():
        attname = Customer._meta.get_field(name).attname
        changes[name] = (getattr(survivor, attname), value)
        setattr(survivor, attname, value)
    before = survivor.extra or {}
    filled = sorted(fill) + [f"extra.{key}" for key in sorted(extra) if extra[key] != before.get(key)]
    survivor.extra = extra
    points = source.points_balance
    survivor.points_balance = F("points_balance") + points
    survivor.version += 1
    survivor.save(update_fields=[*fill, "extra", "points_balance", "version", "updated_at"])
    survivor.refresh_from_db(fields=["points_balance"])

    source.merged_into = survivor
    source.points_balance = 0
    source.version += 1
    source.save(update_fields=["merged_into", "points_balance", "version", "updated_at"])

    refresh_search_text(survivor)
    refresh_search_text(source)

    moved = {label: count for label, count in moved.items() if count}
    audit_record(
        code="customer.merged",
        obj=survivor,
        actor=actor,
        changes=changes,
        data={
            "source": source.pk,
            "source_archive_no": source.archive_no,
            "moved": moved,
            "points": points,
            "filled": filled,
        },
    )
    summary = "；".join(f"{_reference_name(label)} {count}" for label, count in sorted(moved.items()))
    timeline_add(
        customer=survivor,
        kind="customer.merged",
        title=_("合并档案 %(no)s（%(name)s）") % {"no": source.archive_no, "name": source.name},
        body=summary,
        actor=actor,
        ref=source,
        data={"source": source.pk, "moved": moved, "filled": filled},
    )
    timeline_add(
        customer=source,
        kind="customer.merged_into",
        title=_("已合并至 %(no)s（%(name)s）") % {"no": survivor.archive_no, "name": survivor.name},
        actor=actor,
        ref=survivor,
        data={"survivor": survivor.pk},
    )
    return survivor


def _reference_name(label: str) -> str:
    if label == "customers.customer":
        return _("此前合并的档案")
    app_label, _sep, model_name = label.partition(".")
    try:
        from django.apps import apps

        model = apps.get_model(app_label, model_name)
    except LookupError:
        return label
    if model._meta.auto_created:
        # A join table: name it after the relation it stores (产品类别, 标签…).
        for field in model._meta.auto_created._meta.many_to_many:
            if field.remote_field.through is model:
                return str(field.verbose_name)
    return str(model._meta.verbose_name)
