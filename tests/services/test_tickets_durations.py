"""The working minutes a ticket stores for the reports (registration → first response,
registration → resolution, across the 2026 National Day holidays), and the department
the statistics count a ticket against."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.core.services.calendar import calendar_seed
from kefu.tickets.selectors import TicketFilters, ticket_list
from kefu.tickets.services import flow
from tests.factories_tickets import make_ticket

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=TZ)


@pytest.fixture
def w(ticket_world):
    calendar_seed(years=[2026])
    return ticket_world


def _handle(w, routing, now):
    staff = w["repairer"] if routing.department == w["repair"] else w["engineer"]
    flow.routing_accept(actor=staff, routing=routing, now=now)
    flow.routing_reply(actor=staff, routing=routing, reply="已修复", now=now)


def test_durations_count_working_minutes_only(w):
    # Registered Wed 30 Sep 17:00 (60 working minutes left that day), 1–7 Oct are
    # holidays, a working day is 9:00–12:00 + 13:30–18:00 = 450 minutes.
    ticket = make_ticket(w["agent"], region=w["north"], now=at(2026, 9, 30, 17, 0))
    assert ticket.response_minutes is None and ticket.resolution_minutes is None
    (routing,) = flow.ticket_route(
        actor=w["agent"], ticket=ticket, departments=[w["engineering"]], now=at(2026, 10, 8, 10, 0)
    )
    ticket.refresh_from_db()
    assert ticket.response_minutes == 60 + 60
    _handle(w, routing, at(2026, 10, 9, 9, 0))
    # Resolved on the adjusted working Saturday 10 Oct at noon: 60 + 450 + 450 + 180.
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复", now=at(2026, 10, 10, 12, 0))
    assert ticket.resolution_minutes == 1140
    ticket.refresh_from_db()
    assert (ticket.response_minutes, ticket.resolution_minutes) == (120, 1140)


def test_reopening_clears_the_resolution_time_and_the_next_resolution_counts_from_registration(w):
    ticket = make_ticket(w["agent"], region=w["north"], now=at(2026, 11, 2, 9, 0))
    (routing,) = flow.ticket_route(
        actor=w["agent"], ticket=ticket, departments=[w["engineering"]], now=at(2026, 11, 2, 9, 30)
    )
    _handle(w, routing, at(2026, 11, 2, 10, 0))
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复", now=at(2026, 11, 2, 11, 0))
    assert ticket.resolution_minutes == 120
    ticket = flow.ticket_confirm(
        actor=w["agent"], ticket=ticket, satisfied=False, score=2, note="仍然渗水", now=at(2026, 11, 3, 9, 0)
    )
    assert ticket.resolution_minutes is None and ticket.response_minutes == 30
    routing.refresh_from_db()
    _handle(w, routing, at(2026, 11, 3, 10, 0))
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="返修", now=at(2026, 11, 3, 11, 0))
    assert ticket.resolution_minutes == 450 + 120


def test_routing_makes_the_first_department_responsible_until_the_resolution_names_another(w):
    first = make_ticket(w["agent"], region=w["north"])
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=first, departments=[w["engineering"]])
    first.refresh_from_db()
    assert first.responsible_department == w["engineering"]
    _handle(w, routing, None)
    first = flow.ticket_resolve(actor=w["agent"], ticket=first, resolution="已修复")
    assert first.responsible_department == w["engineering"]  # not named: the routed one stays

    second = make_ticket(w["agent"], region=w["north"], customer_name="李四")
    routings = flow.ticket_route(actor=w["agent"], ticket=second, departments=[w["engineering"], w["repair"]])
    for routing in routings:
        _handle(w, routing, None)
    second = flow.ticket_resolve(
        actor=w["agent"], ticket=second, resolution="已修复", responsible_department=w["repair"]
    )
    assert second.responsible_department == w["repair"]

    # The list the reports click through to: by responsible department, not by routing.
    by_responsible = ticket_list(user=w["manager"], filters=TicketFilters(responsible_department=[w["repair"].pk]))
    by_routing = ticket_list(user=w["manager"], filters=TicketFilters(department=[w["repair"].pk]))
    assert list(by_responsible) == [second]
    assert set(by_routing) == {second}
    by_engineering = ticket_list(user=w["manager"], filters=TicketFilters(responsible_department=[w["engineering"].pk]))
    assert list(by_engineering) == [first]


def test_a_slip_withdrawn_as_misrouted_stops_counting_the_ticket_against_its_department(w):
    ticket = make_ticket(w["agent"], region=w["north"])
    wrong, right = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"], w["repair"]])
    ticket.refresh_from_db()
    assert ticket.responsible_department == w["engineering"]
    # Withdrawing another department's slip leaves the responsible one alone.
    flow.routing_cancel(actor=w["agent"], routing=right, reason="重复派单")
    ticket.refresh_from_db()
    assert ticket.responsible_department == w["engineering"]
    # The responsible department's slip withdrawn with no other live slip: none, until
    # the ticket is routed again — and the next routing names the right department.
    flow.routing_cancel(actor=w["agent"], routing=wrong, reason="派错部门")
    ticket.refresh_from_db()
    assert ticket.responsible_department is None
    (routing,) = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["repair"]])
    ticket.refresh_from_db()
    assert ticket.responsible_department == w["repair"]
    _handle(w, routing, None)
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复")
    assert ticket.responsible_department == w["repair"]
    by_engineering = ticket_list(user=w["manager"], filters=TicketFilters(responsible_department=[w["engineering"].pk]))
    assert ticket not in by_engineering


def test_the_next_live_slip_takes_over_when_the_responsible_one_is_withdrawn(w):
    ticket = make_ticket(w["agent"], region=w["north"])
    wrong, _other = flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w["engineering"], w["repair"]])
    flow.routing_cancel(actor=w["agent"], routing=wrong, reason="派错部门")
    ticket.refresh_from_db()
    assert ticket.responsible_department == w["repair"]
