"""Duplicate detection: the same name with the same phone, or the same ID number."""

from __future__ import annotations

from django.db.models import Q

from kefu.customers.models import Customer
from kefu.customers.validation import phone_digits


def find_duplicates(*, name: str, phones: list[str], id_number: str = "", exclude_pk: int | None = None):
    """Live archives (not merged away) that look like the same customer. Across the
    whole archive, not only the caller's scope: a duplicate in another region is still
    a duplicate; callers decide how much of it to show."""
    digits = [d for d in (phone_digits(p) for p in phones) if d]
    condition = Q(pk__in=[])
    if id_number:
        condition |= Q(id_number=id_number)
    if digits and name:
        condition |= Q(name=name.strip(), contacts__phone_digits__in=digits)
    qs = Customer.objects.filter(condition, merged_into__isnull=True)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.distinct().order_by("id")
