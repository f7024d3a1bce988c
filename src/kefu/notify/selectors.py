"""Reading notifications. The inbox is personal: every user sees only their own
messages, whatever their role. The outbox is for those granted `notify.view_outbox`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from kefu.core import access
from kefu.notify.models import Notification, OutboxMessage

OUTBOX_VIEW = "notify.view_outbox"


def inbox_for(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """`user`'s own messages, newest first (nothing for an anonymous visitor)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(user) -> int:
    """How many of `user`'s messages are unread: one COUNT on the (recipient, read_at)
    index."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


@dataclass
class OutboxFilters:
    channel: str = ""
    status: str = ""
    to: str = ""


def outbox_list(user, filters: OutboxFilters | None = None) -> QuerySet[OutboxMessage]:
    """Outbox messages `user` may read, newest first, narrowed by `filters` (`to` is an
    exact address, so the lookup stays cheap and nobody browses by fragment)."""
    qs = access.restrict(OutboxMessage.objects.all(), user, OUTBOX_VIEW)
    f = filters or OutboxFilters()
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.to:
        qs = qs.filter(to=f.to.strip())
    return qs.order_by("-created_at", "-id")
