"""Test data for the role dashboards: two regions' tickets in several states, categories
and departments, visits due this week (done, failed, planned, overdue), and customers
with classes and sources — and the check every dashboard test makes: each linked figure
and chart segment that counts rows shows exactly as many rows as its list does for the
same user."""

from __future__ import annotations

import datetime
import re

from django.utils import timezone

from kefu.customers.models import CustomerClass, CustomerSource
from kefu.tickets.models import Ticket
from kefu.tickets.services import flow
from kefu.visits.choices import Outcome
from tests.factories_customers import make_customer
from tests.factories_tickets import build_ticket_world, category, make_ticket
from tests.views.visits_support import finish, plan

ROW_MARKERS = {
    "/tickets/": 'data-testid="ticket-row"',
    "/visits/": 'data-testid="visit-row"',
    "/customers/": 'data-testid="customer-row"',
}
# The lists show 50 rows a page: the world stays well below.
PAGE = 50


def build_dashboard_world(make_user) -> dict:
    w = build_ticket_world(make_user)
    today = timezone.localdate()
    manager, agent = w["manager"], w["agent"]
    class_a = CustomerClass.objects.create(code="A", name="A类", visits_per_month=1)
    class_b = CustomerClass.objects.create(code="B", name="B类", visits_per_month=2)
    fair = CustomerSource.objects.create(code="fair", name="展会")
    north = [
        make_customer(manager, name="王一", region=w["north"], customer_class=class_a, source=fair),
        make_customer(manager, name="王二", region=w["north"], customer_class=class_b, is_key_account=True),
        make_customer(manager, name="王三", region=w["north"]),
    ]
    south = make_customer(manager, name="李南", region=w["south"], customer_class=class_a, source=fair)

    cracks, leaks, late = category("墙面开裂"), category("防水渗漏"), category("开工延误")
    t1 = make_ticket(agent, customer=north[0], category=cracks, title="客厅墙面开裂")
    t2 = make_ticket(agent, customer=north[1], category=cracks, title="卧室墙面开裂", severity="important")
    t3 = make_ticket(agent, customer=north[2], category=leaks, title="卫生间渗漏")
    t4 = make_ticket(agent, customer=north[0], category=late, title="开工晚了两周")
    repair = make_ticket(agent, customer=north[1], kind_code="repair", category=category("漏水"), title="水管漏水")
    flow.ticket_route(actor=agent, ticket=t1, departments=[w["engineering"]])
    flow.ticket_route(actor=agent, ticket=t2, departments=[w["engineering"]])
    flow.ticket_route(actor=agent, ticket=repair, departments=[w["repair"]])
    (slip,) = flow.ticket_route(actor=agent, ticket=t3, departments=[w["engineering"]])
    flow.routing_accept(actor=w["engineer"], routing=slip)
    flow.routing_reply(actor=w["engineer"], routing=slip, reply="已修补")
    t3 = Ticket.objects.get(pk=t3.pk)
    flow.ticket_resolve(actor=agent, ticket=t3, resolution="已修补防水层", responsible_department=w["engineering"])
    # Deadline states as the supervision job leaves them.
    Ticket.objects.filter(pk=t1.pk).update(sla_state="breached", escalation_level=1)
    Ticket.objects.filter(pk=t2.pk).update(sla_state="warning")
    Ticket.objects.filter(pk=t4.pk).update(sla_state="breached")
    # The south region's ticket: the north supervisor must not count it.
    s1 = make_ticket(w["agent_south"], customer=south, category=cracks, title="南区墙面开裂")
    Ticket.objects.filter(pk=s1.pk).update(sla_state="breached")

    v_done = plan(w, assignee=agent, customer=north[0])
    finish(v_done, satisfaction=5, nps=10)
    v_failed = plan(w, assignee=agent, customer=north[1])
    finish(v_failed, outcome=Outcome.NO_ANSWER)
    plan(w, assignee=agent, customer=north[2])  # due today, planned
    # Due yesterday and not done: overdue.
    plan(w, assignee=agent, customer=north[0], due=today - datetime.timedelta(days=1))
    plan(w, assignee=w["agent_south"], customer=south, region=w["south"])
    w.update({"tickets": [t1, t2, t3, t4, repair, s1], "today": today, "class_a": class_a, "fair": fair})
    return w


