"""Putting the demo tickets' rows at the moments they were planned for.

Why: the demo plays a year of tickets through the services in a few seconds. The
services that take `now=` (create, route, accept, handle, reply, resolve, confirm,
reopen, pause, resume, the supervision job) write the planned moment themselves; the
others (close, withdraw, duplicate/merge, flag as important, 督办, refunds and their
approvals, extensions, comments, penalty proposals) and the inbox stamp rows with the
real clock, and `auto_now` fields (`created_at`, `updated_at`) always do. Left like that,
a ticket registered last March would read as closed today. So, in the demo module only,
the rows written during each planned move get that move's moment afterwards, with
`queryset.update` on those rows and nothing else. The audit log is left as it is: it
says truthfully when the demo was loaded (and the database refuses to change it).

How: before each move the largest id of every table below is noted; after the last
move the ids in between get the move's moment, in a few `UPDATE … CASE` statements."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from kefu.core.models import ApprovalRequest, ApprovalStep
from kefu.customers.models import TimelineEntry
from kefu.notify.models import Notification
from kefu.tickets.models import (
    DeadlineExtension,
    Escalation,
    Payout,
    PenaltyProposal,
    RefundRequest,
    Ticket,
    TicketEvent,
)

# Rows the moves insert, and their fields that hold "when it happened".
INSERTED = (
    (Ticket, ("created_at",)),
    (TicketEvent, ("at",)),
    (TimelineEntry, ("at",)),
    (Notification, ("created_at",)),
    (Escalation, ("created_at",)),
    (RefundRequest, ("requested_at",)),
    (Payout, ("created_at",)),
    (ApprovalRequest, ("created_at",)),
    (ApprovalStep, ("created_at",)),
    (DeadlineExtension, ("requested_at",)),
    (PenaltyProposal, ("created_at",)),
)
# Messages older than this were read by their recipients long ago.
READ_AFTER = datetime.timedelta(days=3)
CHUNK = 200


class DemoClock:
    def __init__(self, now: datetime.datetime):
        self.now = now  # the real moment the load started: every planned moment is before it
        self.marks: list[tuple[datetime.datetime | None, tuple[int, ...]]] = []
        tables = [connection.ops.quote_name(model._meta.db_table) for model, _fields in INSERTED]
        self._sql = "SELECT " + ", ".join(f"(SELECT COALESCE(MAX(id), 0) FROM {t})" for t in tables)  # noqa: S608

    def _ids(self) -> tuple[int, ...]:
        with connection.cursor() as cursor:
            cursor.execute(self._sql)
            return tuple(cursor.fetchone())

    def mark(self, moment: datetime.datetime | None) -> None:
        """What is inserted from here on happened at `moment` (None: the real clock)."""
        self.marks.append((moment, self._ids()))

    def real(self, queryset, *fields: str, moment: datetime.datetime) -> None:
        """`fields` of these rows that a service has just stamped with the real clock."""
        for name in fields:
            queryset.filter(**{f"{name}__gt": self.now}).update(**{name: moment})

    def apply(self) -> None:
        """Give every row inserted between two marks the first mark's moment."""
        self.mark(None)
        quote, adapt = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
        for index, (model, fields) in enumerate(INSERTED):
            # Consecutive id ranges, each with its moment: `CASE WHEN id <= hi …` in order.
            ranges = [
                (ids[index], self.marks[n + 1][1][index], moment)
                for n, (moment, ids) in enumerate(self.marks[:-1])
                if moment is not None and self.marks[n + 1][1][index] > ids[index]
            ]
            for start in range(0, len(ranges), CHUNK):
                chunk = ranges[start : start + CHUNK]
                case = "CASE " + " ".join("WHEN id <= %s THEN %s" for _r in chunk) + " END"
                params = [value for _lo, hi, at in chunk for value in (hi, adapt(at))]
                assignments = ", ".join(f"{quote(model._meta.get_field(name).column)} = {case}" for name in fields)
                with connection.cursor() as cursor:
                    cursor.execute(
                        # Names from the models; every value a parameter.
                        f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE id > %s AND id <= %s",  # noqa: S608
                        params * len(fields) + [chunk[0][0], chunk[-1][1]],
                    )

    def settle(self, ticket_ids: Sequence[int]) -> None:
        """`auto_now` stamps from the rows' own history; old messages read."""
        first, last = self.marks[0][1], self.marks[-1][1]

        def between(model):
            index = [m for m, _f in INSERTED].index(model)
            return model.objects.filter(pk__gt=first[index], pk__lte=last[index])

        latest = TicketEvent.objects.filter(ticket=OuterRef("pk")).order_by("-at", "-id").values("at")[:1]
        for start in range(0, len(ticket_ids), 500):
            Ticket.objects.filter(pk__in=ticket_ids[start : start + 500]).update(updated_at=Subquery(latest))
        for model in (ApprovalRequest, ApprovalStep):
            between(model).update(updated_at=Coalesce("decided_at", "created_at"))
        between(Notification).filter(created_at__lt=self.now - READ_AFTER, read_at__isnull=True).update(
            read_at=ExpressionWrapper(
                F("created_at") + Value(datetime.timedelta(hours=1)), output_field=DateTimeField()
            )
        )


def settle_approval_inbox(request_ids: Sequence[int], now: datetime.datetime) -> None:
    """The approvals engine tells each step's deciders and the requester after commit,
    with the real clock: put those messages at the moments the steps opened and ended."""
    if not request_ids:
        return

    def settle() -> None:
        requests = ApprovalRequest.objects.filter(pk__in=request_ids).prefetch_related("steps")
        for request in requests:
            opened = request.created_at
            for step in sorted(request.steps.all(), key=lambda s: s.order):
                _place(f"approval:{request.pk}:step:{step.order}:", opened, step.decided_at, now)
                opened = step.decided_at or opened
            if request.decided_at:
                _place(f"approval:{request.pk}:outcome", request.decided_at, request.decided_at, now)

    transaction.on_commit(settle)


def _place(key: str, at: datetime.datetime, done: datetime.datetime | None, now: datetime.datetime) -> None:
    read = done is not None and done < now - READ_AFTER
    Notification.objects.filter(idempotency_key__startswith=key, created_at__gt=now).update(
        created_at=at, read_at=(done + datetime.timedelta(hours=1)) if read else None
    )
