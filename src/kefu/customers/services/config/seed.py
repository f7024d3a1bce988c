"""Seeding the archive settings an industry profile declares."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record
from kefu.core.errors import ValidationFailed
from kefu.customers.choices import FieldType
from kefu.customers.services.config.kinds import CATEGORY, CLASS, FIELD, GRADE, SOURCE, clean_values, require_manager


def archive_settings_seed(
    *,
    classes: Iterable[Mapping[str, Any]] = (),
    grades: Iterable[Mapping[str, Any]] = (),
    sources: Iterable[Mapping[str, Any]] = (),
    categories: Iterable[Mapping[str, Any]] = (),
    fields: Iterable[Mapping[str, Any]] = (),
    actor=None,
) -> dict[str, int]:
    """Create the rows a profile declares that do not exist yet (matched by code, or key
    for custom fields, ignoring case); existing rows, including what a manager changed or
    deactivated, are left alone, so re-running is safe. Each item is a mapping of the
    model's fields, e.g. `{"code": "A", "name": "A类", "visits_per_month": 1}`, or a
    dataclass with those fields (`profile_data.ClassSpec` …); without
    `sort_order` the position in the list decides. Returns how many rows of each kind
    were created. `actor=None` is the system (the profile loader)."""
    if actor is not None:
        require_manager(actor)
    created: dict[str, int] = {}
    with transaction.atomic():
        for kind, items in (
            (CLASS, classes),
            (GRADE, grades),
            (SOURCE, sources),
            (CATEGORY, categories),
            (FIELD, fields),
        ):
            count = 0
            for index, raw in enumerate(items):
                item = dataclasses.asdict(raw) if dataclasses.is_dataclass(raw) else dict(raw)
                values = {name: item[name] for name in kind.fields if name in item}
                unknown = set(item) - set(kind.fields)
                if unknown:
                    raise ValidationFailed(
                        _("不能在此修改：%(fields)s") % {"fields": "、".join(sorted(unknown))},
                        details={"kind": kind.slug, "item": index},
                    )
                code = str(values.get(kind.code_field, "")).strip()
                if code and kind.model._default_manager.filter(**{f"{kind.code_field}__iexact": code}).exists():
                    continue
                values.setdefault("sort_order", (index + 1) * 10)
                if kind is FIELD:
                    values.setdefault("field_type", FieldType.TEXT)
                kind.model._default_manager.create(**clean_values(kind, values))
                count += 1
            created[kind.slug] = count
        if any(created.values()):
            audit_record(
                code="archive_settings.seeded",
                actor=actor,
                object_type="customers.archivesettings",
                object_repr=_("客户档案配置"),
                data={"created": created},
            )
    return created
