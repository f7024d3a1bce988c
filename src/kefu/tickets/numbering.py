"""Ticket numbers: prefix of the kind, the day, a sequence per prefix and day
(TS-20261123-0007), unique under concurrency."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, connection, transaction

from kefu.tickets.models import TicketNumberCounter


def format_ticket_number(prefix: str, day: datetime.date, seq: int) -> str:
    return f"{prefix}-{day:%Y%m%d}-{seq:04d}"


def next_ticket_number(prefix: str, *, day: datetime.date) -> str:
    """Take the next number. Runs in the caller's transaction: the counter row stays
    locked (UPDATE … SET last_seq = last_seq + 1) until the ticket is saved, so two
    concurrent creates can never read the same sequence, and a rolled-back create
    gives its number back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket numbers must be taken inside the create's transaction")
    for _attempt in range(3):
        seq = _increment(prefix, day)
        if seq is not None:
            return format_ticket_number(prefix, day, seq)
        try:
            with transaction.atomic():  # savepoint: a lost race leaves our transaction usable
                TicketNumberCounter.objects.create(prefix=prefix, day=day, last_seq=1)
            return format_ticket_number(prefix, day, 1)
        except IntegrityError:
            continue  # somebody created today's row first: increment theirs
    raise RuntimeError("could not take a ticket number")  # pragma: no cover - three lost races in a row


def _increment(prefix: str, day: datetime.date) -> int | None:
    """Today's next sequence in one statement (both databases know RETURNING), or None
    when the day has no counter row yet."""
    table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1 WHERE prefix = %s AND day = %s RETURNING last_seq",  # noqa: S608 (our table name)
            [prefix, connection.ops.adapt_datefield_value(day)],
        )
        row = cursor.fetchone()
    return row[0] if row else None
