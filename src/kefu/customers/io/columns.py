"""The file layout of the archive's Excel export and import: one definition of the
Chinese column headers and of how values are written, shared by both directions, so an
exported file (edited or not) imports back onto the same archives.

The headers are a file format, not interface text: they stay Chinese whatever the
interface language, or a file exported in English could not be imported in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.customers.choices import CustomerKind, Lifecycle


@dataclass(frozen=True)
class Column:
    key: str  # the value's name in an import row; custom fields are "extra.<key>"
    header: str
    width: int = 12


COLUMNS: tuple[Column, ...] = (
    Column("archive_no", "档案编号", 18),
    Column("kind", "类型", 6),
    Column("name", "名称", 20),
    Column("id_number", "证件号码", 22),
    Column("gender", "性别", 6),
    Column("birthday", "生日", 12),
    Column("address", "地址", 30),
    Column("region", "片区", 10),
    Column("owner", "客户经理", 16),
    Column("customer_class", "客户分类", 10),
    Column("is_key_account", "大客户", 8),
    Column("credit_grade", "信用等级", 10),
    Column("source", "信息来源", 12),
    Column("categories", "产品类别", 20),
    Column("lifecycle", "生命周期", 8),
    Column("tags", "标签", 20),
    Column("contact_name", "联系人", 10),
    Column("phone", "手机/电话", 16),
    Column("wechat", "微信", 14),
    Column("email", "邮箱", 22),
    Column("marketing_consent", "同意营销", 8),
    Column("notes", "备注", 30),
)
BY_HEADER = {c.header: c for c in COLUMNS}
# Headers people commonly type in a sheet they made themselves.
ALIASES = {
    "客户名称": "名称",
    "姓名": "名称",
    "单位名称": "名称",
    "客户类型": "类型",
    "身份证号": "证件号码",
    "身份证号码": "证件号码",
    "统一社会信用代码": "证件号码",
    "手机": "手机/电话",
    "电话": "手机/电话",
    "手机号": "手机/电话",
    "联系电话": "手机/电话",
    "分类": "客户分类",
    "来源": "信息来源",
}
REQUIRED = ("名称",)

LIST_SEPARATOR = "、"
LIST_SPLIT = re.compile(r"[、,，;；/\n]+")
YES, NO = "是", "否"
YES_VALUES = {"是", "y", "yes", "true", "1", "√", "✓"}
NO_VALUES = {"否", "n", "no", "false", "0", "×", "✗"}

# Values of choice fields as the file writes them, and what the import accepts for them
# (the Chinese label, the code, a few common synonyms).
KIND_TEXT = {CustomerKind.PERSON: "个人", CustomerKind.ORGANISATION: "单位"}
KIND_VALUES = {
    "个人": CustomerKind.PERSON,
    "person": CustomerKind.PERSON,
    "单位": CustomerKind.ORGANISATION,
    "企业": CustomerKind.ORGANISATION,
    "公司": CustomerKind.ORGANISATION,
    "organisation": CustomerKind.ORGANISATION,
    "organization": CustomerKind.ORGANISATION,
}
LIFECYCLE_TEXT = {Lifecycle.POTENTIAL: "潜在", Lifecycle.ACTIVE: "活跃", Lifecycle.LOST: "流失"}
LIFECYCLE_VALUES = {
    **{text: value for value, text in LIFECYCLE_TEXT.items()},
    **{str(value): value for value in Lifecycle.values},
    "潜在客户": Lifecycle.POTENTIAL,
    "活跃客户": Lifecycle.ACTIVE,
    "流失客户": Lifecycle.LOST,
}
GENDER_VALUES = {"男": "男", "女": "女", "m": "男", "f": "女", "male": "男", "female": "女"}

# A cell starting with one of these is a formula (or becomes one when the file is
# opened as CSV); the export writes it as text prefixed with an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def custom_columns(fields: Iterable) -> list[Column]:
    """One column per active custom field, headed by its label."""
    return [Column(f"extra.{f.key}", f.label, 14) for f in fields if f.label not in BY_HEADER]


def all_columns(custom_fields: Iterable) -> list[Column]:
    return [*COLUMNS, *custom_columns(custom_fields)]


def yes_no(value: bool) -> str:
    return YES if value else NO


def owner_text(user) -> str:
    """客户经理 as written: 姓名（账号）, readable and still unambiguous when two members
    of staff share a name."""
    if user is None:
        return ""
    if user.display_name and user.display_name != user.username:
        return f"{user.display_name}（{user.username}）"
    return user.username


OWNER_WITH_USERNAME = re.compile(r"^(?P<name>.*?)\s*[（(]\s*(?P<username>[^（）()]+?)\s*[)）]$")


def join_list(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(v for v in values if v)


def split_list(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for part in LIST_SPLIT.split(text or ""):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


def neutralise(text: str) -> str:
    """A cell value that cannot run as a formula in Excel, WPS or a CSV viewer."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unneutralise(text: str) -> str:
    """Undo `neutralise` on import, so a value survives export → import unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def header_key(text: str) -> str:
    return "".join(str(text or "").split())


def resolve_headers(header: Sequence, custom_fields: Iterable) -> dict[int, str]:
    """{cell index: column key} for a file's header row. Refuses, naming them, headers it
    does not know, headers given twice and required headers that are missing."""
    columns = {c.header: c for c in all_columns(custom_fields)}
    known = {header_key(h): c for h, c in columns.items()}
    aliases = {header_key(a): known[header_key(h)] for a, h in ALIASES.items()}
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    duplicated: list[str] = []
    for index, raw in enumerate(header):
        text = header_key(raw)
        if not text:
            continue
        column = known.get(text) or aliases.get(text)
        if column is None:
            unknown.append(str(raw).strip())
            continue
        if column.key in seen:
            duplicated.append(str(raw).strip())
            continue
        seen[column.key] = text
        mapping[index] = column.key
    missing = [h for h in REQUIRED if BY_HEADER[h].key not in seen]
    problems = []
    if missing:
        problems.append(_("缺少必需的列：%(columns)s") % {"columns": "、".join(missing)})
    if unknown:
        problems.append(_("无法识别的列：%(columns)s") % {"columns": "、".join(unknown)})
    if duplicated:
        problems.append(_("重复的列：%(columns)s") % {"columns": "、".join(duplicated)})
    if problems:
        expected = "、".join(c.header for c in all_columns(custom_fields))
        raise ValidationFailed(
            "；".join(problems) + "。" + _("可用的列：%(columns)s") % {"columns": expected},
            code="import_bad_headers",
            details={"missing": missing, "unknown": unknown, "duplicated": duplicated},
        )
    return mapping
