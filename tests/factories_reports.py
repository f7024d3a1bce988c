"""A generated data set for the reports: tickets across regions, departments,
categories, channels and severities with known working-hour durations across the 2026
National Day holidays (and the Mid-Autumn days before them), visits with outcomes and
answers, and customers with classes, sources, lifecycles and decoration dates.

Tickets go through the real services with `now=` (so the stored working minutes are
the services'); the plan of each ticket is kept next to it, and `expected_minutes`
computes working time independently of `kefu.core.workcal` (hand-written holiday
table), so tests check the figures against plain Python over the plans.

    world = build_report_world(make_user)
    world["tickets"]  -> list[PlannedTicket] (plan + stored ticket id)
    world["visits"]   -> list[Visit]
    world["customers"] -> dict of named customers

The report period of interest is October 2026 (`PERIOD`); September 2026 and
October 2025 hold the previous period and the same period last year."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from kefu.core.services.calendar import calendar_seed
from kefu.customers.models import Customer, CustomerClass, CustomerSource, ProductCategory, TimelineEntry
from kefu.customers.profile_data import ARCHIVE_PROFILES
from kefu.customers.profile_step import archive_config_load
from kefu.customers.services.customers import customer_update
from kefu.tickets.models import Ticket, TicketCategory
from kefu.tickets.services import flow
from kefu.visits.choices import Outcome, VisitStatus
from kefu.visits.models import Visit, VisitRule
from kefu.visits.profile_data import PROFILES as VISIT_PROFILES
from kefu.visits.profile_step import visit_config_load
from tests.factories_customers import make_customer
from tests.factories_tickets import build_ticket_world, make_ticket

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = "2026-10"

# The statutory calendar of the months used, written out by hand (State Council
# announcements), independent of chinese-calendar and of the CalendarDay rows.
HOLIDAYS = {
    *(datetime.date(2025, 10, d) for d in range(1, 9)),
    datetime.date(2026, 9, 25),
    datetime.date(2026, 9, 26),
    datetime.date(2026, 9, 27),
    *(datetime.date(2026, 10, d) for d in range(1, 8)),
}
WORKDAYS = {
    datetime.date(2025, 9, 28),
    datetime.date(2025, 10, 11),
    datetime.date(2026, 9, 20),
    datetime.date(2026, 10, 10),
}
SESSIONS = ((9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60))  # minutes from midnight
DAY = 450

# Resolution allowance in working minutes per (kind, severity) — the decoration
# profile's policies (complaints 3 days, repairs 3 days, urgent 240 minutes).
RESOLVE_MINUTES = {
    ("complaint", "normal"): 3 * DAY,
    ("complaint", "important"): 2 * DAY,
    ("complaint", "major"): DAY,
    ("complaint", "urgent"): 240,
    ("repair", "normal"): 3 * DAY,
    ("repair", "important"): 3 * DAY,
    ("repair", "urgent"): 240,
}


def is_working_day(day: datetime.date) -> bool:
    if day in HOLIDAYS:
        return False
    return day in WORKDAYS or day.isoweekday() <= 5


def expected_minutes(start: datetime.datetime, end: datetime.datetime) -> int:
    """Working minutes between two moments, day by day over the hand-written calendar."""
    start, end = start.astimezone(TZ), end.astimezone(TZ)
    total = 0
    day = start.date()
    while day <= end.date():
        if is_working_day(day):
            lo = start.hour * 60 + start.minute if day == start.date() else 0
            hi = end.hour * 60 + end.minute if day == end.date() else 24 * 60
            for s, e in SESSIONS:
                total += max(0, min(e, hi) - max(s, lo))
        day += datetime.timedelta(days=1)
    return total


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=TZ)


@dataclass
class TicketPlan:
    created: datetime.datetime
    kind: str
    category: str | None
    region: str  # "north" | "south"
    channel: str
    severity: str
    department: str | None = None  # routed to (engineering | repair); None: never routed
    routed: datetime.datetime | None = None
    resolved: datetime.datetime | None = None
    responsible: str | None = None  # named at resolution (else the routed one stays)
    score: int | None = None  # satisfied with this score
    reopened: datetime.datetime | None = None  # not satisfied (score 2) at this time
    resolved_again: datetime.datetime | None = None


@dataclass
class PlannedTicket:
    plan: TicketPlan
    pk: int

    # -- what the figures should find, from the plan alone

    @property
    def final_resolved(self) -> datetime.datetime | None:
        if self.plan.reopened is not None:
            return self.plan.resolved_again
        return self.plan.resolved

    @property
    def resolution_minutes(self) -> int | None:
        end = self.final_resolved
        return None if end is None else expected_minutes(self.plan.created, end)

    @property
    def response_minutes(self) -> int | None:
        return None if self.plan.routed is None else expected_minutes(self.plan.created, self.plan.routed)

    @property
    def breached(self) -> bool:
        """Resolved later than the allowance of its (last) cycle."""
        end = self.final_resolved
        start = self.plan.reopened or self.plan.created
        allowance = RESOLVE_MINUTES[(self.plan.kind, self.plan.severity)]
        # Late = the allowance was used up before the resolution minute (a resolution
        # at night after a deadline of 18:00 is late with no more working minutes).
        return end is not None and expected_minutes(start, end - datetime.timedelta(minutes=1)) >= allowance

    @property
    def satisfaction(self) -> int | None:
        if self.plan.reopened is not None:
            return 2  # the unsatisfied score stays until a new confirmation
        return self.plan.score

    @property
    def is_open(self) -> bool:
        return self.final_resolved is None

    @property
    def department(self) -> str | None:
        return self.plan.responsible or self.plan.department

    @property
    def escalated(self) -> bool:
        # An emergency escalates at registration; reopening starts again at level 0.
        return self.plan.severity == "urgent" and self.plan.reopened is None


COMPLAINT_CATEGORIES = ["墙面开裂", "防水渗漏", "水电问题", "开工延误", "设计师", "材料质量", "增项费用", None]
REPAIR_CATEGORIES = ["漏水", "电路", "木作维修", None]
CHANNELS = ["phone", "phone", "onsite", "messaging", "web"]
SEVERITIES = ["normal"] * 6 + ["important"] * 3 + ["major"] + ["urgent"]


def _moment(rng: random.Random, day: datetime.date) -> datetime.datetime:
    return at(day.year, day.month, day.day, rng.randint(8, 19), rng.choice([0, 7, 15, 23, 30, 41, 45, 52]))


def plan_tickets(rng: random.Random, *, month: datetime.date, count: int) -> list[TicketPlan]:
    """`count` tickets registered in `month`, handled over the following days (some
    across the holidays, some never resolved, some reopened)."""
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    days = (next_month - month).days
    plans = []
    for _n in range(count):
        kind = "complaint" if rng.random() < 0.7 else "repair"
        severity = rng.choice(SEVERITIES)
        if kind == "repair" and severity == "major":
            severity = "important"
        plan = TicketPlan(
            created=_moment(rng, month + datetime.timedelta(days=rng.randrange(days))),
            kind=kind,
            category=rng.choice(COMPLAINT_CATEGORIES if kind == "complaint" else REPAIR_CATEGORIES),
            region=rng.choice(["north", "south"]),
            channel=rng.choice(CHANNELS),
            severity=severity,
        )
        fate = rng.random()
        if fate < 0.1:
            plans.append(plan)  # registered, never routed
            continue
        plan.department = "engineering" if kind == "complaint" else "repair"
        plan.routed = plan.created + datetime.timedelta(minutes=rng.randint(5, 900))
        if fate < 0.25:
            plans.append(plan)  # routed, still being handled
            continue
        plan.resolved = plan.routed + datetime.timedelta(minutes=rng.randint(30, 9 * 24 * 60))
        if kind == "complaint" and rng.random() < 0.2:
            plan.responsible = "repair"
        outcome = rng.random()
        if outcome < 0.6:
            plan.score = rng.randint(3, 5)
        elif outcome < 0.75:
            plan.reopened = plan.resolved + datetime.timedelta(hours=rng.randint(2, 30))
            if rng.random() < 0.6:
                plan.resolved_again = plan.reopened + datetime.timedelta(minutes=rng.randint(60, 3 * 24 * 60))
        plans.append(plan)
    return plans


def _customers_by_region(world) -> dict[str, list[Customer]]:
    return {
        name: [
            make_customer(world["manager"], name=f"{world[name].name}客户{i}", phone="", region=world[name])
            for i in range(3)
        ]
        for name in ("north", "south")
    }


def create_ticket(world, plan: TicketPlan, customer: Customer) -> Ticket:
    """The plan played through the services, each step at its planned time."""
    agent = world["agent"] if plan.region == "north" else world["agent_south"]
    category = TicketCategory.objects.get(name=plan.category) if plan.category else None
    ticket = make_ticket(
        agent,
        customer=customer,
        kind_code=plan.kind,
        category=category,
        channel=plan.channel,
        severity=plan.severity,
        now=plan.created,
    )
    if plan.department is None:
        return ticket
    worker = world["engineer"] if plan.department == "engineering" else world["repairer"]
    (routing,) = flow.ticket_route(actor=agent, ticket=ticket, departments=[world[plan.department]], now=plan.routed)
    if plan.resolved is None:
        return ticket
    flow.routing_reply(actor=worker, routing=routing, reply="已处理", now=plan.resolved - datetime.timedelta(minutes=1))
    responsible = world[plan.responsible] if plan.responsible else None
    ticket.refresh_from_db()
    ticket = flow.ticket_resolve(
        actor=agent, ticket=ticket, resolution="已处理", responsible_department=responsible, now=plan.resolved
    )
    if plan.score is not None:
        flow.ticket_confirm(actor=agent, ticket=ticket, satisfied=True, score=plan.score, now=plan.resolved)
    elif plan.reopened is not None:
        ticket = flow.ticket_confirm(
            actor=agent, ticket=ticket, satisfied=False, score=2, note="仍有问题", now=plan.reopened
        )
        if plan.resolved_again is not None:
            routing.refresh_from_db()
            flow.routing_reply(
                actor=worker, routing=routing, reply="返修完成", now=plan.resolved_again - datetime.timedelta(minutes=1)
            )
            ticket.refresh_from_db()
            flow.ticket_resolve(actor=agent, ticket=ticket, resolution="返修", now=plan.resolved_again)
    return ticket


# ---------------------------------------------------------------------------- visits


@dataclass
class VisitPlan:
    customer: Customer
    due: datetime.date
    status: str
    assignee_key: str
    outcome: str = ""
    satisfaction: int | None = None
    nps: int | None = None
    arrived: bool = False
    deal: bool = False
    amount: Decimal | None = None
    rule: VisitRule | None = None
    visit_type: str = "定期跟踪"
    channel: str = "phone"
    extra: dict = field(default_factory=dict)


def _visit(world, plan: VisitPlan) -> Visit:
    """A visit as the planner and the call screen leave it (visit_record cannot be given
    a past time, so the outcome fields are stored as it stores them)."""
    done = plan.status in (VisitStatus.DONE, VisitStatus.FAILED)
    done_at = at(plan.due.year, plan.due.month, plan.due.day, 10, 30) if done else None
    assignee = world[plan.assignee_key]
    answers = {}
    if plan.status == VisitStatus.DONE:
        answers = {"overall": plan.satisfaction, **({"recommend": plan.nps} if plan.nps is not None else {})}
    return Visit.objects.create(
        customer=plan.customer,
        rule=plan.rule,
        period_key=f"test:{plan.customer.pk}:{plan.due.isoformat()}:{Visit.objects.count()}",
        visit_type=plan.rule.visit_type if plan.rule else plan.visit_type,
        due_date=plan.due,
        assignee=assignee,
        region=plan.customer.region,
        status=plan.status,
        channel=plan.channel,
        attempts=1 if done else 0,
        outcome=plan.outcome,
        answers=answers,
        satisfaction=plan.satisfaction,
        nps=plan.nps,
        arrived=plan.arrived,
        deal=plan.deal,
        deal_amount=plan.amount,
        done_at=done_at,
        done_by=assignee if done else None,
    )


def plan_visits(rng: random.Random, world, customers: list[Customer]) -> list[VisitPlan]:
    """Visits due in September–November 2026 of the given customers, by both agents
    and the account managers, with every outcome."""
    rules = {r.customer_class_id: r for r in VisitRule.objects.filter(kind="cadence")}
    plans = []
    for customer in customers:
        for month in (9, 10, 11):
            for _n in range(rng.randint(1, 3)):
                due = datetime.date(2026, month, rng.randint(1, 28))
                north = customer.region_id == world["north"].pk
                assignee = rng.choice(["agent", "am_north"] if north else ["agent_south", "am_south"])
                fate = rng.random()
                plan = VisitPlan(
                    customer=customer,
                    due=due,
                    status=VisitStatus.PLANNED,
                    assignee_key=assignee,
                    rule=rules.get(customer.customer_class_id),
                    channel=rng.choice(["phone", "phone", "onsite", "messaging"]),
                )
                if fate < 0.55:
                    plan.status, plan.outcome = VisitStatus.DONE, Outcome.REACHED
                    plan.satisfaction = rng.randint(1, 5)
                    plan.nps = rng.choice([None, 3, 6, 7, 8, 9, 10])
                    plan.arrived = rng.random() < 0.5
                    plan.deal = plan.arrived and rng.random() < 0.5
                    plan.amount = Decimal(rng.randint(1000, 50000)) if plan.deal else None
                elif fate < 0.7:
                    plan.status, plan.outcome = VisitStatus.FAILED, rng.choice([Outcome.NO_ANSWER, Outcome.REFUSED])
                elif fate < 0.78:
                    plan.status = VisitStatus.CANCELLED
                plans.append(plan)
    return plans


# ---------------------------------------------------------------------------- customers


def _customer_set(world) -> dict[str, Customer]:
    """Named customers covering classes, sources, categories, lifecycles, key accounts
    and decoration dates (finish_date in October 2026 → 完工客户月报)."""
    classes = {c.code: c for c in CustomerClass.objects.all()}
    sources = list(CustomerSource.objects.order_by("pk"))
    categories = list(ProductCategory.objects.order_by("pk"))
    manager = world["manager"]
    spec = [
        # name, region, class, key account, source index, lifecycle, created, lost at, extra
        ("北一", "north", "A", True, 0, "active", at(2026, 10, 3, 10), None, {"finish_date": "2026-10-12"}),
        ("北二", "north", "B", False, 1, "active", at(2026, 9, 10, 10), None, {"finish_date": "2026-10-31"}),
        ("北三", "north", "C", False, 2, "lost", at(2026, 3, 1, 10), at(2026, 10, 20, 15), {}),
        ("北四", "north", "A", True, 0, "lost", at(2025, 5, 1, 10), at(2026, 9, 20, 15), {}),
        ("北五", "north", None, False, None, "potential", at(2026, 10, 28, 10), None, {"finish_date": "2026-11-01"}),
        ("南一", "south", "A", True, 3, "active", at(2026, 10, 15, 10), None, {"finish_date": "2026-10-01"}),
        ("南二", "south", "B", False, 4, "lost", at(2026, 10, 5, 10), None, {}),  # entered as lost, no change record
        ("南三", "south", "C", True, 1, "active", at(2024, 1, 1, 10), None, {"finish_date": "2026-09-30"}),
        ("南四", "south", "B", False, 2, "lost", at(2026, 1, 1, 10), at(2026, 10, 1, 0, 0), {}),
        ("南五", "south", "A", False, 0, "potential", at(2026, 11, 2, 10), None, {}),
    ]
    customers = {}
    for name, region, cls, key, source, lifecycle, created, lost_at, extra in spec:
        owner = world["am_north"] if region == "north" else world["am_south"]
        initial = "lost" if lost_at is None and lifecycle == "lost" else ("active" if lost_at else lifecycle)
        extra = {
            **extra,
            **({"designer": f"{name}设计师", "foreman": "王工长", "contract_date": "2026-05-01"} if extra else {}),
        }
        if extra.get("finish_date"):
            extra["start_date"] = "2026-06-01"
        customer = make_customer(
            manager,
            name=f"客户{name}",
            phone="",
            region=world[region],
            owner=owner,
            customer_class=classes.get(cls) if cls else None,
            is_key_account=key,
            source=sources[source] if source is not None else None,
            categories=[categories[len(customers) % len(categories)]],
            lifecycle=initial,
            extra=extra,
        )
        Customer.objects.filter(pk=customer.pk).update(created_at=created)
        if lost_at is not None:
            customer_update(actor=manager, customer=customer, values={"lifecycle": "lost"}, expected_version=None)
            TimelineEntry.objects.filter(customer=customer, kind="customer.lifecycle_changed").update(at=lost_at)
        customer.refresh_from_db()
        customers[name] = customer
    return customers


# ---------------------------------------------------------------------------- the world


def build_report_world(make_user, *, seed: int = 6, tickets_in_period: int = 40) -> dict:
    """Everything at once: organisation, configuration, tickets (October 2026 plus
    September 2026 and October 2025), customers and visits."""
    world = build_ticket_world(make_user)
    calendar_seed(years=[2025, 2026])
    archive_config_load(ARCHIVE_PROFILES["decoration"])
    world["supervisor_south"] = make_user(
        "supervisor", username="sup_s", department=world["service"], region=world["south"]
    )
    world["am_north"] = make_user(
        "account_manager", username="am_n", region=world["north"], scope_regions=[world["north"]]
    )
    world["am_south"] = make_user(
        "account_manager", username="am_s", region=world["south"], scope_regions=[world["south"]]
    )
    rng = random.Random(seed)
    plans = plan_tickets(rng, month=datetime.date(2026, 10, 1), count=tickets_in_period)
    plans += plan_tickets(rng, month=datetime.date(2026, 9, 1), count=8)
    plans += plan_tickets(rng, month=datetime.date(2025, 10, 1), count=6)
    by_region = _customers_by_region(world)
    tickets = []
    for index, plan in enumerate(plans):
        customer = by_region[plan.region][index % 3]
        tickets.append(PlannedTicket(plan=plan, pk=create_ticket(world, plan, customer).pk))
    world["tickets"] = tickets
    # Visit rules only now: the ticket-confirmation rule would otherwise plan a call for
    # each resolution above, due after the real today.
    visit_config_load(VISIT_PROFILES["decoration"])
    world["customers"] = _customer_set(world)
    visit_plans = plan_visits(rng, world, list(world["customers"].values()))
    world["visits"] = [_visit(world, plan) for plan in visit_plans]
    world["visit_plans"] = visit_plans
    return world


def in_period(tickets: list[PlannedTicket], start: datetime.date, end: datetime.date) -> list[PlannedTicket]:
    return [t for t in tickets if start <= t.plan.created.date() < end]


def nearest_rank(values: list[float], fraction: float = 0.9) -> float | None:
    """The smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    for value in ordered:
        if sum(1 for v in ordered if v <= value) >= fraction * len(ordered):
            return value
    return ordered[-1]
