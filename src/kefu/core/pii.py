"""Masking of phone and ID numbers (档案保密), and the audited reveal."""

from __future__ import annotations

import re

from django.db import transaction

from kefu.core import access
from kefu.core.audit import audit_record

REVEAL_PERMISSION = "core.reveal_pii"


def mask_phone(value: str | None) -> str:
    """138****5678: a mobile (or any number of 11+ digits) keeps its first 3 and last 4
    digits; a shorter number keeps its first and last 2; at least half is always hidden."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86 mobile: mask the national number
    if len(digits) >= 11:
        head, tail = 3, 4
    elif len(digits) >= 6:
        head, tail = 2, 2
    else:
        head, tail = 0, min(1, len(digits) - 1) if digits else 0
    return digits[:head] + "*" * (len(digits) - head - tail) + (digits[-tail:] if tail else "")


def mask_id_number(value: str | None) -> str:
    """Resident ID 110101********1234-style: region code and last four kept. Other
    identifiers keep their first and last 2 characters."""
    if not value:
        return ""
    value = value.strip()
    if len(value) == 18:
        return f"{value[:6]}{'*' * 8}{value[-4:]}"
    if len(value) <= 4:
        return "*" * len(value)
    return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"


def may_reveal(user) -> bool:
    return access.has_perm(user, REVEAL_PERMISSION)


def reveal(*, user, obj, field: str, value: str | None, data: dict | None = None) -> str:
    """The full `value` of `obj.field` for a user allowed to see it, recorded as a
    `<model>.<field>.revealed` audit event. Raises AccessDenied otherwise."""
    access.require(user, REVEAL_PERMISSION)
    access.require(user, f"{obj._meta.app_label}.view_{obj._meta.model_name}", obj)
    with transaction.atomic():
        audit_record(
            code=f"{obj._meta.model_name}.{field}.revealed", obj=obj, actor=user, data={"field": field, **(data or {})}
        )
    return value or ""
