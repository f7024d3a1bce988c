"""Every periodic job of Kefu, registered in this one place. Each calls a service that
is idempotent, so a job that runs twice (two consumers, a retry) changes nothing twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.context import acting_as


@db_periodic_task(crontab(minute="*/5"))
def outbox_redispatch():
    """Messages still pending a few minutes after they were written (a consumer that
    crashed, a gateway that was down) are sent again."""
    from kefu.notify.tasks import outbox_dispatch_pending

    with acting_as(request_id="job:outbox_redispatch"):
        outbox_dispatch_pending()


@db_periodic_task(crontab(day="1", hour="3", minute="17"))
def calendar_refresh():
    """Monthly: load holiday years that a newer chinese-calendar release now knows."""
    from kefu.core.services.calendar import calendar_seed

    with acting_as(request_id="job:calendar_refresh"):
        # missing_only: a manager's deletion of a seeded day is not undone every month.
        calendar_seed(missing_only=True)


@db_periodic_task(crontab(minute="41"))
def idempotency_purge():
    """Hourly: forget Idempotency-Key answers older than a day."""
    from kefu.core.idempotency import idempotency_purge as purge

    with acting_as(request_id="job:idempotency_purge"):
        purge()


@db_periodic_task(crontab(minute="*/5"))
def ticket_supervision():
    """Every five minutes: mark overdue tickets, warn before deadlines, escalate after them
    (exactly once per ticket, cycle and level; see tickets/services/escalation.py)."""
    from kefu.tickets.services.escalation import supervision_run

    with acting_as(request_id="job:ticket_supervision"):
        supervision_run()


@db_periodic_task(crontab(hour="2", minute="23"))
def visit_planning():
    """Daily: plan the cadence visits due in the coming week, birthdays and project
    stages; cancel what no longer applies (idempotent, see visits/services/planning.py)."""
    from kefu.visits.services.planning import plan_all

    with acting_as(request_id="job:visit_planning"):
        plan_all()


@db_periodic_task(crontab(minute="*/5"))
def customer_imports_tidy():
    """Import jobs left running by a worker that died are failed; uploaded files of
    finished imports, and of imports abandoned for a day, are deleted."""
    from kefu.customers.tasks import imports_tidy

    with acting_as(request_id="job:customer_imports_tidy"):
        imports_tidy()


@db_periodic_task(crontab(hour="3", minute="41"))
def attachment_files_sweep():
    """Daily: remove attachment files no row refers to (an upload whose transaction
    rolled back after the file was written), once they are a day old."""
    from kefu.tickets.services.attachments import attachment_files_sweep as sweep

    with acting_as(request_id="job:attachment_files_sweep"):
        sweep()


@db_periodic_task(crontab(hour="6", minute="10"))
def reports_delivery():
    """Daily at 06:10: deliver each report subscription's last finished period (last
    week, month, quarter, year) to its recipients, once (see reports/subscriptions.py)."""
    from kefu.reports.tasks import reports_deliver_due

    with acting_as(request_id="job:reports_delivery"):
        reports_deliver_due()


@db_periodic_task(crontab(minute="*/10"))
def report_rollups_fold():
    """Every 10 minutes: fold the ticket counters' delta rows, one row per key (the
    figures are the same before and after; this keeps the rows the dashboards sum few)."""
    from kefu.reports.rollup.maintain import fold

    with acting_as(request_id="job:report_rollups_fold"):
        fold()
