"""What every module's configuration services share: the checks of names and numbers
with their Chinese messages, the row lock with its stale-form check, and the audited
save. Configuration rows carry no version; their `updated_at` when the form was opened
is the stamp (see `kefu.core.forms.StampedForm`)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _

from kefu.core.audit import audited_update
from kefu.core.errors import Conflict, NotFound, ValidationFailed

# The widest number a configuration field takes unless its model says less: one year
# of minutes (deadlines, reminders, durations are the numbers configured most).
MAX_MINUTES = 60 * 24 * 365


def invalid(message: str, field: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field} if field else None)


def label_of(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def only_fields(values: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise invalid(_("不能在此修改：%(fields)s") % {"fields": "、".join(sorted(unknown))})


def clean_name(model, name: str, value: Any, *, limit: int | None = None) -> str:
    text = " ".join(str(value or "").split())
    label = label_of(model, name)
    if not text:
        raise invalid(_("请填写%(label)s。") % {"label": label}, name)
    limit = limit or model._meta.get_field(name).max_length
    if len(text) > limit:
        raise invalid(_("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": limit}, name)
    return text


def _bounds(model, name: str) -> tuple[int, int]:
    """1 … MAX_MINUTES, narrowed by the model field's own limits (the database range
    validators Django adds are wider and change nothing)."""
    low, high = 1, MAX_MINUTES
    for validator in model._meta.get_field(name).validators:
        if isinstance(validator, MinValueValidator):
            low = max(low, validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            high = min(high, validator.limit_value)
    return low, high


def clean_int(model, name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    label = label_of(model, name)
    default_low, default_high = _bounds(model, name)
    low = default_low if low is None else low
    high = default_high if high is None else high
    try:
        number = int(value)
        exact = not isinstance(value, bool) and float(value) == number
    except (TypeError, ValueError, OverflowError):
        exact = False
    if not exact:
        raise invalid(_("%(label)s必须是整数。") % {"label": label}, name)
    if not low <= number <= high:
        raise invalid(_("%(label)s应在 %(low)s 到 %(high)s 之间。") % {"label": label, "low": low, "high": high}, name)
    return number


def lock_row(obj: models.Model, expected_updated_at: datetime.datetime | None) -> Any:
    """`obj`'s row locked; refused when somebody saved it since the form was opened."""
    locked = type(obj)._default_manager.select_for_update().filter(pk=obj.pk).first()
    if locked is None:
        raise NotFound(_("该配置不存在。"))
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise Conflict(_("该配置已被他人修改，请刷新后重试。"))
    return locked


def save_row(obj: models.Model, locked: models.Model, values: Mapping[str, Any], *, code: str, actor) -> dict:
    """`values` saved on the locked row with an audit event; `obj` (the caller's copy)
    takes what changed and the new stamp."""
    changes = audited_update(locked, values=values, code=code, actor=actor)
    for name in [*changes, "updated_at"]:
        setattr(obj, name, getattr(locked, name))
    return changes
