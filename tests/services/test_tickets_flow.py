"""The ticket lifecycle: every transition, and illegal ones refused with nothing changed."""

import pytest

from kefu.core.errors import AccessDenied, Conflict, InvalidState, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import TimelineEntry
from kefu.notify.models import Notification
from kefu.tickets.choices import HandlingOutcome, RoutingStatus, TicketStatus
from kefu.tickets.models import Ticket, TicketEvent
from kefu.tickets.selectors import TicketFilters, ticket_base, ticket_list
from kefu.tickets.services import flow
from kefu.tickets.services.tickets import TicketInput, ticket_create, ticket_update
from tests.factories_tickets import kind, make_ticket

pytestmark = pytest.mark.django_db


def _route(w, ticket, *depts):
    return flow.ticket_route(actor=w["agent"], ticket=ticket, departments=[w[d] for d in depts] or [w["engineering"]])


def _full_handling(w, ticket):
    (routing,) = _route(w, ticket, "engineering")
    flow.routing_accept(actor=w["engineer"], routing=routing)
    flow.routing_record_handling(actor=w["engineer"], routing=routing, note="上门查看，已更换防水层")
    flow.routing_reply(actor=w["engineer"], routing=routing, reply="已修复，闭水试验 48 小时无渗漏")
    return routing


def test_create_numbers_per_kind_and_day_and_records_everywhere(ticket_world):
    w = ticket_world
    first = make_ticket(w["agent"], region=w["north"])
    second = make_ticket(w["agent"], region=w["north"], customer=first.customer)
    inquiry = make_ticket(w["agent"], kind_code="inquiry", customer=None, caller_name="路人", region=None)
    day = first.created_at.astimezone().strftime("%Y%m%d")
    assert first.number == f"TS-{day}-0001"
    assert second.number == f"TS-{day}-0002"
    assert inquiry.number == f"ZX-{day}-0001"
    assert first.status == TicketStatus.REGISTERED
    assert first.resolve_due_at is not None and first.response_due_at < first.resolve_due_at
    assert first.assignee == w["agent"]
    assert TicketEvent.objects.filter(ticket=first, code="ticket.registered").count() == 1
    assert AuditEvent.objects.filter(code="ticket.registered", object_id=str(first.pk)).count() == 1
    assert TimelineEntry.objects.filter(customer=first.customer, kind="ticket.registered").count() == 2


def test_complaint_requires_a_customer(ticket_world):
    with pytest.raises(ValidationFailed) as err:
        ticket_create(actor=ticket_world["agent"], data=TicketInput(kind=kind("complaint"), title="t", description="d"))
    assert err.value.code == "ticket_customer_required"
    assert not Ticket.objects.exists()


