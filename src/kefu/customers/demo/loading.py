"""Writing demo customers: `demo_customers_load` for `kefu init --demo` (once per
profile), `insert_customers` for any generated rows, in one bulk query per table."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.customers.choices import CustomerKind
from kefu.customers.demo.generator import DemoCustomer, generate_customers
from kefu.customers.numbering import take_archive_numbers
from kefu.customers.pinyin import name_initials
from kefu.customers.search import build_search_text
from kefu.customers.validation import phone_digits

DEMO_COUNT = 200
# Marks the creation entry of every demo customer on the timeline, per profile: what
# makes a second `kefu init --demo` of the same profile add nothing.
DEMO_MARKER = "demo_profile"


def demo_owners(region_codes: Sequence[str]) -> dict[str, list[str]]:
    """The demo account manager and agents responsible for each region (by their own
    region or their scope), so the customers a demo login sees are its own."""
    from kefu.core.models import User

    users = (
        User.objects.filter(username__in=("account", "agent", "agent2"), is_active=True)
        .select_related("region")
        .prefetch_related("scope_regions")
    )
    owners: dict[str, list[str]] = {code: [] for code in region_codes}
    for user in users:
        codes = {r.code for r in user.scope_regions.all()} | ({user.region.code} if user.region else set())
        for code in codes & set(region_codes):
            owners[code].append(user.username)
    return {code: sorted(names) for code, names in owners.items() if names}


def demo_customers_exist(code: str) -> bool:
    from kefu.customers.models import TimelineEntry

    return TimelineEntry.objects.filter(kind="customer.created", **{f"data__{DEMO_MARKER}": code}).exists()


def demo_customers_load(code: str, *, count: int = DEMO_COUNT) -> int:
    """Create `count` demo customers for profile `code` unless it already has them.
    Returns how many were created (0 on a second run)."""
    if demo_customers_exist(code):
        return 0
    from kefu.core.models import Region

    region_codes = [r for r in Region.objects.values_list("code", flat=True) if r in _region_codes(code)]
    rows = sorted(
        generate_customers(code, count, regions=region_codes, owners=demo_owners(region_codes)),
        key=lambda c: c.created_at,
    )
    with transaction.atomic():
        insert_customers(rows, marker=code)
    return len(rows)


def _region_codes(code: str) -> list[str]:
    from kefu.profiles.definitions import PROFILES

    return [c for c, _name in PROFILES[code].regions]


def insert_customers(rows: Sequence[DemoCustomer], *, marker: str | None = None) -> list[int]:
    """Write generated customers with their contacts, categories, tags, opening credit
    grade, points and timeline in one bulk query per table. Returns the new ids."""
    from kefu.core.models import Region, User
    from kefu.customers.models import (
        Contact,
        CreditChange,
        CreditGrade,
        Customer,
        CustomerClass,
        CustomerSource,
        PointsEntry,
        ProductCategory,
        Tag,
        TimelineEntry,
    )

    regions = {r.code: r.pk for r in Region.objects.all()}
    users = dict(User.objects.filter(username__in={r.owner_username for r in rows}).values_list("username", "pk"))
    classes = dict(CustomerClass.objects.values_list("code", "pk"))
    grades = dict(CreditGrade.objects.values_list("code", "pk"))
    sources = dict(CustomerSource.objects.values_list("code", "pk"))
    categories = dict(ProductCategory.objects.values_list("code", "pk"))
    tag_names = sorted({t for r in rows for t in r.tag_names})
    Tag.objects.bulk_create([Tag(name=n) for n in tag_names], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "pk"))

    numbers = take_archive_numbers(len(rows))
    customers = []
    for row, number in zip(rows, numbers, strict=True):
        customers.append(
            Customer(
                kind=row.kind,
                archive_no=number,
                name=row.name,
                id_number=row.id_number,
                gender=row.gender,
                birthday=row.birthday,
                address=row.address,
                region_id=regions.get(row.region_code),
                owner_id=users.get(row.owner_username),
                customer_class_id=classes.get(row.class_code),
                is_key_account=row.is_key_account,
                credit_grade_id=grades.get(row.grade_code),
                source_id=sources.get(row.source_code),
                lifecycle=row.lifecycle,
                marketing_consent=row.marketing_consent,
                consent_at=row.created_at if row.marketing_consent else None,
                consent_channel=row.consent_channel,
                points_balance=row.points,
                notes=row.notes,
                extra=row.extra,
                name_initials=" ".join(name_initials(row.name, person=row.kind == CustomerKind.PERSON))[:200],
                search_text=build_search_text(
                    name=row.name, person=row.kind == CustomerKind.PERSON, archive_no=number, phones=row.phones
                ),
            )
        )
    Customer.objects.bulk_create(customers, batch_size=500)
    ids = [c.pk for c in customers]
    # created_at/updated_at are auto fields bulk_create stamps with "now": spread them
    # over the past two years, as an archive kept for a while would be.
    for start in range(0, len(customers), 500):
        chunk = list(zip(customers[start : start + 500], rows[start : start + 500], strict=True))
        Customer.objects.filter(pk__in=[c.pk for c, _r in chunk]).update(
            created_at=Case(*[When(pk=c.pk, then=Value(r.created_at)) for c, r in chunk], output_field=DateTimeField()),
            updated_at=Case(*[When(pk=c.pk, then=Value(r.updated_at)) for c, r in chunk], output_field=DateTimeField()),
        )

    Contact.objects.bulk_create(
        [
            Contact(
                customer_id=c.pk,
                name=k.name,
                role=k.role,
                phone=k.phone,
                phone_digits=phone_digits(k.phone),
                wechat=k.wechat,
                email=k.email,
                is_primary=k.is_primary,
            )
            for c, r in zip(customers, rows, strict=True)
            for k in r.contacts
        ],
        batch_size=500,
    )
    Customer.categories.through.objects.bulk_create(
        [
            Customer.categories.through(customer_id=c.pk, productcategory_id=categories[code])
            for c, r in zip(customers, rows, strict=True)
            for code in r.category_codes
            if code in categories
        ],
        batch_size=500,
    )
    Customer.tags.through.objects.bulk_create(
        [
            Customer.tags.through(customer_id=c.pk, tag_id=tags[name])
            for c, r in zip(customers, rows, strict=True)
            for name in r.tag_names
        ],
        batch_size=500,
    )
    CreditChange.objects.bulk_create(
        [
            CreditChange(
                customer_id=c.pk,
                to_grade_id=c.credit_grade_id,
                reason=_("建档时评定"),
                effective_on=timezone.localtime(r.created_at).date(),
            )
            for c, r in zip(customers, rows, strict=True)
            if c.credit_grade_id
        ],
        batch_size=500,
    )
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(
                customer_id=c.pk,
                delta=r.points,
                balance_after=r.points,
                reason=_("期初积分"),
                key=f"opening:{c.archive_no}",
            )
            for c, r in zip(customers, rows, strict=True)
            if r.points
        ],
        batch_size=500,
    )
    entries = []
    for c, r in zip(customers, rows, strict=True):
        entries.append(
            TimelineEntry(
                customer_id=c.pk,
                at=r.created_at,
                kind="customer.created",
                title=_("建立档案"),
                data={DEMO_MARKER: marker} if marker else {},
            )
        )
        for days, title in r.followups:
            at = min(r.created_at + datetime.timedelta(days=days), timezone.now())
            entries.append(TimelineEntry(customer_id=c.pk, at=at, kind="customer.note", title=title))
    TimelineEntry.objects.bulk_create(entries, batch_size=500)
    return ids
