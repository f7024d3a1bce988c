"""What the organisation services share: the one permission they check, how they
refuse, validation before anything is saved, and the rule that nobody widens their own
access (see the package docstring)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import AccessDenied, Conflict, ValidationFailed
from kefu.core.models import User

MANAGE_ORGANISATION = "core.manage_organisation"


def require_manager(actor) -> None:
    access.require(actor, MANAGE_ORGANISATION)


def refuse(message: str, field: str | None = None, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


def reject_unknown_fields(values: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise refuse(_("不能修改这些字段：%(fields)s。") % {"fields": "、".join(sorted(unknown))}, sorted(unknown)[0])


def stripped(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with surrounding blanks removed from the text ones."""
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}


def full_clean(instance, *, exclude: Iterable[str] = ()) -> None:
    """Field-level validation (lengths, choices, slug format) with the model's own
    messages, reported like every other service refusal."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        errors = exc.message_dict
        field, messages = next(iter(errors.items()))
        raise ValidationFailed(
            messages[0], details={"field": None if field == NON_FIELD_ERRORS else field, "errors": errors}
        ) from exc


def check_version(locked, expected_version: int | None) -> None:
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该记录已被他人修改，请刷新后重试。"))


def probe_with(locked, values: Mapping[str, Any]):
    """A copy of `locked` with `values` applied, for validation before anything is saved."""
    probe = copy.copy(locked)
    for name, value in values.items():
        setattr(probe, name, value)
    return probe


def own_access_refused() -> AccessDenied:
    return AccessDenied(_("不能扩大自己的权限或可见范围，请由其他管理人员操作。"))


def is_self(actor, user: User) -> bool:
    return actor is not None and actor.pk == user.pk and not actor.is_superuser
