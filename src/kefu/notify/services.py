"""Writing notifications: the in-app inbox and the email/SMS outbox.

Every creator takes an idempotency `key` (unique in its table), so a caller that runs
twice — a retried job, a double-clicked button — creates one row, not two. The outbox
row is written in the caller's transaction; the dispatch job is enqueued only after
that transaction commits, and the dispatch itself sends only a `pending` row, under a
row lock, so a job that runs twice sends once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import context
from kefu.core.audit import audit_record
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.jobs import enqueue_on_commit
from kefu.notify.gateways import GatewayResult, load_gateway
from kefu.notify.models import Channel, Notification, OutboxMessage, OutboxStatus

# One first try plus the job's retries; the last failure marks the message failed.
OUTBOX_MAX_ATTEMPTS = 4

KEY_MAX_LENGTH = Notification._meta.get_field("idempotency_key").max_length
_TITLE_MAX = Notification._meta.get_field("title").max_length
_LINK_MAX = Notification._meta.get_field("link").max_length
_CATEGORY_MAX = Notification._meta.get_field("category").max_length
_SUBJECT_MAX = OutboxMessage._meta.get_field("subject").max_length
_TO_MAX = OutboxMessage._meta.get_field("to").max_length
_GATEWAY_MAX = OutboxMessage._meta.get_field("gateway").max_length
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")
_FINAL_STATUSES = {OutboxStatus.SENT, OutboxStatus.RECORDED, OutboxStatus.FAILED}


class DeliveryDeferred(Exception):
    """The gateway failed in a way that may pass; the message stays pending and the job
    should run again (huey retries a task that raises)."""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_key(key: str, *, suffix_length: int = 0) -> None:
    if not key or not key.strip():
        raise ValidationFailed(_("缺少幂等键。"), details={"field": "key"})
    if len(key) + suffix_length > KEY_MAX_LENGTH:
        raise ValidationFailed(_("幂等键过长。"), details={"field": "key"})


def is_internal_link(link: str) -> bool:
    """Whether `link` is a path on this site (`/…`), never another host: `//evil`,
    `/\\evil`, schemes and control characters are refused."""
    if not link or not link.startswith("/") or len(link) > _LINK_MAX:
        return False
    if link.startswith(("//", "/\\")) or "\\" in link:
        return False
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in link)


def _check_notification(*, title: str, link: str) -> None:
    if not title or not title.strip():
        raise ValidationFailed(_("消息标题不能为空。"), details={"field": "title"})
    if link and not is_internal_link(link):
        raise ValidationFailed(_("消息链接必须是本系统内以 / 开头的地址。"), details={"field": "link"})


def notify_user(*, recipient, title: str, body: str = "", link: str = "", category: str = "", key: str) -> Notification:
    """Put a message in `recipient`'s inbox (the bell). Idempotent on `key`: a second
    call with the same key returns the existing message and creates nothing, also when
    two calls race (the unique constraint decides; the loser reads the winner's row).
    Not audited: the inbox is itself the record, and the business event that caused the
    message is audited by its own service."""
    _check_key(key)
    _check_notification(title=title, link=link)
    existing = Notification.objects.filter(idempotency_key=key).first()
    if existing is None:
        try:
            # A savepoint, so a lost race leaves the caller's transaction usable.
            with transaction.atomic():
                return Notification.objects.create(
                    recipient=recipient,
                    title=_clip(title.strip(), _TITLE_MAX),
                    body=body,
                    link=link,
                    category=category[:_CATEGORY_MAX],
                    idempotency_key=key,
                )
        except IntegrityError:
            existing = Notification.objects.filter(idempotency_key=key).first()
            if existing is None:
                raise
    if existing.recipient_id != recipient.pk:
        raise Conflict(_("该幂等键已用于发给其他人的消息。"), code="idempotency_key_reused", details={"key": key})
    return existing


def notify_users(
    *, recipients: Iterable, title: str, body: str = "", link: str = "", category: str = "", key: str
) -> QuerySet[Notification]:
    """The same message in several inboxes, in one bulk insert. Each recipient's key is
    `f"{key}:{user.pk}"`, so repeating the call (or adding recipients to it later)
    creates only the messages not yet there. Returns the recipients' messages (lazy)."""
    _check_notification(title=title, link=link)
    users = {user.pk: user for user in recipients}
    _check_key(key, suffix_length=1 + max((len(str(pk)) for pk in users), default=0))
    rows = [
        Notification(
            recipient=user,
            title=_clip(title.strip(), _TITLE_MAX),
            body=body,
            link=link,
            category=category[:_CATEGORY_MAX],
            idempotency_key=f"{key}:{pk}",
        )
        for pk, user in users.items()
    ]
    keys = [row.idempotency_key for row in rows]
    if rows:
        with transaction.atomic():
            Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return Notification.objects.filter(idempotency_key__in=keys)


def _check_outbox(*, channel: str, to: str, body: str) -> None:
    if channel not in Channel.values:
        raise ValidationFailed(_("不支持的发送渠道。"), details={"field": "channel", "channel": channel})
    if not body or not body.strip():
        raise ValidationFailed(_("消息内容不能为空。"), details={"field": "body"})
    if not to or len(to) > _TO_MAX:
        raise ValidationFailed(_("收件人无效。"), details={"field": "to"})
    if channel == Channel.EMAIL:
        try:
            validate_email(to)
        except DjangoValidationError as exc:
            raise ValidationFailed(_("邮箱地址无效。"), details={"field": "to"}) from exc
    elif not _PHONE_RE.match(to):
        raise ValidationFailed(_("手机号码无效。"), details={"field": "to"})


def _outbox_repr(message: OutboxMessage) -> str:
    # The address is personal data: the audit log names the message, not the recipient.
    return f"{message.get_channel_display()} #{message.pk}"


def outbox_enqueue(*, channel: str, to: str, subject: str = "", body: str, key: str) -> OutboxMessage:
    """Queue an email or SMS. The row is written in the caller's transaction and the
    dispatch job is enqueued after it commits (never if it rolls back). Idempotent on
    `key` like `notify_user`: a repeated call returns the existing row and enqueues
    nothing."""
    from kefu.notify.tasks import outbox_dispatch_task

    _check_key(key)
    to = to.strip()
    _check_outbox(channel=channel, to=to, body=body)
    with transaction.atomic():
        existing = OutboxMessage.objects.filter(idempotency_key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    message = OutboxMessage.objects.create(
                        channel=channel,
                        to=to,
                        subject=_clip(subject, _SUBJECT_MAX),
                        body=body,
                        idempotency_key=key,
                    )
            except IntegrityError:
                existing = OutboxMessage.objects.filter(idempotency_key=key).first()
                if existing is None:
                    raise
            else:
                audit_record(
                    code="outbox.queued",
                    obj=message,
                    object_repr=_outbox_repr(message),
                    data={"channel": channel, "key": key},
                )
                enqueue_on_commit(outbox_dispatch_task, message.pk)
                return message
    if existing.channel != channel or existing.to != to:
        raise Conflict(_("该幂等键已用于发给其他收件人的消息。"), code="idempotency_key_reused", details={"key": key})
    return existing


def notification_mark_read(*, user, notification: Notification) -> Notification:
    """Mark one of `user`'s own messages read (again: a no-op). Someone else's message
    reads as not found. Not audited: reading one's inbox is not a business change."""
    if notification.recipient_id != getattr(user, "pk", None):
        raise NotFound(_("消息不存在。"))
    now = timezone.now()
    with transaction.atomic():
        # The conditional UPDATE is the lock: of two concurrent clicks one writes.
        updated = Notification.objects.filter(pk=notification.pk, recipient_id=user.pk, read_at__isnull=True).update(
            read_at=now
        )
    if updated:
        notification.read_at = now
    elif notification.read_at is None:
        # Another request marked it first: show its time.
        notification.read_at = Notification.objects.filter(pk=notification.pk).values_list("read_at", flat=True).first()
    return notification


def notification_mark_all_read(*, user) -> int:
    """Mark all of `user`'s unread messages read; returns how many changed."""
    with transaction.atomic():
        return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())


def outbox_dispatch(message_id: int) -> OutboxMessage | None:
    """Deliver one outbox message through its channel's gateway, once.

    The row is locked and only a `pending` one is sent, so a job that runs twice (a
    retry, the crash sweeper) finds it done and does nothing. The outcome (status,
    gateway, error, attempts, sent_at) and an `outbox.<status>` audit event commit
    together. A gateway exception is a failure that may pass: the message stays
    pending with the error and `DeliveryDeferred` is raised after commit so the job
    retries; on the last attempt it is marked failed instead. A system event: the
    actor is the system, not whoever caused the message."""
    ctx = context.current()
    deferred = ""
    with context.acting_as(user=None, request_id=ctx.request_id), transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != OutboxStatus.PENDING:
            return message
        # A wrong setting is raised before anything is written: the message stays
        # pending, untouched, and goes out once the configuration is fixed.
        path, gateway = load_gateway(message.channel)
        message.attempts += 1
        message.gateway = path[-_GATEWAY_MAX:]
        try:
            result = gateway.send(message)
        except Exception as exc:  # noqa: BLE001 — any gateway error is a delivery failure
            error = f"{type(exc).__name__}: {exc}"
            if message.attempts < OUTBOX_MAX_ATTEMPTS:
                message.error = error
                message.save(update_fields=["attempts", "gateway", "error"])
                deferred = error
            else:
                result = GatewayResult(OutboxStatus.FAILED, error=error)
        if not deferred:
            if not isinstance(result, GatewayResult) or result.status not in _FINAL_STATUSES:
                result = GatewayResult(OutboxStatus.FAILED, error=f"invalid gateway result: {result!r}")
            message.status = result.status
            message.error = result.error
            update_fields = ["status", "error", "attempts", "gateway"]
            if result.status == OutboxStatus.SENT:
                message.sent_at = timezone.now()
                update_fields.append("sent_at")
            message.save(update_fields=update_fields)
            audit_record(
                code=f"outbox.{result.status}",
                obj=message,
                object_repr=_outbox_repr(message),
                data={"channel": message.channel, "gateway": path, "attempts": message.attempts, "error": result.error},
            )
    if deferred:
        raise DeliveryDeferred(deferred)
    return message
