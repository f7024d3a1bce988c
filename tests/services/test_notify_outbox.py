"""The outbox: idempotent enqueue after commit, dispatch exactly once, gateways,
failures and retries, the crash sweeper."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from kefu.core.context import acting_as
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.notify import checks, services, tasks
from kefu.notify.gateways import DjangoEmailGateway, load_gateway
from kefu.notify.models import OutboxMessage, OutboxStatus
from tests.factories_notify import FlakyGateway, OutboxMessageFactory, RecordingGateway

RECORDING = "tests.factories_notify.RecordingGateway"
FLAKY = "tests.factories_notify.FlakyGateway"
REFUSING = "tests.factories_notify.RefusingGateway"
BROKEN = "tests.factories_notify.BrokenGateway"


@pytest.fixture(autouse=True)
def _clean_gateways_and_queue():
    RecordingGateway.sent = []
    FlakyGateway.calls = 0
    FlakyGateway.failures = 1
    HUEY.flush()
    yield
    HUEY.flush()


def _enqueue_sms(key="sms:1", to="13800001111", body="您的工单已受理。", **kwargs):
    return services.outbox_enqueue(channel="sms", to=to, body=body, key=key, **kwargs)


def _run_retry() -> bool:
    """Run the retry huey scheduled, as the consumer would once its delay is over."""
    scheduled = HUEY.scheduled()
    if not scheduled:
        return False
    assert len(scheduled) == 1
    HUEY.flush()
    HUEY.execute(scheduled[0], timestamp=scheduled[0].eta)
    return True


def _codes(prefix="outbox."):
    return list(AuditEvent.objects.filter(code__startswith=prefix).order_by("id").values_list("code", flat=True))


# enqueue -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_writes_a_pending_row_and_dispatches_after_commit(settings, django_capture_on_commit_callbacks):
    settings.KEFU_SMS_GATEWAY = RECORDING

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = _enqueue_sms()
        assert RecordingGateway.sent == [], "nothing is sent before the commit"
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.PENDING
    assert len(callbacks) == 1

    callbacks[0]()

    message.refresh_from_db()
    assert RecordingGateway.sent == [message.pk]
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1
    assert message.gateway == RECORDING
    assert message.sent_at is not None
    assert _codes() == ["outbox.queued", "outbox.sent"]


@pytest.mark.django_db
def test_enqueue_twice_with_the_same_key_creates_and_sends_once(settings, django_capture_on_commit_callbacks):
    settings.KEFU_SMS_GATEWAY = RECORDING

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = _enqueue_sms(key="visit:7:reminder")
        second = _enqueue_sms(key="visit:7:reminder", body="另一段内容")

    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    assert RecordingGateway.sent == [first.pk]
    assert _codes() == ["outbox.queued", "outbox.sent"]


@pytest.mark.django_db
def test_enqueue_losing_an_insert_race_returns_the_winner_and_enqueues_nothing(
    monkeypatch, django_capture_on_commit_callbacks
):
    winner = OutboxMessageFactory(idempotency_key="race:sms", to="13800001111")
    real_filter = OutboxMessage.objects.filter
    calls = {"n": 0}

    def filter_(*args, **kwargs):
        calls["n"] += 1
        return OutboxMessage.objects.none() if calls["n"] == 1 else real_filter(*args, **kwargs)

    monkeypatch.setattr(OutboxMessage.objects, "filter", filter_)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = _enqueue_sms(key="race:sms", to="13800001111")

    assert result.pk == winner.pk
    assert OutboxMessage.objects.count() == 1
    assert callbacks == []
    assert _codes() == []


@pytest.mark.django_db
def test_enqueue_key_reused_for_another_address_is_refused(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _enqueue_sms(key="k", to="13800001111")

    with pytest.raises(Conflict):
        _enqueue_sms(key="k", to="13900002222")

    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"channel": "fax", "to": "13800001111", "body": "x", "key": "k"},
        {"channel": "sms", "to": "not a phone", "body": "x", "key": "k"},
        {"channel": "sms", "to": "", "body": "x", "key": "k"},
        {"channel": "email", "to": "nobody-at-example", "body": "x", "key": "k"},
        {"channel": "email", "to": "a@example.com", "body": "  ", "key": "k"},
        {"channel": "email", "to": "a@example.com", "body": "x", "key": ""},
    ],
)
def test_enqueue_refuses_bad_input_and_writes_nothing(fields, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(ValidationFailed):
        services.outbox_enqueue(**fields)

    assert not OutboxMessage.objects.exists()
    assert callbacks == []
    assert _codes() == []


@pytest.mark.django_db
def test_enqueue_audit_event_does_not_carry_the_address(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue_sms(to="13800001111")

    for event in AuditEvent.objects.all():
        assert "13800001111" not in f"{event.object_repr} {event.data} {event.changes}"
    assert AuditEvent.objects.filter(code="outbox.queued", object_id=str(message.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_enqueue_in_a_transaction_that_rolls_back_creates_and_sends_nothing(settings):
    settings.KEFU_SMS_GATEWAY = RECORDING

    with pytest.raises(RuntimeError), transaction.atomic():
        _enqueue_sms(key="rollback")
        raise RuntimeError("the business write failed")

    assert not OutboxMessage.objects.exists()
    assert RecordingGateway.sent == []
    assert not AuditEvent.objects.exists()
    assert HUEY.pending_count() == 0 and HUEY.scheduled_count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_in_a_committed_transaction_sends_after_commit(settings):
    settings.KEFU_SMS_GATEWAY = RECORDING

    with transaction.atomic():
        message = _enqueue_sms(key="commit")
        assert RecordingGateway.sent == []

    assert RecordingGateway.sent == [message.pk]
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT


# dispatch ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_that_runs_twice_sends_once(settings, django_capture_on_commit_callbacks):
    settings.KEFU_SMS_GATEWAY = RECORDING
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue_sms()

    tasks.outbox_dispatch_task(message.pk)
    services.outbox_dispatch(message.pk)

    message.refresh_from_db()
    assert RecordingGateway.sent == [message.pk]
    assert message.attempts == 1
    assert _codes() == ["outbox.queued", "outbox.sent"]


@pytest.mark.django_db
def test_dispatch_of_a_missing_message_does_nothing():
    assert services.outbox_dispatch(987654) is None
    assert _codes() == []


@pytest.mark.django_db
def test_default_gateways_record_and_send_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sms = _enqueue_sms()
        email = services.outbox_enqueue(channel="email", to="a@example.com", subject="通知", body="内容", key="e:1")

    for message in (sms, email):
        message.refresh_from_db()
        assert message.status == OutboxStatus.RECORDED
        assert message.sent_at is None
    assert sms.gateway == "kefu.notify.gateways.OutboxOnlySmsGateway"
    assert email.gateway == "kefu.notify.gateways.OutboxOnlyEmailGateway"
    assert mail.outbox == []
    assert _codes() == ["outbox.queued", "outbox.queued", "outbox.recorded", "outbox.recorded"]


@pytest.mark.django_db
def test_dispatch_is_a_system_event_whoever_caused_it(manager, settings, django_capture_on_commit_callbacks):
    settings.KEFU_SMS_GATEWAY = RECORDING

    with acting_as(user=manager, request_id="req-1"), django_capture_on_commit_callbacks(execute=True):
        _enqueue_sms()

    queued = AuditEvent.objects.get(code="outbox.queued")
    sent = AuditEvent.objects.get(code="outbox.sent")
    assert queued.actor == manager
    assert sent.actor is None
    assert sent.request_id == "req-1"


@pytest.mark.django_db
def test_django_email_gateway_sends_through_the_mail_backend(settings, django_capture_on_commit_callbacks):
    settings.KEFU_EMAIL_GATEWAY = "kefu.notify.gateways.DjangoEmailGateway"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "kefu@example.com"

    with django_capture_on_commit_callbacks(execute=True):
        message = services.outbox_enqueue(
            channel="email", to="customer@example.com", subject="回访提醒", body="请于明天回访。", key="mail:1"
        )

    message.refresh_from_db()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["customer@example.com"]
    assert sent.subject == "回访提醒"
    assert sent.body == "请于明天回访。"
    assert sent.from_email == "kefu@example.com"
    assert sent.extra_headers["X-Kefu-Message-Key"] == "mail:1"
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None
    assert message.gateway == "kefu.notify.gateways.DjangoEmailGateway"


@pytest.mark.django_db
def test_django_email_gateway_refused_address_fails_without_retry(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.KEFU_EMAIL_GATEWAY = "kefu.notify.gateways.DjangoEmailGateway"

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        message = services.outbox_enqueue(channel="email", to="x@example.com", body="内容", key="mail:2")

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert "x@example.com" in message.error
    assert HUEY.scheduled_count() == 0
    assert _codes() == ["outbox.queued", "outbox.failed"]


@pytest.mark.django_db
def test_django_email_gateway_connection_error_is_retried(settings, monkeypatch):
    settings.KEFU_EMAIL_GATEWAY = "kefu.notify.gateways.DjangoEmailGateway"

    def down(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", down)
    message = OutboxMessageFactory(channel="email", to="x@example.com")

    with pytest.raises(services.DeliveryDeferred):
        services.outbox_dispatch(message.pk)

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert "mail server down" in message.error


def test_django_email_gateway_uses_a_timeout(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seen = {}
    real = __import__("django.core.mail", fromlist=["get_connection"]).get_connection

    def get_connection(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr("kefu.notify.gateways.get_connection", get_connection)

    DjangoEmailGateway().send(OutboxMessageFactory.build(channel="email", to="a@example.com"))

    assert seen["timeout"] > 0


@pytest.mark.django_db
def test_permanent_gateway_refusal_marks_failed_at_once(settings, django_capture_on_commit_callbacks):
    settings.KEFU_SMS_GATEWAY = REFUSING

    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue_sms()

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.error == "号码已停机"
    assert message.attempts == 1
    assert message.sent_at is None
    assert HUEY.scheduled_count() == 0
    event = AuditEvent.objects.get(code="outbox.failed")
    assert event.data["error"] == "号码已停机"


@pytest.mark.django_db
def test_transient_failure_keeps_the_message_pending_and_the_retry_sends_it(
    settings, django_capture_on_commit_callbacks
):
    settings.KEFU_SMS_GATEWAY = FLAKY
    FlakyGateway.failures = 1

    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue_sms()

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert "短信平台连接超时" in message.error
    assert _codes() == ["outbox.queued"]
    retries = HUEY.scheduled()
    assert len(retries) == 1, "huey scheduled the retry"
    assert retries[0].retries == 2, "two more retries remain"

    _run_retry()

    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 2
    assert message.error == ""
    assert _codes() == ["outbox.queued", "outbox.sent"]


@pytest.mark.django_db
def test_a_gateway_that_keeps_failing_is_marked_failed_after_the_last_retry(
    settings, django_capture_on_commit_callbacks
):
    settings.KEFU_SMS_GATEWAY = FLAKY
    FlakyGateway.failures = 100

    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue_sms()
    for _ in range(10):
        if not _run_retry():
            break

    message.refresh_from_db()
    assert FlakyGateway.calls == services.OUTBOX_MAX_ATTEMPTS == 4
    assert message.attempts == 4
    assert message.status == OutboxStatus.FAILED
    assert "ConnectionError" in message.error
    assert HUEY.scheduled_count() == 0
    assert _codes() == ["outbox.queued", "outbox.failed"]


@pytest.mark.django_db
def test_a_gateway_answering_nonsense_marks_failed(settings):
    settings.KEFU_SMS_GATEWAY = BROKEN
    message = OutboxMessageFactory()

    services.outbox_dispatch(message.pk)

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert "invalid gateway result" in message.error


@pytest.mark.django_db
@pytest.mark.parametrize("status", [OutboxStatus.SENT, OutboxStatus.RECORDED, OutboxStatus.FAILED])
def test_dispatch_leaves_a_finished_message_alone(settings, status):
    settings.KEFU_SMS_GATEWAY = RECORDING
    message = OutboxMessageFactory(status=status, attempts=1)

    services.outbox_dispatch(message.pk)

    message.refresh_from_db()
    assert message.status == status
    assert message.attempts == 1
    assert RecordingGateway.sent == []
    assert _codes() == []


# configuration -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["kefu.notify.gateways.NoSuchGateway", "no.such.module.Gateway", "nodots", ""])
def test_a_wrong_gateway_path_is_a_clear_error(settings, path):
    settings.KEFU_SMS_GATEWAY = path

    with pytest.raises(ImproperlyConfigured, match="KEFU_SMS_GATEWAY"):
        load_gateway("sms")
    assert [e.id for e in checks.gateways_importable()] == ["notify.E001"]


def test_a_class_without_send_is_not_a_gateway(settings):
    settings.KEFU_EMAIL_GATEWAY = "kefu.notify.models.Channel"

    with pytest.raises(ImproperlyConfigured, match="no send"):
        load_gateway("email")


def test_the_default_configuration_passes_the_check():
    assert checks.gateways_importable() == []


@pytest.mark.django_db
def test_dispatch_with_a_wrong_gateway_path_leaves_the_message_untouched(settings):
    settings.KEFU_SMS_GATEWAY = "no.such.Gateway"
    message = OutboxMessageFactory()

    with pytest.raises(ImproperlyConfigured):
        services.outbox_dispatch(message.pk)

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 0
    assert _codes() == []


# the crash sweeper -------------------------------------------------------------------


@pytest.mark.django_db
def test_dispatch_pending_resends_only_stale_pending_messages(settings):
    settings.KEFU_SMS_GATEWAY = RECORDING
    stale = OutboxMessageFactory()
    fresh = OutboxMessageFactory()
    done = OutboxMessageFactory(status=OutboxStatus.SENT)
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    OutboxMessage.objects.filter(pk__in=[stale.pk, done.pk]).update(created_at=an_hour_ago)

    count = tasks.outbox_dispatch_pending()

    assert count == 1
    assert RecordingGateway.sent == [stale.pk]
    assert OutboxMessage.objects.get(pk=stale.pk).status == OutboxStatus.SENT
    assert OutboxMessage.objects.get(pk=fresh.pk).status == OutboxStatus.PENDING
    assert OutboxMessage.objects.get(pk=done.pk).attempts == 0


@pytest.mark.django_db
def test_dispatch_pending_twice_still_sends_once(settings):
    settings.KEFU_SMS_GATEWAY = RECORDING
    stale = OutboxMessageFactory()
    OutboxMessage.objects.filter(pk=stale.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))

    tasks.outbox_dispatch_pending()
    second = tasks.outbox_dispatch_pending()

    assert second == 0
    assert RecordingGateway.sent == [stale.pk]
