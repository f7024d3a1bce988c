"""The archive-number pattern (档案编号规则): reading it, checking a new one, changing
it and previewing the next number. Numbers are taken in `kefu.customers.numbering`."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.audit import audited_update
from kefu.core.errors import ValidationFailed
from kefu.customers.models import ArchiveNumbering, Customer
from kefu.customers.numbering import format_archive_no
from kefu.customers.services.config.kinds import max_length, require_manager


def archive_numbering() -> ArchiveNumbering:
    """The numbering row; before the first change, an unsaved one with the defaults."""
    numbering = ArchiveNumbering.objects.order_by("pk").first()
    return numbering if numbering is not None else ArchiveNumbering(pk=1)


def clean_pattern(pattern: str) -> str:
    """A pattern that yields a different, storable number for every sequence value."""
    pattern = (pattern or "").strip()
    if not pattern:
        raise ValidationFailed(_("请填写编号规则。"), details={"field": "pattern"})
    if len(pattern) > max_length(ArchiveNumbering, "pattern"):
        raise ValidationFailed(_("编号规则不能超过 60 个字符。"), details={"field": "pattern"})
    try:
        samples = [format_archive_no(pattern, year=2026, seq=seq) for seq in (1, 2, 999999)]
    except ValidationFailed:
        raise
    except Exception as exc:  # any other formatting error of a hand-typed pattern
        raise ValidationFailed(
            _("档案编号规则无效：%(pattern)s（可用 {year} 与 {seq:06d}）") % {"pattern": pattern},
            details={"field": "pattern"},
        ) from exc
    if "{seq" not in pattern or len(set(samples)) < len(samples):
        raise ValidationFailed(
            _("编号规则必须包含流水号 {seq}（如 {seq:06d}），否则编号会重复。"), details={"field": "pattern"}
        )
    if any(ch.isspace() for ch in samples[0]):
        raise ValidationFailed(_("编号规则不能包含空格。"), details={"field": "pattern"})
    if max(len(s) for s in samples) > max_length(Customer, "archive_no"):
        raise ValidationFailed(_("按该规则生成的编号过长（最多 40 个字符）。"), details={"field": "pattern"})
    return pattern


def archive_numbering_update(*, actor, pattern: str) -> ArchiveNumbering:
    """Change the archive-number pattern. Numbers already given stay as they are; the
    counter carries on, and a number the new pattern would produce that an archive
    already holds is skipped (see `numbering.next_archive_no`), so none is reused."""
    require_manager(actor)
    pattern = clean_pattern(pattern)
    with transaction.atomic():
        numbering = ArchiveNumbering.objects.select_for_update().order_by("pk").first()
        if numbering is None:
            numbering = ArchiveNumbering.objects.create()
        audited_update(numbering, values={"pattern": pattern}, code="archive_numbering.updated", actor=actor)
    return numbering


def preview_archive_no(pattern: str, numbering: ArchiveNumbering | None = None) -> str:
    """What the next number would look like under `pattern` (for the settings page)."""
    numbering = numbering or archive_numbering()
    today = timezone.localdate()
    period = str(today.year) if "{year" in pattern else ""
    seq = (numbering.last_seq if numbering.period == period else 0) + 1
    return format_archive_no(pattern, year=today.year, seq=seq)
