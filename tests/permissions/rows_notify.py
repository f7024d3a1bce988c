"""Rows for the inbox, the outbox log and the notify API. The inbox is personal: every
role has one, and another user's message is not found for every role."""

from django.urls import reverse

from tests.factories_notify import NotificationFactory
from tests.permissions.matrix import EVERY_ROLE, Row, roles


def _someone_elses(world):
    owner = world.make_user("agent", username="matrix-notify-owner")
    return NotificationFactory(recipient=owner, link="/")


NOBODY = frozenset()

ROWS = [
    Row("notify-inbox", lambda w: reverse("notify:inbox"), EVERY_ROLE),
    Row("notify-read-all", lambda w: reverse("notify:read_all"), EVERY_ROLE, method="post", data=lambda w: {}),
    Row(
        "notify-read-other",
        lambda w: reverse("notify:read", args=[_someone_elses(w).pk]),
        NOBODY,
        method="post",
        data=lambda w: {},
        denied_status=(404,),
    ),
    Row(
        "notify-open-other", lambda w: reverse("notify:open", args=[_someone_elses(w).pk]), NOBODY, denied_status=(404,)
    ),
    # Needs `notify.view_outbox` granted to manager and admin (see kefu.notify.menu).
    Row("notify-outbox", lambda w: reverse("notify:outbox"), roles("manager", "admin")),
    Row("api-notifications", lambda w: "/api/v1/notifications", EVERY_ROLE, api=True),
    Row("api-notifications-unread-count", lambda w: "/api/v1/notifications/unread-count", EVERY_ROLE, api=True),
    Row(
        "api-notifications-read-all",
        lambda w: "/api/v1/notifications/read-all",
        EVERY_ROLE,
        method="post",
        api=True,
        data=lambda w: {},
    ),
    Row(
        "api-notification-read-other",
        lambda w: f"/api/v1/notifications/{_someone_elses(w).pk}/read",
        NOBODY,
        method="post",
        api=True,
        data=lambda w: {},
        denied_status=(404,),
    ),
]