def test_full_lifecycle(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    routing = _full_handling(w, ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert ticket.first_response_at is not None
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.REPLIED
    ticket = flow.ticket_resolve(
        actor=w["agent"], ticket=ticket, resolution="已修复", cause_analysis="防水层施工不规范"
    )
    assert ticket.status == TicketStatus.RESOLVED and ticket.warn_at is None and ticket.next_escalation_at is None
    ticket = flow.ticket_confirm(actor=w["agent"], ticket=ticket, satisfied=True, score=5)
    assert ticket.status == TicketStatus.CONFIRMED and ticket.satisfaction == 5
    ticket = flow.ticket_close(actor=w["agent"], ticket=ticket)
    assert ticket.status == TicketStatus.CLOSED
    codes = list(ticket.events.values_list("code", flat=True))
    assert codes == [
        "ticket.registered",
        "ticket.routed",
        "ticket.accepted",
        "ticket.handling",
        "ticket.replied",
        "ticket.resolved",
        "ticket.confirmed",
        "ticket.closed",
    ]


def test_not_satisfied_reopens_with_new_cycle_and_slips_back(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    routing = _full_handling(w, ticket)
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复")
    ticket = flow.ticket_confirm(actor=w["agent"], ticket=ticket, satisfied=False, score=2, note="仍然渗水")
    assert ticket.status == TicketStatus.ROUTED
    assert ticket.cycle == 2 and ticket.reopen_count == 1
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.SENT
    assert Notification.objects.filter(recipient=w["engineer"], idempotency_key__contains=":c2").exists()


@pytest.mark.parametrize("action", ["confirm", "close", "reopen", "pause_twice", "accept_withdrawn"])
def test_illegal_moves_are_refused_and_change_nothing(ticket_world, action):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    routing = None
    if action == "pause_twice":
        ticket = flow.ticket_pause(actor=w["agent"], ticket=ticket, reason="业主出差")
    if action == "accept_withdrawn":
        (routing,) = _route(w, ticket, "engineering")
        ticket = flow.ticket_withdraw(actor=w["agent"], ticket=ticket, reason="业主撤诉")
    ticket.refresh_from_db()
    version, events = ticket.version, ticket.events.count()
    with pytest.raises(InvalidState) as err:
        if action == "confirm":
            flow.ticket_confirm(actor=w["agent"], ticket=ticket, satisfied=True, score=4)
        elif action == "close":
            flow.ticket_close(actor=w["agent"], ticket=ticket)
        elif action == "reopen":
            flow.ticket_reopen(actor=w["agent"], ticket=ticket, reason="x")
        elif action == "pause_twice":
            flow.ticket_pause(actor=w["agent"], ticket=ticket, reason="again")
        else:
            # The department no longer sees a withdrawn ticket; a supervisor still may not accept.
            flow.routing_accept(actor=w["supervisor"], routing=routing)
    ticket.refresh_from_db()
    assert err.value.status == 409 and err.value.message
    if action in ("confirm", "close", "reopen", "accept_withdrawn"):
        assert err.value.code == "ticket_illegal_transition"
    assert ticket.version == version and ticket.events.count() == events


def test_resolve_needs_routing_and_all_replies(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    with pytest.raises(InvalidState) as err:
        flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="x")
    assert err.value.code == "ticket_not_routed"
    _route(w, ticket, "engineering", "repair")
    with pytest.raises(InvalidState) as err:
        flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="x")
    assert err.value.code == "ticket_slips_open"
    assert "工程部" in err.value.message and "维修部" in err.value.message


def test_inquiry_resolves_without_routing_and_closes_without_confirmation(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], kind_code="inquiry", customer=None, caller_name="王先生")
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已电话答复")
    ticket = flow.ticket_close(actor=w["agent"], ticket=ticket)
    assert ticket.status == TicketStatus.CLOSED


def test_complaint_cannot_close_before_confirmation(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    _full_handling(w, ticket)
    ticket = flow.ticket_resolve(actor=w["agent"], ticket=ticket, resolution="已修复")
    with pytest.raises(InvalidState):
        flow.ticket_close(actor=w["agent"], ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED


def test_department_staff_see_only_routed_tickets_and_only_their_slips(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    other = make_ticket(w["agent"], region=w["north"], customer=ticket.customer)
    assert not ticket_base(w["engineer"]).exists()
    (routing,) = _route(w, ticket, "engineering")
    assert list(ticket_base(w["engineer"])) == [ticket]
    assert other not in ticket_base(w["engineer"])
    assert not ticket_base(w["repairer"]).exists()
    with pytest.raises(NotFound):
        flow.routing_accept(actor=w["repairer"], routing=routing)
    dept_queue = ticket_list(user=w["engineer"], filters=TicketFilters(queue="department"))
    assert list(dept_queue) == [ticket]


def test_department_queue_is_the_scoped_open_tickets_with_a_live_slip_for_every_user(ticket_world, make_user):
    """The queue leaves the scope's own test out because each of its rows is in scope by
    the routing reach; for every kind of user it must list what the scoped definition
    lists, and never a ticket outside the user's scope."""
    from django.db.models import Exists, OuterRef

    from kefu.tickets.choices import ACTIVE_ROUTING_STATUSES
    from kefu.tickets.models import TicketRouting

    w = ticket_world
    w["agent"].scope_departments.add(w["engineering"])  # a desk agent who also works a department's queue
    north = make_ticket(w["agent"], region=w["north"])
    _route(w, north, "engineering", "repair")
    south = make_ticket(w["agent_south"], region=w["south"])
    flow.ticket_route(actor=w["agent_south"], ticket=south, departments=[w["engineering"]])
    accepted = make_ticket(w["agent"], region=w["north"], customer=north.customer)
    (slip,) = _route(w, accepted, "repair")
    flow.routing_accept(actor=w["repairer"], routing=slip)
    replied = make_ticket(w["agent"], region=w["north"], customer=north.customer)
    _full_handling(w, replied)
    withdrawn = make_ticket(w["agent"], region=w["north"], customer=north.customer)
    (cancelled,) = _route(w, withdrawn, "repair")
    flow.routing_cancel(actor=w["agent"], routing=cancelled, reason="派错部门")
    make_ticket(w["agent"], region=w["north"], customer=north.customer)  # never routed

    for name in ("manager", "supervisor", "agent", "agent_south", "engineer", "repairer", "director", "finance"):
        user = type(w[name]).objects.get(pk=w[name].pk)  # fresh scope caches
        departments = set(user.scope_departments.values_list("pk", flat=True)) | {user.department_id}
        live = TicketRouting.objects.filter(
            ticket=OuterRef("pk"), department_id__in=departments, status__in=ACTIVE_ROUTING_STATUSES
        )
        expected = set(ticket_base(user).filter(Exists(live), is_open=True))
        listed = set(ticket_list(user=user, filters=TicketFilters(queue="department")))
        assert listed == expected, name
        assert listed <= set(ticket_base(user)), name
    engineer = ticket_list(user=w["engineer"], filters=TicketFilters(queue="department"))
    assert set(engineer) == {north, south}
    repairer = ticket_list(user=w["repairer"], filters=TicketFilters(queue="department"))
    assert set(repairer) == {north, accepted}
    no_role = make_user(department=w["engineering"])  # in the department, without the right to view tickets
    assert not ticket_list(user=no_role, filters=TicketFilters(queue="department")).exists()


def test_agent_of_other_region_does_not_see_ticket(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    assert ticket in ticket_base(w["agent"])
    assert ticket not in ticket_base(w["agent_south"])
    assert ticket in ticket_base(w["manager"])


def test_stale_version_is_a_conflict(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    ticket_update(actor=w["agent"], ticket=ticket, values={"title": "新标题"}, expected_version=ticket.version)
    with pytest.raises(Conflict):
        ticket_update(actor=w["agent"], ticket=ticket, values={"title": "另一个"}, expected_version=1)
    ticket.refresh_from_db()
    assert ticket.title == "新标题"


def test_three_failed_attempts_escalate_once(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    (routing,) = _route(w, ticket, "engineering")
    for _ in range(4):
        flow.routing_record_handling(
            actor=w["engineer"], routing=routing, note="未能解决", outcome=HandlingOutcome.FAILED
        )
    ticket.refresh_from_db()
    assert ticket.failed_attempts == 4
    assert ticket.escalation_level == 1
    assert ticket.escalations.filter(reason="failed_attempts").count() == 1
    assert Notification.objects.filter(recipient=w["supervisor"], title__contains="升级").count() == 1


def test_department_staff_cannot_route_or_resolve(ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    _route(w, ticket, "engineering")
    with pytest.raises(AccessDenied):
        flow.ticket_resolve(actor=w["engineer"], ticket=ticket, resolution="x")


def test_merge_carries_into_the_original_and_duplicate_just_points(ticket_world):
    w = ticket_world
    original = make_ticket(w["agent"], region=w["north"])
    twin = make_ticket(w["agent"], region=w["north"], customer=original.customer, description="同一处漏水，再次来电")
    other = make_ticket(w["agent"], region=w["north"], customer_name="李四")
    merged = flow.ticket_mark_duplicate(actor=w["agent"], ticket=twin, original=original, merge=True)
    assert merged.status == TicketStatus.MERGED and merged.merged_into == original
    assert original.related.filter(pk=twin.pk).exists()
    assert original.events.filter(code="ticket.merged_in", note__contains="再次来电").exists()
    with pytest.raises(ValidationFailed):
        flow.ticket_mark_duplicate(actor=w["agent"], ticket=other, original=original, merge=True)
    dup = flow.ticket_mark_duplicate(actor=w["agent"], ticket=other, original=original)
    assert dup.status == TicketStatus.DUPLICATE
    with pytest.raises(InvalidState):
        flow.ticket_route(actor=w["agent"], ticket=dup, departments=[w["engineering"]])


def test_customer_merge_moves_the_tickets(ticket_world):
    from kefu.customers.services.merge import customer_merge

    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"])
    survivor = ticket.customer
    duplicate_archive = make_ticket(w["agent"], region=w["north"], customer_name="张三丰").customer
    moved = Ticket.objects.get(customer=duplicate_archive)
    customer_merge(actor=w["manager"], survivor=survivor, source=duplicate_archive)
    moved.refresh_from_db()
    assert moved.customer == survivor


def test_department_staff_with_a_region_still_see_only_their_slips(ticket_world):
    w = ticket_world
    w["engineer"].region = w["north"]
    w["engineer"].save()
    ticket = make_ticket(w["agent"], region=w["north"])
    assert not ticket_base(w["engineer"]).filter(pk=ticket.pk).exists()
    _route(w, ticket, "engineering")
    assert ticket_base(w["engineer"]).filter(pk=ticket.pk).exists()
