"""Factories for notifications and outbox messages, and test gateways."""

import factory

from kefu.notify.gateways import GatewayResult
from kefu.notify.models import Channel, Notification, OutboxMessage, OutboxStatus
from tests.factories import UserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"消息{n}")
    body = "请及时处理。"
    link = "/"
    category = "ticket"
    idempotency_key = factory.Sequence(lambda n: f"test-notification-{n}")


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    channel = Channel.SMS
    to = factory.Sequence(lambda n: f"138{n:08d}")
    subject = ""
    body = "您的工单已受理。"
    status = OutboxStatus.PENDING
    idempotency_key = factory.Sequence(lambda n: f"test-outbox-{n}")


class RecordingGateway:
    """Sends nothing; remembers what it was asked to send (class-level, because the
    dispatch instantiates the gateway from its dotted path)."""

    sent: list[int] = []

    def send(self, message):
        RecordingGateway.sent.append(message.pk)
        return GatewayResult(OutboxStatus.SENT)


class FlakyGateway:
    """Raises for the first `failures` calls, then sends."""

    failures = 1
    calls = 0

    def send(self, message):
        FlakyGateway.calls += 1
        if FlakyGateway.calls <= FlakyGateway.failures:
            raise ConnectionError("短信平台连接超时")
        return GatewayResult(OutboxStatus.SENT)


class RefusingGateway:
    """A permanent refusal: the message can never be delivered."""

    def send(self, message):
        return GatewayResult(OutboxStatus.FAILED, error="号码已停机")


class BrokenGateway:
    """Answers something that is not a GatewayResult."""

    def send(self, message):
        return "ok"
