"""Writing one chunk of checked import rows: new archives (numbers taken in one locked
block, search text computed in Python) and changes to matched ones, with their
contacts, links, credit/class history, audit events and timeline entries, all in bulk."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils.translation import gettext as _

from kefu.core.audit import _json_value
from kefu.core.models import AuditEvent
from kefu.customers.io.bulk import Inserter
from kefu.customers.io.rows import PERSON, ImportRow, row_changes
from kefu.customers.models import (
    ClassChange,
    Contact,
    CreditChange,
    Customer,
    ImportJob,
    Tag,
    TimelineEntry,
)
from kefu.customers.numbering import take_archive_numbers
from kefu.customers.pinyin import name_initials
from kefu.customers.search import build_search_text
from kefu.customers.validation import phone_digits

if TYPE_CHECKING:
    from kefu.customers.io.importer import Importer

BATCH = 1000
# Changes recorded by field name only: personal data stays out of the audit log.
PRIVATE_FIELDS = {"id_number", "phone"}
FIELD_LABELS = {
    "name": "名称",
    "id_number": "证件号码",
    "gender": "性别",
    "birthday": "生日",
    "address": "地址",
    "region_id": "片区",
    "owner_id": "客户经理",
    "customer_class_id": "客户分类",
    "is_key_account": "大客户",
    "credit_grade_id": "信用等级",
    "source_id": "信息来源",
    "categories": "产品类别",
    "lifecycle": "生命周期",
    "tags": "标签",
    "contact": "联系方式",
    "phone": "手机/电话",
    "marketing_consent": "同意营销",
    "notes": "备注",
    "extra": "自定义字段",
}


@functools.lru_cache(maxsize=20_000)
def cached_initials(name: str, person: bool) -> tuple[str, ...]:
    # Names repeat a lot in a large file (张伟, 王芳…); pinyin is the costliest step.
    # Bounded: organisation names rarely repeat, and memory must not grow with the file.
    return tuple(name_initials(name, person=person))


def search_text(
    name: str, person: bool, archive_no: str, phones: list[str], former_numbers: list[str] = ()
) -> tuple[str, str]:
    """(name_initials, search_text) as `refresh_search_text` makes them, with the
    initials cached (names repeat a lot in a large file)."""
    initials = cached_initials(name, person)
    text = build_search_text(
        name=name, person=person, archive_no=archive_no, phones=phones, former_numbers=former_numbers, initials=initials
    )
    return " ".join(initials)[:200], text


def ensure_tags(rows: list[ImportRow]) -> dict[str, int]:
    names = sorted({t for r in rows if r.tags for t in r.tags})
    if not names:
        return {}
    existing = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    missing = [n for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
        existing.update(Tag.objects.filter(name__in=missing).values_list("name", "pk"))
    return existing


class Writes:
    """The rows one chunk adds to each history table, inserted together at its end."""

    def __init__(self, importer: Importer):
        self.importer = importer
        self.audits: list[dict[str, Any]] = []
        self.timeline: list[dict[str, Any]] = []
        self.credit: list[dict[str, Any]] = []
        self.classes: list[dict[str, Any]] = []
        ctx = importer.ctx
        actor = importer.actor
        self.audit_base = {
            "created_at": importer.now,
            "actor_id": actor.pk,
            "actor_repr": str(actor),
            "object_type": Customer._meta.label_lower,
            "ip": ctx.ip,
            "request_id": ctx.request_id,
        }
        self.timeline_base = {
            "at": importer.now,
            "actor_id": actor.pk,
            "ref_type": ImportJob._meta.label_lower,
            "ref_id": str(importer.job.pk),
        }

    def audit(self, code: str, pk: int, label: str, *, changes=None, data=None) -> None:
        """What `audit_record` writes for one customer."""
        self.audits.append(
            {
                **self.audit_base,
                "code": code,
                "object_id": str(pk),
                "object_repr": label[:200],
                "changes": {k: [_json_value(v[0]), _json_value(v[1])] for k, v in (changes or {}).items()},
                "data": _json_value(data or {}),
            }
        )

    def event(self, pk: int, kind: str, title: str, data=None) -> None:
        """What `timeline_add` writes for one customer."""
        self.timeline.append(
            {**self.timeline_base, "customer_id": pk, "kind": kind, "title": title[:200], "data": data or {}}
        )

    def change(self, table: list, pk: int, before_key: str, after_key: str, before, after, reason: str) -> None:
        table.append(
            {
                "customer_id": pk,
                before_key: before,
                after_key: after,
                "reason": reason,
                "changed_by_id": self.importer.actor.pk,
                "created_at": self.importer.now,
            }
        )

    def flush(self) -> None:
        for model, rows in (
            (AuditEvent, self.audits),
            (TimelineEntry, self.timeline),
            (CreditChange, self.credit),
            (ClassChange, self.classes),
        ):
            Inserter(model).insert(rows)


def write_chunk(importer: Importer, rows: list[ImportRow]) -> None:
    """Write one chunk's valid rows: creates and updates in bulk (a constant number of
    statements per chunk, whatever its size)."""
    if not connection.in_atomic_block:
        raise RuntimeError("write_chunk must run inside the import's transaction")
    tags = ensure_tags([r for r in rows if r.action in ("create", "update")])
    writes = Writes(importer)
    create_rows(importer, [r for r in rows if r.action == "create"], tags, writes)
    update_rows(importer, [r for r in rows if r.action == "update"], tags, writes)
    writes.flush()


def create_rows(importer: Importer, rows: list[ImportRow], tags: dict[str, int], writes: Writes) -> None:
    if not rows:
        return
    now = importer.now
    actor_id = importer.actor.pk
    numbers = take_archive_numbers(len(rows))
    lifecycle_default = Customer._meta.get_field("lifecycle").default
    customers = []
    for row, number in zip(rows, numbers, strict=True):
        v = row.values
        consent = bool(v.get("marketing_consent"))
        initials, search = search_text(row.name, row.kind == PERSON, number, [row.phone])
        customers.append(
            {
                "created_at": now,
                "updated_at": now,
                "kind": row.kind,
                "archive_no": number,
                "name": row.name,
                "name_initials": initials,
                "id_number": row.id_number,
                "gender": v.get("gender") or "",
                "birthday": v.get("birthday"),
                "address": v.get("address") or "",
                "region_id": v.get("region_id") or importer.default_region_id,
                "owner_id": v.get("owner_id"),
                "customer_class_id": v.get("customer_class_id"),
                "is_key_account": bool(v.get("is_key_account")),
                "credit_grade_id": v.get("credit_grade_id"),
                "source_id": v.get("source_id"),
                "lifecycle": v.get("lifecycle") or lifecycle_default,
                "marketing_consent": consent,
                "consent_at": now if consent else None,
                "notes": v.get("notes") or "",
                "extra": row.extra,
                "search_text": search,
                "created_by_id": actor_id,
            }
        )
    Inserter(Customer).insert(customers)
    by_number = dict(Customer.objects.filter(archive_no__in=numbers).values_list("archive_no", "pk"))
    ids = [by_number[n] for n in numbers]
    contacts, category_links, tag_links = [], [], []
    credit_reason = _("建档时评定（Excel 导入）")
    created_title = _("建立档案（Excel 导入）")
    for row, customer, pk in zip(rows, customers, ids, strict=True):
        c = row.contact
        if row.phone or c.get("wechat") or c.get("email"):
            contacts.append(
                {
                    "customer_id": pk,
                    "name": c.get("name", ""),
                    "phone": row.phone,
                    "phone_digits": row.digits,
                    "wechat": c.get("wechat", ""),
                    "email": c.get("email", ""),
                    "is_primary": True,
                    "created_at": now,
                }
            )
        for category in sorted(set(row.categories or ())):
            category_links.append({"customer_id": pk, "productcategory_id": category})
        for name in sorted(set(row.tags or ())):
            tag_links.append({"customer_id": pk, "tag_id": tags[name]})
        if customer["credit_grade_id"]:
            writes.credit.append(
                {
                    "customer_id": pk,
                    "to_grade_id": customer["credit_grade_id"],
                    "reason": credit_reason,
                    "effective_on": importer.today,
                    "changed_by_id": actor_id,
                    "created_at": now,
                }
            )
        label = f"{customer['name']}（{customer['archive_no']}）"
        writes.audit(
            "customer.created",
            pk,
            label,
            data={"archive_no": customer["archive_no"], "import_job": importer.job.pk, "row": row.number},
        )
        writes.event(pk, "customer.created", created_title)
    for model, links in (
        (Contact, contacts),
        (Customer.categories.through, category_links),
        (Customer.tags.through, tag_links),
    ):
        Inserter(model).insert(links)


def update_rows(importer: Importer, rows: list[ImportRow], tags: dict[str, int], writes: Writes) -> None:
    if not rows:
        return
    now = importer.now
    reason = _("Excel 导入（任务 #%(job)d）") % {"job": importer.job.pk}
    title = _("Excel 导入修改档案：%(fields)s")
    customers: list[Customer] = []
    fields: set[str] = {"version", "updated_at"}
    new_contacts: list[dict[str, Any]] = []
    changed_contacts: list[Contact] = []
    contact_fields: set[str] = set()
    category_sets: dict[int, list[int]] = {}
    tag_sets: dict[int, list[str]] = {}
    for row in rows:
        archive = row.target
        changes = row_changes(row, archive, now)
        customer = Customer(**archive.values)
        audit_changes: dict[str, tuple[Any, Any]] = {}
        for name, (old, new) in changes.items():
            if name in ("categories", "tags", "contact"):
                continue
            setattr(customer, name, new)
            fields.add(name)
            if name == "customer_class_id":
                writes.change(writes.classes, customer.pk, "from_class_id", "to_class_id", old, new, reason)
            elif name == "credit_grade_id":
                writes.change(writes.credit, customer.pk, "from_grade_id", "to_grade_id", old, new, reason)
                writes.credit[-1]["effective_on"] = importer.today
            if name not in PRIVATE_FIELDS:
                audit_changes[name.removesuffix("_id")] = (old, new)
        if "marketing_consent" in changes:
            if customer.marketing_consent:
                customer.consent_at = now
                fields.add("consent_at")
            else:
                customer.consent_channel = ""
                fields.add("consent_channel")
        if "categories" in changes:
            category_sets[customer.pk] = changes["categories"][1]
            audit_changes["categories"] = changes["categories"]
        if "tags" in changes:
            tag_sets[customer.pk] = changes["tags"][1]
            audit_changes["tags"] = changes["tags"]
        phones = [c["phone"] for c in archive.contacts]
        contact = changes.get("contact")
        if contact:
            values = contact["values"]
            if contact["contact"] is None:
                new_contacts.append(
                    {
                        "customer_id": customer.pk,
                        "name": values.get("name", ""),
                        "phone": values.get("phone", ""),
                        "phone_digits": phone_digits(values.get("phone", "")),
                        "wechat": values.get("wechat", ""),
                        "email": values.get("email", ""),
                        "is_primary": True,
                        "created_at": now,
                    }
                )
                phones.append(values.get("phone", ""))
            else:
                primary = Contact(**contact["contact"])
                old_phone = primary.phone
                for key, value in values.items():
                    setattr(primary, key, value)
                    contact_fields.add(key)
                if "phone" in values:
                    primary.phone_digits = phone_digits(primary.phone)
                    contact_fields.add("phone_digits")
                    phones = [primary.phone if p == old_phone else p for p in phones]
                changed_contacts.append(primary)
        if "name" in changes or (contact and "phone" in contact["values"]):
            customer.name_initials, customer.search_text = search_text(
                customer.name, customer.kind == PERSON, customer.archive_no, phones, archive.former_numbers
            )
            fields.update({"name_initials", "search_text"})
        customer.version += 1
        customer.updated_at = now
        customers.append(customer)
        # Phone and ID numbers are personal data: the audit names the fields, not the values.
        writes.audit(
            "customer.updated",
            customer.pk,
            str(customer),
            changes=audit_changes,
            data={"fields": sorted(changes), "import_job": importer.job.pk, "row": row.number},
        )
        labels = "、".join(FIELD_LABELS.get(n, n) for n in changes)
        writes.event(customer.pk, "customer.updated", title % {"fields": labels}, data={"fields": sorted(changes)})
    Customer.objects.bulk_update(customers, sorted(fields), batch_size=BATCH)
    if changed_contacts:
        Contact.objects.bulk_update(changed_contacts, sorted(contact_fields), batch_size=BATCH)
    Inserter(Contact).insert(new_contacts)
    if category_sets:
        through = Customer.categories.through
        through.objects.filter(customer_id__in=list(category_sets)).delete()
        links = [{"customer_id": pk, "productcategory_id": c} for pk, ids in category_sets.items() for c in ids]
        Inserter(through).insert(links)
    if tag_sets:
        through = Customer.tags.through
        through.objects.filter(customer_id__in=list(tag_sets)).delete()
        links = [{"customer_id": pk, "tag_id": tags[n]} for pk, names in tag_sets.items() for n in names]
        Inserter(through).insert(links)
