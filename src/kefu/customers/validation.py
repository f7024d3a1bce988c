"""Validation of what people type into the archive: phones, ID numbers, credit codes."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc

from kefu.core.errors import ValidationFailed

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landline with area code (0xx-xxxxxxx[x]) optionally with an extension, or a 400/800 number.
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
SERVICE_NUMBER = re.compile(r"^[48]00\d{7}$")


def phone_digits(raw: str) -> str:
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def clean_phone(raw: str, *, field: str = "phone") -> str:
    """A mobile number as its 11 digits; a landline or 400/800 number as typed (029-8888
    6666转123 stays readable). Anything else is a ValidationFailed in Chinese."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    main, extension_sep, extension = raw.partition("转")
    digits = phone_digits(main)
    if MOBILE.match(digits) and not extension_sep:
        return digits
    if (LANDLINE.match(digits) or SERVICE_NUMBER.match(digits)) and (not extension_sep or extension.strip().isdigit()):
        return raw
    raise ValidationFailed(
        _("电话号码格式不正确：%(value)s（手机 11 位，座机请带区号）") % {"value": raw}, details={"field": field}
    )


def _safely_valid(module, value: str) -> bool:
    # python-stdnum raises KeyError for some retired district codes instead of saying no.
    try:
        return bool(module.is_valid(value))
    except (KeyError, ValueError, TypeError):
        return False


def clean_id_number(raw: str, *, organisation: bool, field: str = "id_number") -> str:
    """A resident ID (身份证号) for a person, a unified social credit code (统一社会信用代码)
    for an organisation; empty is allowed."""
    value = (raw or "").strip().upper().replace(" ", "")
    if not value:
        return ""
    if organisation:
        if not _safely_valid(uscc, value):
            raise ValidationFailed(_("统一社会信用代码无效：%(value)s") % {"value": value}, details={"field": field})
        return uscc.compact(value)
    if not _safely_valid(ric, value):
        raise ValidationFailed(_("身份证号码无效：%(value)s") % {"value": value}, details={"field": field})
    return ric.compact(value)
