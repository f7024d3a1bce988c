"""The customer timeline: one chronological view of everything about a customer, fed by
every module through `timeline_add` inside the transaction of its own write."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from kefu.customers.models import Customer, TimelineEntry


def timeline_add(
    *,
    customer: Customer,
    kind: str,
    title: str,
    body: str = "",
    actor=None,
    ref: models.Model | None = None,
    data: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> TimelineEntry:
    """Append an entry (`kind` is a dotted code like `customer.class_changed`,
    `ticket.resolved`; `ref` the object it is about)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("timeline_add must run inside the write's transaction")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return TimelineEntry.objects.create(
        customer=customer,
        kind=kind,
        title=title[:200],
        body=body,
        actor=actor,
        ref_type=ref._meta.label_lower if ref is not None else "",
        ref_id=str(ref.pk) if ref is not None else "",
        data=data or {},
        at=at or timezone.now(),
    )
