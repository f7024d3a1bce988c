"""Jobs of the notify module. They take ids; the outbox row's status is the source of
truth for "already sent", so running a job twice is harmless."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone
from huey.contrib.djhuey import db_task

from kefu.notify import services
from kefu.notify.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# A pending message older than this lost its job (a crash, a flushed queue): the
# job's own retries (3 × 60 s) are long over by then.
STALE_PENDING_AFTER = datetime.timedelta(minutes=10)
SWEEP_BATCH = 500


@db_task(retries=services.OUTBOX_MAX_ATTEMPTS - 1, retry_delay=60)
def outbox_dispatch_task(message_id: int) -> None:
    """Deliver one outbox message; raises (so huey retries) while the gateway fails in
    a way that may pass."""
    services.outbox_dispatch(message_id)


def outbox_dispatch_pending(*, older_than: datetime.timedelta = STALE_PENDING_AFTER, limit: int = SWEEP_BATCH) -> int:
    """Enqueue the dispatch job again for messages still pending long after they were
    queued, oldest first; returns how many. Meant to run periodically (registered in
    `kefu.schedule`). A message whose job is in fact still alive is not sent twice: the
    dispatch locks the row and sends only what is still pending."""
    cutoff = timezone.now() - older_than
    ids = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        outbox_dispatch_task(message_id)
    if ids:
        logger.info("re-enqueued %d pending outbox message(s)", len(ids))
    return len(ids)
