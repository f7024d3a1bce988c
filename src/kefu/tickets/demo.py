"""A year of demo tickets for an industry profile (`kefu init --profile X --demo`).

`demo_plan` decides what happens to each ticket and when; here the plans are played in
time order through the same services the desk uses (registration, routing with 投诉告知单,
acceptance, handling records, replies, results, return visits, reopening, closing,
withdrawals, duplicates and merges, pauses, 督办, refunds approved by the demo director
and finance users through the approvals engine, deadline extensions, the discipline
flag), with the supervision job run once a day of the simulated year so warnings and
escalations happen when they would have. `demo_clock` then puts the rows the services
stamped with the real clock at their planned moments, and the job runs once more for
today so the SLA states are live.

Idempotent: each demo ticket's registration event carries the profile's code, and a
profile that has demo tickets gets none again."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from kefu.core.models import User
from kefu.core.workcal import WorkingCalendar
from kefu.customers.models import Customer
from kefu.tickets.demo_plan import Setting, build_plans
from kefu.tickets.demo_player import CAST, DEMO_MARKER, Player
from kefu.tickets.models import TicketCategory, TicketEvent, TicketKind
from kefu.tickets.profile_data import PROFILES

__all__ = ["DEMO_COUNT", "DEMO_MARKER", "demo_tickets_exist", "demo_tickets_load"]

logger = logging.getLogger(__name__)

DEMO_COUNT = 300


def demo_tickets_exist(profile_code: str) -> bool:
    return TicketEvent.objects.filter(code="ticket.registered", **{f"data__{DEMO_MARKER}": profile_code}).exists()


def demo_tickets_load(profile_code: str, *, count: int = DEMO_COUNT) -> int:
    """Create about `count` demo tickets for the profile unless it has them already.
    Returns how many were created (0 on a second run, or without the demo logins or
    demo customers to work with)."""
    spec = PROFILES.get(profile_code)
    if spec is None or demo_tickets_exist(profile_code):
        return 0
    cast = {u.username: u for u in User.objects.filter(username__in=CAST, is_active=True)}
    if len(cast) < len(CAST):
        logger.warning("demo tickets for %s skipped: demo logins missing (%s)", profile_code, set(CAST) - set(cast))
        return 0
    from kefu.profiles.definitions import PROFILES as DEFINITIONS

    definition = DEFINITIONS[profile_code]
    region_codes = [code for code, _name in definition.regions]
    customers = list(
        Customer.objects.filter(region__code__in=region_codes, merged_into__isnull=True)
        .select_related("region")
        .order_by("id")[:1000]
    )
    if not customers:
        return 0
    worker = next(s.department for s in definition.demo_staff if s.username == "dept")
    calendar = WorkingCalendar()
    now = timezone.localtime()
    setting = Setting(
        profile=profile_code,
        now=now,
        categories=_category_pairs(),
        departments_for=spec.departments_for,
        worker_department=worker,
        customers=[(c.name, c.region.code if c.region else "") for c in customers],
        regions=region_codes,
        snap=calendar.next_working_moment,
    )
    plans = build_plans(setting, count)
    with transaction.atomic():
        player = Player(profile_code, cast, customers, worker, now)
        player.play(plans)
    return player.created


def _category_pairs() -> dict[str, list[tuple[str, str | None]]]:
    """Kind code → the (top, leaf) pairs a ticket of it may be filed under."""
    kinds = list(TicketKind.objects.filter(is_active=True))
    pairs: dict[str, list[tuple[str, str | None]]] = {k.code: [] for k in kinds}
    nodes = list(TicketCategory.objects.filter(is_active=True).select_related("parent"))
    has_children = {n.parent_id for n in nodes if n.parent_id}
    for node in nodes:
        if node.pk in has_children or (node.parent and node.parent.parent_id):
            continue
        pair = (node.parent.name, node.name) if node.parent else (node.name, None)
        for kind in kinds:
            if node.kind_id in (None, kind.pk):
                pairs[kind.code].append(pair)
    return pairs
