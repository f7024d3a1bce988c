"""Excel export of the archive list: exactly the customers the list shows for the same
query string (scope included), streamed to a temporary .xlsx in constant memory, with
phone and ID numbers masked unless the user may see them, formulas neutralised, and
every export audited with its filter and row count (档案保密)."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.pii import mask_id_number, mask_phone, may_reveal
from kefu.customers.choices import FieldType
from kefu.customers.fields import active_fields
from kefu.customers.io.columns import (
    KIND_TEXT,
    LIFECYCLE_TEXT,
    all_columns,
    join_list,
    neutralise,
    owner_text,
    yes_no,
)
from kefu.customers.models import Contact, Customer
from kefu.customers.selectors import CustomerFilters, customer_list

EXPORT = "customers.export_customer"
CHUNK_SIZE = 2000
SHEET_NAME = "客户档案"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Cell text beyond Excel's limit is cut rather than making the file unreadable.
MAX_CELL = 32767


def _export_queryset(actor, filters: CustomerFilters, order: tuple[str, ...]):
    return (
        customer_list(user=actor, filters=filters)
        .order_by(*order)
        .select_related("region", "owner", "customer_class", "credit_grade", "source")
        # With iterator(chunk_size=…) Django runs these once per chunk of rows.
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "id"), to_attr="export_contacts"),
            "tags",
            "categories",
        )
    )


def _extra_text(field, value: Any) -> str:
    if value is None:
        return ""
    if field.field_type == FieldType.BOOLEAN or isinstance(value, bool):
        return yes_no(bool(value))
    return str(value)


def customer_row(customer: Customer, fields: list, *, reveal: bool) -> list[str]:
    """One customer as the cells of its export row, in `all_columns(fields)` order."""
    contact = customer.export_contacts[0] if customer.export_contacts else None
    phone = contact.phone if contact else ""
    id_number = customer.id_number
    if not reveal:
        phone, id_number = mask_phone(phone), mask_id_number(id_number)
    cells = [
        customer.archive_no,
        KIND_TEXT.get(customer.kind, customer.kind),
        customer.name,
        id_number,
        customer.gender,
        customer.birthday.isoformat() if customer.birthday else "",
        customer.address,
        customer.region.name if customer.region else "",
        owner_text(customer.owner),
        customer.customer_class.name if customer.customer_class else "",
        yes_no(customer.is_key_account),
        customer.credit_grade.name if customer.credit_grade else "",
        customer.source.name if customer.source else "",
        join_list(c.name for c in customer.categories.all()),
        LIFECYCLE_TEXT.get(customer.lifecycle, customer.lifecycle),
        join_list(t.name for t in customer.tags.all()),
        contact.name if contact else "",
        phone,
        contact.wechat if contact else "",
        contact.email if contact else "",
        yes_no(customer.marketing_consent),
        customer.notes,
    ]
    extra = customer.extra or {}
    cells += [_extra_text(f, extra.get(f.key)) for f in fields]
    return cells


def write_header(workbook, sheet, columns) -> None:
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF2F7"})
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.header, bold)
    sheet.freeze_panes(1, 0)


def write_cells(sheet, row: int, cells: list[str]) -> None:
    """Every value as a string cell (never a number, formula or link), neutralised."""
    for index, text in enumerate(cells):
        if text:
            sheet.write_string(row, index, neutralise(str(text))[:MAX_CELL])


def _workbook(path: str):
    return xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )


def customers_export(
    *,
    actor,
    filters: CustomerFilters,
    order: tuple[str, ...] = ("-id",),
    params: Mapping[str, Any] | None = None,
) -> Path:
    """Write the customers `customer_list(user=actor, filters=filters)` selects to a new
    temporary .xlsx and return its path (the caller deletes it). Audited as
    `customer.exported` with the filters and the row count, in the same transaction as
    the read, so the count is what was written."""
    access.require(actor, EXPORT)
    reveal = may_reveal(actor)
    fields = active_fields()
    columns = all_columns(fields)
    fd, name = tempfile.mkstemp(prefix="kefu-export-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        with transaction.atomic():
            workbook = _workbook(str(path))
            sheet = workbook.add_worksheet(SHEET_NAME)
            write_header(workbook, sheet, columns)
            rows = 0
            for customer in _export_queryset(actor, filters, order).iterator(chunk_size=CHUNK_SIZE):
                rows += 1
                write_cells(sheet, rows, customer_row(customer, fields, reveal=reveal))
            workbook.close()
            audit_record(
                code="customer.exported",
                actor=actor,
                object_type="customers.customer",
                object_repr=SHEET_NAME,
                data={
                    "rows": rows,
                    "filters": _filter_summary(filters),
                    "params": dict(params or {}),
                    "order": list(order),
                    "masked": not reveal,
                    "at": timezone.now(),
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _filter_summary(filters: CustomerFilters) -> dict[str, Any]:
    """The filters that were set (empty ones left out, so the log stays readable)."""
    return {k: v for k, v in dataclasses.asdict(filters).items() if v not in ("", [], {}, None)}


def import_template_bytes() -> bytes:
    """The import template: the export's headers (custom fields included), one example
    row, and a sheet listing the values each reference column accepts."""
    import io

    from kefu.core.models import Region
    from kefu.customers.models import CreditGrade, CustomerClass, CustomerSource, ProductCategory

    fields = active_fields()
    columns = all_columns(fields)

    def first(model) -> str:
        row = model.objects.filter(is_active=True).values_list("name", flat=True).first()
        return row or ""

    example = {
        "kind": KIND_TEXT["person"],
        "name": "张三",
        "id_number": "11010519491231002X",
        "gender": "男",
        "birthday": "1949-12-31",
        "address": "北京市朝阳区建国路 1 号",
        "region": first(Region),
        "customer_class": first(CustomerClass),
        "is_key_account": yes_no(False),
        "credit_grade": first(CreditGrade),
        "source": first(CustomerSource),
        "categories": first(ProductCategory),
        "lifecycle": LIFECYCLE_TEXT["active"],
        "tags": "老客户",
        "contact_name": "张三",
        "phone": "13800138000",
        "marketing_consent": yes_no(True),
        "notes": _("示例行，导入前请删除"),
    }
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet(SHEET_NAME)
    write_header(workbook, sheet, columns)
    write_cells(sheet, 1, [example.get(c.key, "") for c in columns])

    help_sheet = workbook.add_worksheet(str(_("填写说明"))[:31])
    bold = workbook.add_format({"bold": True})
    help_sheet.set_column(0, 0, 14)
    help_sheet.set_column(1, 1, 90)
    notes = [
        ("名称", _("必填。其余列可以省略；空白单元格不会清空已有档案中的内容。")),
        ("档案编号", _("留空表示新建（系统自动编号）；填写已有档案编号则更新该档案。")),
        (
            _("重复导入"),
            _("没有档案编号时，证件号码相同、或名称与电话都相同的行会更新已有档案，不会重复建档。"),
        ),
        ("类型", _("个人 或 单位；留空时按证件号码判断，默认个人。")),
        ("证件号码", _("个人填身份证号，单位填统一社会信用代码。")),
        (_("是/否"), _("大客户、同意营销填“是”或“否”。")),
        (_("多个值"), _("产品类别、标签可填多个，用“、”分隔。")),
        ("客户经理", _("填账号、姓名，或“姓名（账号）”。")),
        ("生命周期", "、".join(LIFECYCLE_TEXT.values())),
    ]
    lists = [
        ("片区", Region),
        ("客户分类", CustomerClass),
        ("信用等级", CreditGrade),
        ("信息来源", CustomerSource),
        ("产品类别", ProductCategory),
    ]
    for label, model in lists:
        values = model.objects.filter(is_active=True).values_list("name", "code")
        notes.append((label, "、".join(f"{name}（{code}）" for name, code in values) or "—"))
    for custom in fields:
        hint = "、".join(custom.choices) if custom.choices else custom.get_field_type_display()
        required = _("（必填）") if custom.required else ""  # outside the f-string: makemessages reads it
        notes.append((custom.label, f"{hint}{required}"))
    help_sheet.write_string(0, 0, _("列"), bold)
    help_sheet.write_string(0, 1, _("说明"), bold)
    for index, (label, text) in enumerate(notes, start=1):
        help_sheet.write_string(index, 0, label)
        help_sheet.write_string(index, 1, neutralise(str(text)))
    workbook.close()
    return buffer.getvalue()
