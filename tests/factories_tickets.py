"""Ticket test data: the decoration profile's ticket configuration, departments and
tickets created through the services."""

from __future__ import annotations

from kefu.core.models import Department, Region
from kefu.tickets.models import TicketCategory, TicketKind
from kefu.tickets.profile_data import PROFILES
from kefu.tickets.profile_step import ticket_config_load
from kefu.tickets.services.tickets import TicketInput, ticket_create
from tests.factories_customers import make_customer


def load_ticket_config(profile: str = "decoration") -> None:
    """Kinds, categories, SLA policies and the escalation chain (needs the role groups)."""
    ticket_config_load(PROFILES[profile])


def kind(code: str = "complaint") -> TicketKind:
    return TicketKind.objects.get(code=code)


def category(name: str) -> TicketCategory:
    return TicketCategory.objects.get(name=name)


def make_ticket(actor, *, customer=None, kind_code: str = "complaint", **fields):
    """A ticket registered through the service; a customer is made when the kind needs one."""
    k = kind(kind_code)
    now = fields.pop("now", None)
    if customer is None and k.requires_customer:
        customer = make_customer(actor, name=fields.pop("customer_name", "张三"), region=fields.pop("region", None))
    data = TicketInput(
        kind=k,
        title=fields.pop("title", "卫生间漏水"),
        description=fields.pop("description", "业主来电：卫生间地面渗水到楼下。"),
        customer=customer,
        **fields,
    )
    return ticket_create(actor=actor, data=data, now=now)


def build_ticket_world(make_user) -> dict:
    """Two regions, the service desk and two departments, one person per role."""
    load_ticket_config()
    north = Region.objects.create(code="north", name="城北")
    south = Region.objects.create(code="south", name="城南")
    service = Department.objects.create(code="service", name="客服部", kind="service")
    engineering = Department.objects.create(code="engineering", name="工程部")
    repair = Department.objects.create(code="repair", name="维修部")
    w = {
        "north": north,
        "south": south,
        "service": service,
        "engineering": engineering,
        "repair": repair,
        "manager": make_user("manager", username="mgr", scope_all=True, department=service),
        "supervisor": make_user("supervisor", username="sup", department=service, region=north),
        "agent": make_user("agent", username="agent", department=service, region=north),
        "agent_south": make_user("agent", username="agent_s", department=service, region=south),
        "engineer": make_user("department_staff", username="eng", department=engineering),
        "repairer": make_user("department_staff", username="rep", department=repair),
        "director": make_user("director", username="dir", scope_all=True),
        "finance": make_user("finance", username="fin", department=None),
    }
    return w