def rows_on(client, url: str) -> int:
    """The number of rows the list at `url` shows (one page; the world is small)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    marker = next(m for prefix, m in ROW_MARKERS.items() if url.startswith(prefix))
    count = html.count(marker)
    assert count < PAGE, f"{url} fills a page; keep the test data smaller"
    assert 'data-testid="ticket-filter-error"' not in html and 'data-testid="visit-filter-error"' not in html, url
    return count


def linked_counts(dashboard) -> list[tuple[str, int | float, str]]:
    """(what, value, url) of every figure and segment that promises a row count."""
    out = []
    for widget in dashboard.widgets:
        for figure in widget.figures:
            if figure.url and figure.exact and figure.value is not None:
                out.append((f"{widget.key}/{figure.key}", figure.value, figure.url))
        for segment in widget.segments():
            if segment["url"] and segment["counts"]:
                out.append(
                    (f"{widget.key}/{segment['series']}/{segment['category']}", segment["value"], segment["url"])
                )
    return out


def assert_counts_match(client, dashboard) -> int:
    """Every promised count equals the rows of its list; returns how many were checked."""
    checked = linked_counts(dashboard)
    mismatches = [(what, value, url, n) for what, value, url in checked if (n := rows_on(client, url)) != value]
    assert not mismatches, mismatches
    return len(checked)


def figure(dashboard, widget_key: str, figure_key: str):
    widget = next(w for w in dashboard.widgets if w.key == widget_key)
    return next(f for f in widget.figures if f.key == figure_key)


def widget(dashboard, key: str):
    return next(w for w in dashboard.widgets if w.key == key)


def query_of(url: str) -> dict[str, str]:
    return dict(re.findall(r"[?&]([^=&]+)=([^&]*)", url))


def add_empty_groups(w) -> dict:
    """What the lists used to be unable to select (issue 6 follow-up): an uncategorised,
    unassigned complaint without a responsible department; a complaint handled late and
    then withdrawn (it keeps resolved_at, so the reports still count it as resolved and
    breached, while no status list holds it); a visit of nobody (a team's), due today;
    a reached visit that brought an arrival and a deal; a customer without region."""
    from kefu.visits.models import Visit

    agent = w["agent"]
    north = w["tickets"][0].customer
    bare = make_ticket(agent, customer=north, title="没有分类的投诉")
    Ticket.objects.filter(pk=bare.pk).update(assignee=None, sla_state="breached")
    late = make_ticket(agent, customer=north, category=category("开工延误"), title="处理晚了又撤销")
    (slip,) = flow.ticket_route(actor=agent, ticket=late, departments=[w["engineering"]])
    flow.routing_accept(actor=w["engineer"], routing=slip)
    flow.routing_reply(actor=w["engineer"], routing=slip, reply="已协调开工")
    late = Ticket.objects.get(pk=late.pk)
    flow.ticket_resolve(actor=agent, ticket=late, resolution="已协调", responsible_department=w["engineering"])
    flow.ticket_withdraw(actor=agent, ticket=Ticket.objects.get(pk=late.pk), reason="客户撤销")
    # Handled after its deadline, as the services store it.
    Ticket.objects.filter(pk=late.pk).update(sla_state="breached")
    team_visit = plan(w, customer=north)
    Visit.objects.filter(pk=team_visit.pk).update(assignee=None, team=w["service"])
    deal = plan(w, assignee=agent, customer=north)
    finish(deal, satisfaction=4, nps=9, arrived=True, deal=True, deal_amount=5000)
    nowhere = make_customer(w["manager"], name="无片区客户", phone="13900000001")
    w.update({"bare": bare, "withdrawn": late, "team_visit": team_visit, "deal_visit": deal, "nowhere": nowhere})
    return w


def point(dashboard, widget_key: str, series: str, category: str):
    """The point of `series` at `category` in a chart widget."""
    chart = widget(dashboard, widget_key)
    index = chart.categories.index(category)
    return next(s for s in chart.series if s.name == series).points[index]
