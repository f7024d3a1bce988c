"""Writing the audit log. Every service that changes data calls `audit_record` inside
its own transaction, so the event and the change commit or roll back together."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from kefu.core import context
from kefu.core.errors import Conflict
from kefu.core.models import AuditEvent


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_json_value(v) for v in value]
    return str(value)


def object_label(model_or_obj) -> str:
    return model_or_obj._meta.label_lower


def audit_record(
    *,
    code: str,
    obj: models.Model | None = None,
    actor=None,
    changes: Mapping[str, tuple[Any, Any] | list[Any]] | None = None,
    data: Mapping[str, Any] | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the write it describes."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside the service's transaction")
    ctx = context.current()
    if actor is None:
        actor = ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or object_label(obj)
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    return AuditEvent.objects.create(
        actor=actor,
        actor_repr=str(actor) if actor is not None else _("系统"),
        code=code,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=str(object_repr)[:200],
        changes={k: [_json_value(v[0]), _json_value(v[1])] for k, v in (changes or {}).items()},
        data=_json_value(dict(data or {})),
        ip=ctx.ip,
        request_id=ctx.request_id,
    )


def audit_record_many(
    *,
    code: str,
    objects: Iterable[models.Model],
    actor=None,
    changes: Mapping[Any, Mapping[str, tuple[Any, Any] | list[Any]]] | None = None,
    data: Mapping[str, Any] | None = None,
) -> list[AuditEvent]:
    """One event per object in a single INSERT, filled as `audit_record` fills them (for
    bulk actions); `changes` maps each object's pk to its field changes."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record_many must be called inside the service's transaction")
    ctx = context.current()
    if actor is None:
        actor = ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    actor_repr = str(actor) if actor is not None else _("系统")
    shared_data = _json_value(dict(data or {}))
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_repr=actor_repr,
                code=code,
                object_type=object_label(obj),
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                changes={k: [_json_value(v[0]), _json_value(v[1])] for k, v in (changes or {}).get(obj.pk, {}).items()},
                data=shared_data,
                ip=ctx.ip,
                request_id=ctx.request_id,
            )
            for obj in objects
        ]
    )


def field_changes(instance: models.Model, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The (before, after) of each field in `values` that differs from `instance`."""
    changes = {}
    for name, new in values.items():
        field = instance._meta.get_field(name)
        attname = field.attname if isinstance(field, models.ForeignKey) else name
        old = getattr(instance, attname)
        new_raw = new.pk if isinstance(field, models.ForeignKey) and isinstance(new, models.Model) else new
        if old != new_raw:
            changes[name] = (old, new_raw)
    return changes


def audited_update(
    instance: models.Model,
    *,
    values: Mapping[str, Any],
    code: str,
    actor=None,
    expected_version: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Change plain and foreign-key fields of a versioned row: lock it, refuse a stale
    `expected_version`, save only what changed, bump the version and audit the diff.
    Returns the changes (empty when nothing differed: no write, no event)."""
    model = type(instance)
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=instance.pk)
        has_version = hasattr(locked, "version")
        if has_version and expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该记录已被他人修改，请刷新后重试。"))
        changes = field_changes(locked, values)
        if not changes:
            return {}
        for name in changes:
            setattr(locked, name if name in values else name, values[name])
        update_fields = list(changes)
        if has_version:
            locked.version += 1
            update_fields.append("version")
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            update_fields.append("updated_at")
        locked.save(update_fields=update_fields)
        audit_record(code=code, obj=locked, actor=actor, changes=changes, data=data)
    # The caller's instance reflects what is now stored.
    for name in update_fields:
        setattr(instance, name, getattr(locked, name))
    return changes
