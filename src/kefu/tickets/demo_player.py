"""Playing the demo tickets' plans (`demo_plan`) in time order, each move through its
service, as the demo logins: the agents at the desk, the department login (or the
supervisor on a department's behalf), the supervisor, the director and finance
approving refunds; the supervision job once each working morning."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone

from kefu.core import access
from kefu.core.errors import KefuError
from kefu.core.models import Department, Region, User
from kefu.core.services.approvals import approval_decide
from kefu.core.workcal import WorkingCalendar
from kefu.customers.models import Contact, Customer
from kefu.tickets.demo_clock import DemoClock, settle_approval_inbox
from kefu.tickets.demo_flow import Step, TicketPlan
from kefu.tickets.models import (
    DeadlineExtension,
    PenaltyProposal,
    RefundRequest,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketKind,
    TicketRouting,
)
from kefu.tickets.services import discipline, escalation, flow, refunds, tickets
from kefu.tickets.services.common import HANDLE, SUPERVISE

logger = logging.getLogger("kefu.tickets.demo")

# On the registration event of every demo ticket, with the profile's code.
DEMO_MARKER = "demo_profile"
CAST = ("agent", "agent2", "supervisor", "manager", "dept", "finance", "director")
CALLERS = ("王先生", "李女士", "张先生", "刘女士", "陈先生", "杨女士", "赵先生", "周女士")
SUPERVISION_TIME = datetime.time(9, 5)


class Player:
    """Plays the plans' moves in time order, each through its service."""

    def __init__(self, code: str, cast: dict[str, User], customers: list[Customer], worker: str, now):
        self.code, self.cast, self.customers, self.now = code, cast, customers, now
        self.clock = DemoClock(now)
        self.calendar = WorkingCalendar()
        self.kinds = {k.code: k for k in TicketKind.objects.all()}
        self.categories = {
            (c.parent.name if c.parent else c.name, c.name if c.parent else None): c
            for c in TicketCategory.objects.select_related("parent")
        }
        self.departments = {d.code: d for d in Department.objects.filter(is_active=True)}
        self.worker = self.departments.get(worker)
        self.regions = {r.code: r for r in Region.objects.all()}
        self.contacts = {
            c.customer_id: c for c in Contact.objects.filter(customer__in=customers, is_primary=True).order_by("-id")
        }
        # The last instance a service returned: the services lock and re-read the row
        # themselves, so passing it on saves a read per move.
        self.tickets: dict[int, Ticket] = {}  # plan index → ticket
        self.desks: dict[int, User] = {}
        self.chiefs: dict[int, User] = {}
        self.desk_of: dict[tuple, User] = {}
        self.routings: dict[tuple[int, str], TicketRouting] = {}
        self.objects: dict[tuple[int, str], int] = {}  # refunds, extensions
        self.failed: set[int] = set()
        self.approvals: list[int] = []
        self.created = 0

    # -- the timeline -------------------------------------------------------------------

    def play(self, plans: list[TicketPlan]) -> None:
        moves = sorted((step.at, plan.index, n) for plan in plans for n, step in enumerate(plan.steps))
        day = timezone.localtime(moves[0][0]).date() if moves else self.now.date()
        runs = []
        # The job runs every few minutes; once each working morning is enough to warn and
        # escalate on the right day (deadlines and escalation moments are working time).
        while (moment := timezone.make_aware(datetime.datetime.combine(day, SUPERVISION_TIME))) < self.now:
            if self.calendar.is_working_day(day):
                runs.append((moment, -1, 0))
            day += datetime.timedelta(days=1)
        for at, index, number in sorted(moves + runs):
            self.clock.mark(at)
            if index < 0:
                escalation.supervision_run(now=at)
            elif index not in self.failed:
                self.move(plans[index], plans[index].steps[number], plans)
        self.clock.apply()
        self.clock.settle([t.pk for t in self.tickets.values()])
        self.mark_demo()
        settle_approval_inbox(self.approvals, self.now)
        escalation.supervision_run()

    def mark_demo(self) -> None:
        """The profile's code on each demo ticket's registration event (idempotency)."""
        events = list(
            TicketEvent.objects.filter(ticket__in=list(self.tickets.values()), code="ticket.registered").only("data")
        )
        for event in events:
            event.data = {**event.data, DEMO_MARKER: self.code}
        TicketEvent.objects.bulk_update(events, ["data"], batch_size=200)

    def move(self, plan: TicketPlan, step: Step, plans: list[TicketPlan]) -> None:
        try:
            # No savepoint of our own: a service that refuses has written nothing.
            getattr(self, f"do_{step.action}")(plan, step, plans)
        except KefuError as exc:
            # A configuration a manager changed may refuse a move: skip the rest of
            # this ticket rather than the whole demo.
            self.failed.add(plan.index)
            logger.warning("demo ticket %s (%s): %s refused: %s", plan.index, plan.scenario, step.action, exc)

    # -- who does it --------------------------------------------------------------------

    def ticket(self, plan: TicketPlan) -> Ticket:
        return self.tickets[plan.index]

    def keep(self, plan: TicketPlan, ticket: Ticket) -> Ticket:
        self.tickets[plan.index] = ticket
        return ticket

    def routing(self, plan: TicketPlan, department: str) -> TicketRouting:
        return self.routings[(plan.index, department)]

    def desk(self, customer: Customer | None, region: Region | None) -> User:
        """The agent of the customer's region, else the manager (who sees all)."""
        key = ("customer", customer.pk) if customer else ("region", region.pk if region else None)
        if key not in self.desk_of:
            agents = (self.cast["agent"], self.cast["agent2"])
            self.desk_of[key] = next(
                (
                    user
                    for user in agents
                    if (customer is not None and access.can(user, "customers.view_customer", customer))
                    or (customer is None and region is not None and user.region_id == region.pk)
                ),
                self.cast["manager"],
            )
        return self.desk_of[key]

    def chief(self, plan: TicketPlan) -> User:
        """The supervisor when the ticket is in their scope, else the manager."""
        if plan.index not in self.chiefs:
            supervisor = self.cast["supervisor"]
            sees = access.can(supervisor, SUPERVISE, self.ticket(plan)) and access.has_perm(supervisor, HANDLE)
            self.chiefs[plan.index] = supervisor if sees else self.cast["manager"]
        return self.chiefs[plan.index]

    def handler(self, plan: TicketPlan, routing: TicketRouting) -> User:
        """The demo department login for its department's slips; the desk's supervisor
        (or the manager) records the others' work on their behalf."""
        dept = self.cast["dept"]
        return dept if routing.department_id == dept.department_id else self.chief(plan)

    # -- the moves ----------------------------------------------------------------------

    def do_create(self, plan: TicketPlan, step: Step, _plans) -> None:
        kind = self.kinds[plan.kind]
        customer = self.customers[plan.customer] if plan.customer is not None else None
        if customer is None and kind.requires_customer:
            customer = self.customers[plan.index % len(self.customers)]
        region = customer.region if customer else self.regions.get(plan.region or "")
        contact = self.contacts.get(customer.pk) if customer else None
        caller = contact.name if contact else CALLERS[plan.index % len(CALLERS)]
        desk = self.desk(customer, region)
        data = tickets.TicketInput(
            kind=kind,
            title=plan.title,
            description=plan.description.format(customer=customer.name if customer else caller),
            customer=customer,
            contact=contact,
            caller_name=caller,
            caller_phone="" if customer else f"1390{plan.index:07d}",
            channel=plan.channel,
            agency_name=plan.agency,
            agency_ref=f"{step.at:%Y}-{plan.index:05d}" if plan.agency else "",
            agency_deadline=(step.at + datetime.timedelta(days=7)).date() if plan.agency else None,
            category=self.categories.get((plan.top, plan.leaf)) if plan.top else None,
            severity=plan.severity,
            extra=plan.extra,
            against_staff=self.cast.get(plan.against_staff) if plan.against_staff else None,
            region=region,
        )
        ticket = tickets.ticket_create(actor=desk, data=data, now=step.at)
        if ticket.against_staff_id:
            # The discipline rule counts complaints by registration month at once.
            Ticket.objects.filter(pk=ticket.pk).update(created_at=step.at)
        self.tickets[plan.index], self.desks[plan.index] = ticket, desk
        self.created += 1

    def do_route(self, plan, step, _plans) -> None:
        departments = [self.departments.get(code) or self.worker for code in step.args["departments"]]
        routings = flow.ticket_route(
            actor=self.desks[plan.index],
            ticket=self.ticket(plan),
            departments=[d for d in dict.fromkeys(departments) if d is not None],
            instructions=step.args["instructions"],
            now=step.at,
        )
        for routing in routings:
            self.routings[(plan.index, routing.department.code)] = routing

    def do_cancel_slip(self, plan, step, _plans) -> None:
        routing = self.routing(plan, step.args["department"])
        flow.routing_cancel(actor=self.desks[plan.index], routing=routing, reason=step.args["reason"])
        self.clock.real(TicketRouting.objects.filter(pk=routing.pk), "cancelled_at", moment=step.at)

    def do_accept(self, plan, step, _plans) -> None:
        routing = self.routing(plan, step.args["department"])
        flow.routing_accept(actor=self.handler(plan, routing), routing=routing, now=step.at)

    def do_handle(self, plan, step, _plans) -> None:
        routing = self.routing(plan, step.args["department"])
        flow.routing_record_handling(
            actor=self.handler(plan, routing),
            routing=routing,
            note=step.args["note"],
            outcome=step.args["outcome"],
            now=step.at,
        )

    def do_reply(self, plan, step, _plans) -> None:
        routing = self.routing(plan, step.args["department"])
        flow.routing_reply(actor=self.handler(plan, routing), routing=routing, reply=step.args["reply"], now=step.at)

    def do_resolve(self, plan, step, _plans) -> None:
        department = step.args["department"]
        ticket = self.keep(
            plan,
            flow.ticket_resolve(
                actor=self.desks[plan.index],
                ticket=self.ticket(plan),
                resolution=step.args["resolution"],
                cause_analysis=step.args["cause"],
                responsible_department=(self.departments.get(department) or self.worker) if department else None,
                now=step.at,
            ),
        )
        # The customer was told of an approved refund with the result, by phone (the
        # demo sends no SMS, so `refund_tell_customer` is not called).
        RefundRequest.objects.filter(ticket=ticket, status="approved", customer_told_at__isnull=True).update(
            customer_told_at=step.at
        )

    def do_confirm(self, plan, step, _plans) -> None:
        ticket = flow.ticket_confirm(
            actor=self.desks[plan.index],
            ticket=self.ticket(plan),
            satisfied=step.args["satisfied"],
            score=step.args["score"],
            note=step.args["note"],
            now=step.at,
        )
        self.keep(plan, ticket)

    def _ended(self, ticket: Ticket, at) -> None:
        self.clock.real(Ticket.objects.filter(pk=ticket.pk), "closed_at", moment=at)
        self.clock.real(TicketRouting.objects.filter(ticket=ticket), "cancelled_at", moment=at)

    def do_close(self, plan, step, _plans) -> None:
        ticket = self.keep(plan, flow.ticket_close(actor=self.desks[plan.index], ticket=self.ticket(plan)))
        self._ended(ticket, step.at)

    def do_withdraw(self, plan, step, _plans) -> None:
        ticket = flow.ticket_withdraw(
            actor=self.desks[plan.index], ticket=self.ticket(plan), reason=step.args["reason"]
        )
        self.keep(plan, ticket)
        self._ended(ticket, step.at)

    def do_duplicate(self, plan, step, plans, merge: bool = False) -> None:
        if plan.original not in self.tickets or plan.original in self.failed:
            raise KefuError("the original demo ticket was not registered")
        ticket = flow.ticket_mark_duplicate(
            actor=self.desks[plan.index], ticket=self.ticket(plan), original=self.tickets[plan.original], merge=merge
        )
        self.keep(plan, ticket)
        self._ended(ticket, step.at)

    def do_merge(self, plan, step, plans) -> None:
        self.do_duplicate(plan, step, plans, merge=True)

    def do_pause(self, plan, step, _plans) -> None:
        ticket = flow.ticket_pause(
            actor=self.desks[plan.index], ticket=self.ticket(plan), reason=step.args["reason"], now=step.at
        )
        self.keep(plan, ticket)

    def do_resume(self, plan, step, _plans) -> None:
        self.keep(plan, flow.ticket_resume(actor=self.desks[plan.index], ticket=self.ticket(plan), now=step.at))

    def do_important(self, plan, step, _plans) -> None:
        ticket = tickets.ticket_mark_important(
            actor=self.chief(plan), ticket=self.ticket(plan), important=True, reason=step.args["reason"]
        )
        self.keep(plan, ticket)
        self.clock.real(Ticket.objects.filter(pk=ticket.pk), "important_at", moment=step.at)

    def do_escalate(self, plan, step, _plans) -> None:
        escalation.ticket_escalate(actor=self.chief(plan), ticket=self.ticket(plan), note=step.args["note"])

    def do_supervise(self, plan, step, _plans) -> None:
        escalation.ticket_supervise(actor=self.chief(plan), ticket=self.ticket(plan), note=step.args["note"])

    def do_comment(self, plan, step, _plans) -> None:
        tickets.ticket_comment(actor=self.desks[plan.index], ticket=self.ticket(plan), body=step.args["body"])

    def do_extension(self, plan, step, _plans) -> None:
        # Read again: the service checks the slip's status and deadline as passed.
        routing = TicketRouting.objects.select_related("ticket", "department").get(
            pk=self.routing(plan, step.args["department"]).pk
        )
        # The service wants a date after today's real deadline: two working days on.
        start = max(routing.due_at, timezone.now())
        until = self.calendar.add_working_minutes(start, 2 * 450)
        extension = escalation.extension_request(
            actor=self.handler(plan, routing), routing=routing, until=until, reason=step.args["reason"]
        )
        self.objects[(plan.index, "extension")] = extension.pk

    def do_grant(self, plan, step, _plans) -> None:
        extension = DeadlineExtension.objects.select_related("routing__ticket").get(
            pk=self.objects[(plan.index, "extension")]
        )
        escalation.extension_decide(actor=self.chief(plan), extension=extension, grant=True, note="同意延期")
        self.clock.real(DeadlineExtension.objects.filter(pk=extension.pk), "decided_at", moment=step.at)

    def do_refund(self, plan, step, _plans) -> None:
        refund = refunds.refund_request(
            actor=self.desks[plan.index],
            ticket=self.ticket(plan),
            amount=step.args["amount"],
            reason=step.args["reason"],
            kind=step.args["kind"],
        )
        self.objects[(plan.index, "refund")] = refund.pk
        self.approvals.append(refund.approval_id)

    def _decide(self, request, who: str, approve: bool, comment: str, at) -> None:
        approval_decide(actor=self.cast[who], request=request, approve=approve, comment=comment)
        self.clock.real(request.steps.all(), "decided_at", moment=at)
        self.clock.real(type(request).objects.filter(pk=request.pk), "decided_at", moment=at)

    def do_decide(self, plan, step, _plans) -> None:
        refund = RefundRequest.objects.select_related("approval").get(pk=self.objects[(plan.index, "refund")])
        self._decide(refund.approval, step.args["who"], step.args["approve"], step.args.get("comment", ""), step.at)
        self.clock.real(RefundRequest.objects.filter(pk=refund.pk), "decided_at", moment=step.at)

    def _proposal(self, step: Step) -> PenaltyProposal:
        staff, month = self.cast[step.args["staff"]], datetime.date.fromisoformat(step.args["month"])
        proposal = PenaltyProposal.objects.select_related("approval").filter(staff=staff, month=month).first()
        if proposal is None:
            raise KefuError("no discipline flag to submit")
        return proposal

    def do_penalty_submit(self, plan, step, _plans) -> None:
        proposal = discipline.penalty_submit(
            actor=self.cast["supervisor"], proposal=self._proposal(step), amount=200, reason=step.args["reason"]
        )
        self.approvals.append(proposal.approval_id)

    def do_penalty_decide(self, plan, step, _plans) -> None:
        self._decide(self._proposal(step).approval, step.args["who"], True, "", step.at)
