"""Deadlines in working minutes across the 2026 National Day holidays and 调休 days,
the policy that applies, and the clock paused while waiting for the customer."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.core.services.calendar import calendar_seed
from kefu.tickets import sla
from kefu.tickets.choices import SlaState
from kefu.tickets.models import SlaPolicy, TicketSettings
from kefu.tickets.services import flow
from tests.factories_tickets import category, kind, make_ticket

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=TZ)


@pytest.fixture
def holidays_2026(ticket_world):
    calendar_seed(years=[2026])
    return ticket_world


def test_deadlines_skip_national_day_and_count_the_adjusted_saturday(holidays_2026):
    # Given the decoration complaint policy: respond in 120, resolve in 1,350 working
    # minutes (3 days of 9:00–12:00 + 13:30–18:00), registered Wed 30 Sep 2026 17:00.
    w = holidays_2026
    ticket = make_ticket(w["agent"], region=w["north"], now=at(2026, 9, 30, 17, 0))
    # Response: 60 minutes on 30 Sep, Oct 1–7 are holidays, 60 more on Thu 8 Oct.
    assert ticket.response_due_at == at(2026, 10, 8, 10, 0)
    # Resolution: 60 (30 Sep) + 450 (8 Oct) + 450 (9 Oct) + 390 on Sat 10 Oct, a 调休 working day.
    assert ticket.resolve_due_at == at(2026, 10, 10, 17, 0)
    # Warning at 80 % (1,080 minutes): 960 by 9 Oct, then 120 on 10 Oct from 9:00.
    assert ticket.warn_at == at(2026, 10, 10, 11, 0)
    # The first escalation (supervisor, 0 minutes after the deadline) is due at the deadline.
    assert ticket.next_escalation_at == at(2026, 10, 10, 17, 0)


def test_pause_moves_every_deadline_by_the_working_time_waited(holidays_2026):
    w = holidays_2026
    ticket = make_ticket(w["agent"], region=w["north"], now=at(2026, 9, 30, 17, 0))
    flow.ticket_pause(actor=w["agent"], ticket=ticket, reason="业主出差", now=at(2026, 10, 8, 10, 0))
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.PAUSED
    ticket = flow.ticket_resume(actor=w["agent"], ticket=ticket, now=at(2026, 10, 9, 10, 0))
    # 1,230 working minutes were left at the pause; from Fri 9 Oct 10:00: 390 that day,
    # 450 on Sat 10 Oct (调休), Sunday off, 390 on Mon 12 Oct → 17:00.
    assert ticket.resolve_due_at == at(2026, 10, 12, 17, 0)
    assert ticket.response_due_at == at(2026, 10, 8, 10, 0)  # already reached at the pause: unchanged
    assert ticket.sla_state == SlaState.ON_TRACK
    resumed = ticket.events.get(code="ticket.resumed")
    assert resumed.data == {"waited_minutes": 450}


def test_most_specific_policy_wins_and_strictest_among_equals(holidays_2026):
    complaint = kind("complaint")
    leak = category("防水渗漏")
    quality = category("施工质量")
    parent_policy = SlaPolicy.objects.create(
        name="施工质量", kind=complaint, category=quality, response_minutes=30, resolve_minutes=900
    )
    assert sla.match_policy(kind_id=complaint.pk, severity="normal", category=leak) == parent_policy
    child_policy = SlaPolicy.objects.create(
        name="渗漏", kind=complaint, category=leak, response_minutes=30, resolve_minutes=1200
    )
    assert sla.match_policy(kind_id=complaint.pk, severity="normal", category=leak) == child_policy
    # Urgent (any kind) vs complaint·normal do not compete; an urgent complaint takes the
    # urgent policy (kind-less, severity matches) only over one matching fewer dimensions.
    urgent = sla.match_policy(kind_id=complaint.pk, severity="urgent", category=None)
    assert urgent.severity == "urgent"
    child_policy.is_active = False
    child_policy.save()
    assert sla.match_policy(kind_id=complaint.pk, severity="normal", category=leak) == parent_policy


def test_no_policy_uses_the_settings_defaults(holidays_2026):
    SlaPolicy.objects.all().delete()
    settings = TicketSettings.current()
    settings.default_resolve_minutes = 450
    settings.save()
    w = holidays_2026
    ticket = make_ticket(w["agent"], region=w["north"], now=at(2026, 10, 9, 9, 0))
    assert ticket.sla_policy is None
    assert ticket.resolve_due_at == at(2026, 10, 9, 18, 0)
