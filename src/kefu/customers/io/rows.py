"""One import row: the reference values it may name, how its cells are parsed and
validated (the services' own validators), the archive it matches, and what it would
change there."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.core.models import Region, User
from kefu.customers.choices import CustomerKind, FieldType
from kefu.customers.fields import _clean_value, active_fields
from kefu.customers.io.columns import (
    GENDER_VALUES,
    KIND_VALUES,
    LIFECYCLE_TEXT,
    LIFECYCLE_VALUES,
    NO_VALUES,
    OWNER_WITH_USERNAME,
    YES_VALUES,
    split_list,
    unneutralise,
)
from kefu.customers.io.lookups import one_of, select, table_by, values_of
from kefu.customers.io.reading import cell_text
from kefu.customers.models import (
    Contact,
    CreditGrade,
    Customer,
    CustomerClass,
    CustomerSource,
    ProductCategory,
)
from kefu.customers.services.customers import _clean_name
from kefu.customers.validation import clean_id_number, clean_phone, phone_digits

ORG = CustomerKind.ORGANISATION
PERSON = CustomerKind.PERSON
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


class Lookup:
    """Code → id and name → ids of one configuration table; a name two rows share is
    ambiguous and must be given by code."""

    def __init__(self, rows: Iterable[tuple[int, str, str]]):
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for pk, code, name in rows:
            self.by_code[code.strip().lower()] = pk
            self.by_name[name.strip()].append(pk)

    def find(self, text: str) -> tuple[int | None, str]:
        """(id, "") or (None, "missing" | "ambiguous")."""
        pk = self.by_code.get(text.lower())
        if pk is not None:
            return pk, ""
        ids = self.by_name.get(text, [])
        if len(ids) == 1:
            return ids[0], ""
        return None, "ambiguous" if ids else "missing"


@dataclass
class References:
    regions: Lookup
    classes: Lookup
    grades: Lookup
    sources: Lookup
    categories: Lookup
    usernames: dict[str, int]
    user_names: dict[str, list[int]]
    user_ids: dict[int, str]
    fields: dict[str, Any]  # column key "extra.<key>" → CustomField

    @classmethod
    def load(cls) -> References:
        users = list(User.objects.filter(is_active=True).values_list("pk", "username", "display_name"))
        user_names: dict[str, list[int]] = defaultdict(list)
        for pk, _username, display_name in users:
            if display_name:
                user_names[display_name.strip()].append(pk)

        def table(model):
            return Lookup(model.objects.values_list("pk", "code", "name"))

        return cls(
            regions=table(Region),
            classes=table(CustomerClass),
            grades=table(CreditGrade),
            sources=table(CustomerSource),
            categories=table(ProductCategory),
            usernames={username.lower(): pk for pk, username, _n in users},
            user_names=user_names,
            user_ids={pk: username for pk, username, _n in users},
            fields={f"extra.{f.key}": f for f in active_fields()},
        )

    def user(self, text: str) -> tuple[int | None, str]:
        match = OWNER_WITH_USERNAME.match(text)
        if match:
            pk = self.usernames.get(match["username"].lower())
            return (pk, "") if pk else (None, "missing")
        pk = self.usernames.get(text.lower())
        if pk:
            return pk, ""
        ids = self.user_names.get(text, [])
        if len(ids) == 1:
            return ids[0], ""
        return None, "ambiguous" if ids else "missing"


# --- one row --------------------------------------------------------------------------


@dataclass(eq=False)
class ImportRow:
    """One data row: what it says (only the columns it fills), its errors, and — once
    matched — the archive it updates and what it changes there."""

    number: int
    errors: list[str] = field(default_factory=list)
    archive_no: str = ""
    kind: str | None = None  # as written; None when the cell is blank
    id_kind: str | None = None  # the kind the ID number validated as
    id_raw: str = ""
    id_number: str = ""
    id_masked: bool = False
    name: str = ""
    phone: str = ""
    digits: str = ""  # the phone's digits, for matching and search
    phone_masked: bool = False
    values: dict[str, Any] = field(default_factory=dict)  # PLAIN fields + class/grade ids
    categories: list[int] | None = None
    tags: list[str] | None = None
    contact: dict[str, str] = field(default_factory=dict)  # name/wechat/email (+ phone)
    extra: dict[str, Any] = field(default_factory=dict)  # custom field key → cleaned value
    target: Archive | None = None
    action: str = ""  # create | update | skip
    changes: dict[str, Any] | None = None  # what an update changes, once computed

    @property
    def ok(self) -> bool:
        return not self.errors


class Archive:
    """An existing archive as the import compares a row with it: stored values, contacts
    (primary first), tag names and category ids, read with `.values()` (a model
    instance per matched row would cost more than all the comparing)."""

    __slots__ = ("values", "contacts", "tag_names", "category_ids", "former_numbers")

    def __init__(self, values: dict[str, Any]):
        self.values = values
        self.contacts: list[dict[str, Any]] = []
        self.tag_names: list[str] = []
        self.category_ids: list[int] = []
        self.former_numbers: list[str] = []  # of archives merged into this one (searchable)

    pk = property(lambda self: self.values["id"])
    kind = property(lambda self: self.values["kind"])
    archive_no = property(lambda self: self.values["archive_no"])
    region_id = property(lambda self: self.values["region_id"])
    owner_id = property(lambda self: self.values["owner_id"])
    extra = property(lambda self: self.values["extra"] or {})

    @property
    def primary(self) -> dict[str, Any] | None:
        return self.contacts[0] if self.contacts else None

    def __str__(self) -> str:
        return f"{self.values['name']}（{self.archive_no}）"


CUSTOMER_COLUMNS = [f.attname for f in Customer._meta.concrete_fields]
CONTACT_COLUMNS = ["id", "customer_id", "name", "role", "phone", "phone_digits", "wechat", "email", "is_primary"]
CUSTOMERS = Customer._meta.db_table
CONTACTS = Contact._meta.db_table
TAG_LINKS = Customer.tags.through._meta.db_table
TAGS = Customer.tags.field.related_model._meta.db_table
CATEGORY_LINKS = Customer.categories.through._meta.db_table


def load_archives(ids: set[int], *, lock: bool) -> dict[int, Archive]:
    """The live archives among `ids` (locked when `lock`), with their contacts, tags,
    categories and the numbers of archives merged into them: five queries for a whole
    chunk, none of them ordered by the database (a model's default ORDER BY can make a
    planner walk the whole table in that order)."""
    customers = Customer.objects.filter(pk__in=RawSQL(*values_of(ids))).order_by()  # noqa: S611 (parameters only)
    if lock:
        customers = customers.select_for_update()
    archives = {v["id"]: Archive(v) for v in customers.values(*CUSTOMER_COLUMNS) if v["merged_into_id"] is None}
    if not archives:
        return archives
    found = list(archives)
    where, params = one_of("customer_id", found)
    sql = f"SELECT {', '.join(CONTACT_COLUMNS)} FROM {CONTACTS} WHERE {where}"  # noqa: S608 (names from the models)
    contacts = [dict(zip(CONTACT_COLUMNS, values, strict=True)) for values in select(sql, params)]
    for contact in sorted(contacts, key=lambda c: (not c["is_primary"], c["id"])):
        contact["is_primary"] = bool(contact["is_primary"])  # SQLite answers 0/1
        archives[contact["customer_id"]].contacts.append(contact)
    sql = f"SELECT l.customer_id, t.name FROM {TAG_LINKS} l JOIN {TAGS} t ON t.id = l.tag_id WHERE l.{where}"  # noqa: S608
    for customer_id, name in select(sql, params):
        archives[customer_id].tag_names.append(name)
    sql = f"SELECT customer_id, productcategory_id FROM {CATEGORY_LINKS} WHERE {where}"  # noqa: S608
    for customer_id, category_id in select(sql, params):
        archives[customer_id].category_ids.append(category_id)
    where, params = one_of("merged_into_id", found)
    sql = f"SELECT id, merged_into_id, archive_no FROM {table_by(CUSTOMERS, 'merged_into_id')} WHERE {where}"  # noqa: S608
    for _pk, customer_id, number in sorted(select(sql, params)):
        archives[customer_id].former_numbers.append(number)
    return archives


def yes_no(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in YES_VALUES:
        return True
    if lowered in NO_VALUES:
        return False
    return None


def parse_date(raw: Any, text: str) -> datetime.date | None:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        # A date cell formatted as a plain number in Excel shows its serial day number.
        from openpyxl.utils.datetime import from_excel

        return from_excel(raw).date()
    match = _DATE.match(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
    if not match:
        return None
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class RowParser:
    """Turns the cells of one row into a `ImportRow`, collecting every problem it finds."""

    def __init__(self, mapping: dict[int, str], refs: References):
        self.mapping = mapping
        self.refs = refs
        self.today = timezone.localdate()
        # Translated once: gettext per cell costs more than the validation itself.
        self.labels = {
            "region_id": _("片区"),
            "customer_class_id": _("客户分类"),
            "credit_grade_id": _("信用等级"),
            "source_id": _("信息来源"),
            "categories": _("产品类别"),
            "is_key_account": _("大客户"),
            "marketing_consent": _("同意营销"),
        }

    def parse(self, number: int, values: list[Any]) -> ImportRow | None:
        raw: dict[str, Any] = {}
        text: dict[str, str] = {}
        for index, key in self.mapping.items():
            value = values[index] if index < len(values) else None
            cell = unneutralise(cell_text(value))
            if cell:
                raw[key], text[key] = value, cell
        if not text:
            return None  # an empty row
        row = ImportRow(number=number)
        err = row.errors.append
        get = text.get

        row.archive_no = get("archive_no", "")
        if kind := get("kind"):
            row.kind = KIND_VALUES.get(kind.lower())
            if row.kind is None:
                err(_("类型只能填“个人”或“单位”：%(value)s") % {"value": kind})
        try:
            row.name = _clean_name(get("name", ""))
            row.values["name"] = row.name
        except ValidationFailed as exc:
            err(exc.message)
        self._id_number(row, get("id_number", ""))
        if gender := get("gender"):
            value = GENDER_VALUES.get(gender.lower())
            if value is None:
                err(_("性别只能填“男”或“女”：%(value)s") % {"value": gender})
            row.values["gender"] = value
        if birthday := get("birthday"):
            day = parse_date(raw["birthday"], birthday)
            if day is None:
                err(_("生日格式不正确：%(value)s（应为 1990-01-31）") % {"value": birthday})
            elif day > self.today:
                err(_("生日不能晚于今天：%(value)s") % {"value": birthday})
            row.values["birthday"] = day
        if address := get("address"):
            if len(address) > 200:
                err(_("地址不能超过 200 个字。"))
            row.values["address"] = address
        self._reference(row, "region_id", get("region"), self.refs.regions)
        if owner := get("owner"):
            pk, problem = self.refs.user(owner)
            if problem == "ambiguous":
                err(_("客户经理“%(value)s”有重名，请填写账号。") % {"value": owner})
            elif problem:
                err(_("找不到客户经理：%(value)s") % {"value": owner})
            row.values["owner_id"] = pk
        self._reference(row, "customer_class_id", get("customer_class"), self.refs.classes)
        self._flag(row, "is_key_account", get("is_key_account"))
        self._reference(row, "credit_grade_id", get("credit_grade"), self.refs.grades)
        self._reference(row, "source_id", get("source"), self.refs.sources)
        if categories := get("categories"):
            row.categories = []
            for name in split_list(categories):
                pk, problem = self.refs.categories.find(name)
                if problem:
                    err(self._reference_error(self.labels["categories"], name, problem))
                else:
                    row.categories.append(pk)
        if lifecycle := get("lifecycle"):
            value = LIFECYCLE_VALUES.get(lifecycle) or LIFECYCLE_VALUES.get(lifecycle.lower())
            if value is None:
                err(
                    _("生命周期只能填：%(choices)s（不是 %(value)s）")
                    % {"choices": "、".join(LIFECYCLE_TEXT.values()), "value": lifecycle}
                )
            row.values["lifecycle"] = value
        if tags := get("tags"):
            row.tags = split_list(tags)
            for tag in row.tags:
                if len(tag) > 40:
                    err(_("标签不能超过 40 个字：%(value)s") % {"value": tag})
        self._contact(row, get)
        self._flag(row, "marketing_consent", get("marketing_consent"))
        if notes := get("notes"):
            row.values["notes"] = notes
        for key, custom in self.refs.fields.items():
            if key in text:
                self._custom(row, custom, raw[key], text[key])
        return row

    def _id_number(self, row: ImportRow, raw: str) -> None:
        if not raw:
            return
        row.id_raw = raw
        if "*" in raw:
            row.id_masked = True
            return
        # The kind decides which check applies; when the 类型 cell is blank the number
        # says it (a valid resident ID is a person, a valid credit code an organisation).
        kinds = [row.kind] if row.kind else [PERSON, ORG]
        first_error = None
        for kind in kinds:
            try:
                row.id_number = clean_id_number(raw, organisation=kind == ORG)
            except ValidationFailed as exc:
                first_error = first_error or exc.message
                continue
            row.id_kind = kind
            return
        row.errors.append(first_error)

    def _reference(self, row: ImportRow, key: str, value: str | None, lookup: Lookup) -> None:
        if not value:
            return
        pk, problem = lookup.find(value)
        if problem:
            row.errors.append(self._reference_error(self.labels[key], value, problem))
        row.values[key] = pk

    @staticmethod
    def _reference_error(label: str, value: str, problem: str) -> str:
        if problem == "ambiguous":
            return _("%(label)s“%(value)s”有重名，请填写编码。") % {"label": label, "value": value}
        return _("%(label)s不存在：%(value)s") % {"label": label, "value": value}

    def _flag(self, row: ImportRow, key: str, value: str | None) -> None:
        if not value:
            return
        flag = yes_no(value)
        if flag is None:
            row.errors.append(_("%(label)s只能填“是”或“否”：%(value)s") % {"label": self.labels[key], "value": value})
        row.values[key] = flag

    def _contact(self, row: ImportRow, get: Callable[[str], str | None]) -> None:
        if name := get("contact_name"):
            if len(name) > 60:
                row.errors.append(_("联系人不能超过 60 个字。"))
            row.contact["name"] = name
        if phone := get("phone"):
            if "*" in phone:
                row.phone_masked = True
            else:
                try:
                    row.phone = clean_phone(phone)
                    row.digits = phone_digits(row.phone)
                    row.contact["phone"] = row.phone
                except ValidationFailed as exc:
                    row.errors.append(exc.message)
        if wechat := get("wechat"):
            if len(wechat) > 60:
                row.errors.append(_("微信不能超过 60 个字。"))
            row.contact["wechat"] = wechat
        if email := get("email"):
            try:
                validate_email(email)
            except ValidationError:
                row.errors.append(_("邮箱格式不正确：%(value)s") % {"value": email})
            row.contact["email"] = email

    def _custom(self, row: ImportRow, custom, raw: Any, text: str) -> None:
        """The per-value validation of `clean_extra` (`_clean_value`); staff fields are
        looked up in the preloaded staff list instead of one query per cell."""
        if custom.field_type == FieldType.STAFF:
            pk = self.refs.usernames.get(text.lower())
            if pk is None and text.isdigit() and int(text) in self.refs.user_ids:
                pk = int(text)
            if pk is None:
                row.errors.append(_("%(label)s：找不到员工 %(value)s") % {"label": custom.label, "value": text})
                return
            row.extra[custom.key] = self.refs.user_ids[pk]
            return
        value = raw if custom.field_type in (FieldType.DATE, FieldType.NUMBER, FieldType.BOOLEAN) else text
        if isinstance(value, str):
            value = text
        try:
            row.extra[custom.key] = _clean_value(custom, value)
        except ValidationFailed as exc:
            row.errors.append(exc.message)


def row_changes(row: ImportRow, target: Archive, now) -> dict[str, Any]:
    """What the row changes on its archive: {field: (old, new)} plus the keys
    "categories", "tags", "contact", "extra". Computed once and kept on the row."""
    if row.changes is not None:
        return row.changes
    changes: dict[str, Any] = {}
    stored = target.values
    for name, new in row.values.items():
        if new is None:  # only rows with errors hold None; they are never compared
            continue
        old = stored[name]
        if old != new:
            changes[name] = (old, new)
    if row.id_number and row.id_number != stored["id_number"]:
        changes["id_number"] = (stored["id_number"], row.id_number)
    if row.categories is not None:
        before = sorted(target.category_ids)
        after = sorted(set(row.categories))
        if before != after:
            changes["categories"] = (before, after)
    if row.tags is not None:
        before_names = sorted(target.tag_names)
        after_names = sorted(set(row.tags))
        if before_names != after_names:
            changes["tags"] = (before_names, after_names)
    if row.extra:
        merged = {**target.extra, **row.extra}
        if merged != target.extra:
            changes["extra"] = (target.extra, merged)
    contact = contact_change(row, target)
    if contact:
        changes["contact"] = contact
    row.changes = changes
    return changes


def contact_change(row: ImportRow, target: Archive) -> dict[str, Any] | None:
    """{"contact": the primary contact's values | None, "values": {...}} when the row
    changes the primary contact (or adds the first one)."""
    wanted = dict(row.contact)
    if not wanted:
        return None
    if "phone" in wanted and any(c["phone_digits"] == row.digits for c in target.contacts):
        wanted.pop("phone")  # already one of the archive's numbers
    primary = target.primary
    if primary is None:
        if not (wanted.get("phone") or wanted.get("wechat") or wanted.get("email")):
            return None
        return {"contact": None, "values": wanted}
    values = {k: v for k, v in wanted.items() if primary[k] != v}
    return {"contact": primary, "values": values} if values else None
