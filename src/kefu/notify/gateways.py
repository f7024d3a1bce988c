"""Delivery gateways for the outbox. A gateway takes one `OutboxMessage` and answers a
`GatewayResult`; the dispatch service stores it. Which gateway serves a channel is
server configuration (`KEFU_SMS_GATEWAY`, `KEFU_EMAIL_GATEWAY`, dotted paths).

The contract:
- return `GatewayResult(SENT)` when the message left the machine, `RECORDED` when the
  gateway only records it (the intranet default), `FAILED` with an error when it can
  never be delivered (a refused address): no retry;
- raise any exception for a failure that may pass (network down, server busy): the
  dispatch keeps the message pending and the job retries it.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string

from kefu.notify.models import Channel, OutboxStatus

if TYPE_CHECKING:
    from kefu.notify.models import OutboxMessage

# Which setting names the gateway of each channel.
GATEWAY_SETTINGS = {Channel.SMS: "KEFU_SMS_GATEWAY", Channel.EMAIL: "KEFU_EMAIL_GATEWAY"}

# A slow mail server must not hold the outbox row lock (and, on SQLite, the write lock)
# indefinitely: SMTP without a timeout can block forever.
DEFAULT_EMAIL_TIMEOUT = 30


@dataclass(frozen=True)
class GatewayResult:
    """What became of one message: `status` is `sent`, `recorded` or `failed`."""

    status: str
    error: str = ""


class Gateway(Protocol):
    def send(self, message: OutboxMessage) -> GatewayResult: ...


class OutboxOnlySmsGateway:
    """Records the SMS in the outbox and sends nothing: the default, since most
    installations have no SMS provider (or no internet)."""

    def send(self, message: OutboxMessage) -> GatewayResult:
        return GatewayResult(OutboxStatus.RECORDED)


class OutboxOnlyEmailGateway:
    """Records the email in the outbox and sends nothing: the default when no mail
    server is configured (`KEFU_EMAIL_HOST` unset)."""

    def send(self, message: OutboxMessage) -> GatewayResult:
        return GatewayResult(OutboxStatus.RECORDED)


class DjangoEmailGateway:
    """Sends email through Django's mail backend (SMTP from `KEFU_EMAIL_*`), from
    `DEFAULT_FROM_EMAIL`."""

    def send(self, message: OutboxMessage) -> GatewayResult:
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_EMAIL_TIMEOUT
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            # Lets the receiving side spot a duplicate if a crash after sending made us resend.
            headers={"X-Kefu-Message-Key": message.idempotency_key},
            connection=get_connection(fail_silently=False, timeout=timeout),
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            # The server refused the address itself: retrying will not help.
            return GatewayResult(OutboxStatus.FAILED, error=f"收件地址被拒绝：{exc.recipients}")
        return GatewayResult(OutboxStatus.SENT)


def gateway_path(channel: str) -> str:
    setting = GATEWAY_SETTINGS.get(channel)
    if setting is None:
        raise ImproperlyConfigured(f"no gateway setting for outbox channel {channel!r}")
    return getattr(settings, setting, "") or ""


def load_gateway(channel: str) -> tuple[str, Gateway]:
    """(dotted path, gateway instance) for `channel`, or ImproperlyConfigured naming the
    setting and the path that does not work."""
    setting = GATEWAY_SETTINGS.get(channel)
    path = gateway_path(channel)
    if not path:
        raise ImproperlyConfigured(f"{setting} is empty: set it to a gateway class's dotted path")
    try:
        gateway_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{setting}={path!r} cannot be imported: {exc}") from exc
    if not callable(getattr(gateway_class, "send", None)):
        raise ImproperlyConfigured(f"{setting}={path!r} is not a gateway: it has no send(message) method")
    return path, gateway_class()
