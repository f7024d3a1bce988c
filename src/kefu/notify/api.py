"""Notify API: the caller's own inbox. Nobody reads or marks another user's messages
through it, whatever their role: another user's id answers 404 `not_found`."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from kefu.core.errors import NotFound
from kefu.core.pagination import keyset_page
from kefu.core.schemas import errors
from kefu.notify import selectors, services

router = Router(tags=["notify"])


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    link: str
    category: str
    created_at: datetime.datetime
    read_at: datetime.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadCountOut(Schema):
    count: int


class ReadAllOut(Schema):
    updated: int


class InboxQuery(Schema):
    unread: bool = False
    cursor: str | None = None
    limit: int = 50


def _own(request, notification_id: int):
    notification = selectors.inbox_for(request.user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound(_("消息不存在。"))
    return notification


@router.get("/notifications", response={200: NotificationPage, **errors(422)}, summary="我的消息")
def notification_list(request, query: Query[InboxQuery]):
    page = keyset_page(
        selectors.inbox_for(request.user, unread_only=query.unread),
        order=("-created_at", "-id"),
        cursor=query.cursor,
        size=min(max(query.limit, 1), 200),
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/notifications/unread-count", response={200: UnreadCountOut, **errors()}, summary="未读消息数")
def notification_unread_count(request):
    return {"count": selectors.unread_count(request.user)}


@router.post("/notifications/read-all", response={200: ReadAllOut, **errors()}, summary="全部标为已读")
def notification_read_all(request):
    return {"updated": services.notification_mark_all_read(user=request.user)}


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, **errors(404)}, summary="标为已读"
)
def notification_read(request, notification_id: int):
    return services.notification_mark_read(user=request.user, notification=_own(request, notification_id))
