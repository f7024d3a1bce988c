"""Reading the audit log."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from kefu.core import access
from kefu.core.models import AuditEvent

AUDIT_VIEW = "core.view_audit"


@dataclass
class AuditFilters:
    actor: str = ""
    code: str = ""
    object_type: str = ""
    object_id: str = ""
    request_id: str = ""
    ip: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_event_list(*, user, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """Events the user may read, newest first, narrowed by `filters`. Every filter maps
    onto an indexed column (code and object lookups are prefix/exact, not substring)."""
    qs = access.restrict(AuditEvent.objects.all(), user, AUDIT_VIEW).select_related("actor")
    f = filters or AuditFilters()
    if f.actor:
        qs = qs.filter(Q(actor__username=f.actor) | Q(actor_repr=f.actor))
    if f.code:
        qs = qs.filter(code__startswith=f.code)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.request_id:
        qs = qs.filter(request_id=f.request_id)
    if f.ip:
        qs = qs.filter(ip=f.ip)
    if f.date_from:
        qs = qs.filter(created_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(created_at__lt=_day_start(f.date_to + datetime.timedelta(days=1)))
    return qs.order_by("-created_at", "-id")


def audit_object_types(*, user) -> list[str]:
    return list(
        access.restrict(AuditEvent.objects.all(), user, AUDIT_VIEW)
        .order_by()
        .values_list("object_type", flat=True)
        .distinct()
    )
