"""Archive numbers (档案编号) from the configured pattern, e.g. KH-2026-000123."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.customers.models import ArchiveNumbering, Customer


def format_archive_no(pattern: str, *, year: int, seq: int) -> str:
    try:
        return pattern.format(year=year, seq=seq)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationFailed(
            _("档案编号规则无效：%(pattern)s（可用 {year} 与 {seq:06d}）") % {"pattern": pattern},
            details={"field": "pattern"},
        ) from exc


def take_archive_numbers(count: int, *, today: datetime.date | None = None) -> list[str]:
    """`count` new archive numbers taken under the numbering row's lock, in one block.
    Runs inside the caller's transaction, so a create that rolls back gives its numbers
    back — no number is ever held by two archives, and a number given to an archive is
    never given again (archives are never deleted, merged ones keep theirs)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("archive numbers must be taken inside the create's transaction")
    if count <= 0:
        return []
    today = today or timezone.localdate()
    numbering = ArchiveNumbering.objects.select_for_update().order_by("pk").first()
    if numbering is None:  # normally created by the migration
        numbering = ArchiveNumbering.objects.create()
    period = str(today.year) if "{year" in numbering.pattern else ""
    if numbering.period != period:
        numbering.period, numbering.last_seq = period, 0
    numbers: list[str] = []
    while len(numbers) < count:
        wanted = count - len(numbers)
        batch = [
            format_archive_no(numbering.pattern, year=today.year, seq=numbering.last_seq + i)
            for i in range(1, wanted + 1)
        ]
        numbering.last_seq += wanted
        # A pattern changed back to an earlier one must not hand out a number again.
        # No ORDER BY (the model's "-id"): with it the planner may walk the whole table by id.
        taken = set(Customer.objects.filter(archive_no__in=batch).order_by().values_list("archive_no", flat=True))
        numbers += [n for n in batch if n not in taken]
    numbering.save(update_fields=["period", "last_seq", "updated_at"])
    return numbers


def next_archive_no(*, today: datetime.date | None = None) -> str:
    """The next archive number (see `take_archive_numbers`)."""
    return take_archive_numbers(1, today=today)[0]
