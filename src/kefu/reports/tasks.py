"""Jobs of the reports module. The scheduled delivery runs daily from `kefu.schedule`
(periodic jobs are registered there and nowhere else); the delivery rows are the source
of truth for "already sent", so a run repeated or overlapping another sends nothing
twice."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def reports_deliver_due() -> None:
    """Deliver the reports whose period ended (see `subscriptions.deliver_due`) and log
    what happened; failures were logged one by one and are retried tomorrow."""
    from kefu.reports.subscriptions import deliver_due

    run = deliver_due()
    if run.delivered or run.failed:
        logger.info(
            "scheduled reports: %d delivered, %d already delivered, %d failed",
            len(run.delivered),
            run.already,
            len(run.failed),
        )
