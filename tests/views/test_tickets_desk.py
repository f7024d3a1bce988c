"""The service desk's queues: tabs with scoped counts, filters parsed from the query
string, sort and keyset pages, rows without per-row queries, garbage never a 500; the
Excel export (scope, filters, masking, formula neutralising, audit) and the important
complaints archive with its own export; the menu and dashboard registrations."""

import base64
import datetime
import io
import json

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent
from kefu.tickets.models import Ticket
from kefu.tickets.params import filters_from_params
from kefu.tickets.services import flow
from kefu.tickets.services.tickets import ticket_mark_important
from kefu.tickets.views import queues
from tests.factories_customers import make_customer
from tests.factories_tickets import kind, make_ticket

pytestmark = pytest.mark.django_db

LIST = "tickets:list"


def login(client, user):
    client.force_login(user)
    return client


def numbers(response):
    return [t.number for t in response.context["page"].items]


def counts(response):
    return {q["code"]: q["count"] for q in response.context["queues"]}


def cursor_of(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# --- rows, tabs and scope -------------------------------------------------------------


def test_queue_rows_show_number_customer_kind_badges_due_and_assignee(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"], customer_name="王业主", severity="major", title="墙面开裂")
    response = login(client, w["agent"]).get(reverse(LIST))
    html = response.content.decode()
    assert response.status_code == 200
    assert numbers(response) == [ticket.number]
    assert "墙面开裂" in html and "王业主" in html and "投诉" in html
    assert 'data-testid="severity">重大<' in html
    assert 'data-testid="status">已登记<' in html
    assert 'data-sla="on_track"' in html and timezone.localtime(ticket.resolve_due_at).strftime("%m-%d %H:%M") in html
    assert str(w["agent"]) in html
    assert reverse("tickets:detail", args=[ticket.pk]) in html


def test_overdue_and_warning_rows_are_coloured_by_sla_state(client, ticket_world):
    w = ticket_world
    late = make_ticket(w["agent"], region=w["north"])
    soon = make_ticket(w["agent"], region=w["north"], customer=late.customer)
    Ticket.objects.filter(pk=late.pk).update(sla_state="breached")
    Ticket.objects.filter(pk=soon.pk).update(sla_state="warning")
    html = login(client, w["agent"]).get(reverse(LIST)).content.decode()
    assert 'class="text-red fw-bold" data-testid="due" data-sla="breached"' in html
    assert 'class="text-orange fw-bold" data-testid="due" data-sla="warning"' in html


def test_tabs_count_each_queue_within_the_users_scope(client, ticket_world):
    w = ticket_world
    mine = make_ticket(w["agent"], region=w["north"])
    make_ticket(w["agent"], region=w["north"], customer=mine.customer, severity="important")
    make_ticket(w["agent_south"], region=w["south"])
    flow.ticket_route(actor=w["agent"], ticket=mine, departments=[w["engineering"]])
    Ticket.objects.filter(pk=mine.pk).update(sla_state="breached")

    agent = counts(login(client, w["agent"]).get(reverse(LIST)))
    assert agent["all"] == 2 and agent["mine"] == 2 and agent["unrouted"] == 1
    assert agent["overdue"] == 1 and agent["open"] == 2 and agent["important"] == 0

    engineer = login(client, w["engineer"]).get(reverse(LIST))
    assert numbers(engineer) == [mine.number]
    assert counts(engineer)["all"] == 1 and counts(engineer)["department"] == 1

    manager = counts(login(client, w["manager"]).get(reverse(LIST)))
    assert manager["all"] == 3


def test_a_queue_by_its_short_address_or_parameter(client, ticket_world):
    w = ticket_world
    routed = make_ticket(w["agent"], region=w["north"])
    waiting = make_ticket(w["agent"], region=w["north"], customer=routed.customer)
    flow.ticket_route(actor=w["agent"], ticket=routed, departments=[w["engineering"]])
    login(client, w["manager"])
    by_path = client.get(reverse("tickets:queue_unrouted"))
    assert numbers(by_path) == [waiting.number]
    assert by_path.context["filters"].queue == "unrouted"
    assert 'name="queue" value="unrouted"' in by_path.content.decode()
    assert by_path.context["export_url"] == reverse("tickets:export") + "?queue=unrouted"
    assert numbers(client.get(reverse(LIST), {"queue": "unrouted"})) == [waiting.number]
    assert reverse("tickets:queue_due_soon") == "/tickets/due-soon/"


def test_htmx_search_returns_only_the_results(client, ticket_world):
    w = ticket_world
    ticket = make_ticket(w["agent"], region=w["north"], title="厨房漏水")
    make_ticket(w["agent"], region=w["north"], customer=ticket.customer, title="工期延误")
    response = login(client, w["agent"]).get(reverse(LIST), {"q": "漏水"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert numbers(response) == [ticket.number]
    assert 'data-testid="ticket-queues"' not in html and 'data-testid="ticket-table"' in html
    assert "HX-Request" in response["Vary"]


# --- filters ----------------------------------------------------------------------------


def test_every_filter_maps_to_the_selector(client, ticket_world):
    w = ticket_world
    a = make_ticket(w["agent"], region=w["north"], severity="urgent", channel="agency", agency_name="消协")
    b = make_ticket(w["agent"], region=w["north"], customer=a.customer, kind_code="repair")
    c = make_ticket(w["agent"], kind_code="inquiry", customer=None, caller_name="路人", region=w["south"])
    flow.ticket_route(actor=w["agent"], ticket=b, departments=[w["repair"]])
    Ticket.objects.filter(pk=c.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    login(client, w["manager"])

    def hits(**params):
        return set(numbers(client.get(reverse(LIST), params)))

    assert hits(kind=kind("repair").pk) == {b.number}
    assert hits(kind=f"{kind('repair').pk},{kind('inquiry').pk}") == {b.number, c.number}
    assert hits(severity="urgent") == {a.number}
    assert hits(channel="agency") == {a.number}
    assert hits(status="routed") == {b.number}
    assert hits(department=w["repair"].pk) == {b.number}
    assert hits(region=w["north"].pk) == {a.number, b.number}
    assert hits(assignee=w["agent"].pk) == {a.number, b.number, c.number}
    assert hits(sla_state="on_track", kind=kind("inquiry").pk) == {c.number}
    assert hits(q=a.number.lower()) == {a.number}
    assert hits(customer=a.customer_id) == {a.number, b.number}
    today = timezone.localdate().isoformat()
    assert hits(created_from=today) == {a.number, b.number}
    assert hits(created_to=(timezone.localdate() - datetime.timedelta(days=5)).isoformat()) == {c.number}


def test_params_refuse_garbage_with_a_chinese_message():
    for params in (
        {"queue": "nope"},
        {"kind": "abc"},
        {"region": "9" * 30},
        {"status": "nonsense"},
        {"created_from": "2026-13-45"},
        {"created_to": "9999-12-31"},
        {"created_from": "2026-02-01", "created_to": "2026-01-01"},
        {"assignee": ",".join(str(i) for i in range(60))},
        {"kind": "１２"},  # full-width digits are digits to Python, not to the database
    ):
        with pytest.raises(ValidationFailed) as err:
            filters_from_params(params)
        assert err.value.message


def test_params_parse_lists_dates_and_strip_control_characters():
    f = filters_from_params(
        {"q": "\x00TS-1\x1f", "kind": "3，1,3", "severity": "urgent", "created_from": "2026-01-05", "important": "1"}
    )
    assert f.q == "TS-1" and f.kind == [1, 3] and f.severity == ["urgent"]
    assert f.created_from == datetime.date(2026, 1, 5) and f.important is True
    assert filters_from_params({"queue": "overdue"}, queue="important").queue == "important"


GARBAGE = [
    "cursor=%%%garbage",
    "cursor=W1siYSJdXQ",
    f"sort=due&cursor={cursor_of([None, 1])}",
    f"sort=due&cursor={cursor_of(['not-a-date', 1])}",
    f"sort=-id&cursor={cursor_of(['abc'])}",
    f"sort=-id&cursor={cursor_of([10**30])}",
    "kind=abc",
    "region=99999999999999999999999",
    "created_from=2026-13-45",
    "created_to=9999-12-31",
    "sort=;drop table",
    "status=nonsense",
    "queue=../../etc",
    "q=%00",
    "important=maybe",
    "customer=-1",
]
PAGES = ["/tickets/", "/tickets/overdue/", "/tickets/important/", "/tickets/export/", "/tickets/important/export/"]


@pytest.mark.parametrize("url", PAGES)
def test_desk_pages_survive_garbage_parameters(client, ticket_world, url):
    w = ticket_world
    make_ticket(w["manager"], region=w["north"])
    client.raise_request_exception = False
    login(client, w["manager"])
    for query in GARBAGE:
        response = client.get(f"{url}?{query}")
        assert response.status_code < 500, (url, query, response.status_code)


def test_a_bad_filter_is_shown_above_an_empty_list(client, ticket_world):
    w = ticket_world
    make_ticket(w["agent"], region=w["north"])
    response = login(client, w["agent"]).get(reverse(LIST), {"status": "nonsense"})
    assert response.status_code == 200 and numbers(response) == []
    assert "筛选条件无效" in response.content.decode()


# --- sort, pages, query budget ---------------------------------------------------------------


def test_keyset_pages_follow_the_due_order(client, ticket_world, monkeypatch):
    w = ticket_world
    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    first = make_ticket(w["agent"], region=w["north"])
    tickets = [first, *(make_ticket(w["agent"], region=w["north"], customer=first.customer) for _ in range(4))]
    base = timezone.now() + datetime.timedelta(days=1)
    for offset, ticket in zip([3, 1, 4, 0, 2], tickets, strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(resolve_due_at=base + datetime.timedelta(hours=offset))
    expected = [t.number for t in sorted(tickets, key=lambda t: [3, 1, 4, 0, 2][tickets.index(t)])]
    login(client, w["agent"])
    seen, cursor = [], None
    for _page in range(3):
        params = {"sort": "due", **({"cursor": cursor} if cursor else {})}
        response = client.get(reverse(LIST), params)
        seen += numbers(response)
        cursor = response.context["page"].next_cursor
    assert seen == expected and cursor is None
    assert numbers(client.get(reverse(LIST), {"sort": "-id"}))[0] == tickets[-1].number


def _page_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(LIST))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_queue_page_has_no_per_row_queries(client, ticket_world, make_user):
    w = ticket_world
    make_ticket(w["agent"], region=w["north"])
    few = _page_queries(client, w["manager"])
    for index in range(8):
        customer = make_customer(w["manager"], name=f"客户{index}", region=w["south" if index % 2 else "north"])
        agent = make_user("agent", username=f"desk-agent-{index}", region=customer.region)
        make_ticket(agent, customer=customer, kind_code="repair" if index % 3 else "complaint")
    many = _page_queries(client, w["manager"])
    assert Ticket.objects.count() == 9
    assert many == few
    # Session and user, permissions, one count per queue, the page, the panel's choices.
    assert many <= len(queues.QUEUE_ORDER) + 16


# --- export -----------------------------------------------------------------------------------


def _sheet(response):
    content = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))


def _exporter(make_user, region):
    """An agent granted the export alone: no `core.reveal_pii`, so phones are masked."""
    user = make_user("agent", username="exporter", region=region)
    user.user_permissions.add(Permission.objects.get(codename="export_ticket", content_type__app_label="tickets"))
    return user


def test_export_writes_the_filtered_scoped_queue_masked_neutralised_and_audited(client, ticket_world, make_user):
    w = ticket_world
    exporter = _exporter(make_user, w["north"])
    hit = make_ticket(w["agent"], kind_code="inquiry", customer=None, caller_name="路人", caller_phone="13812345678")
    Ticket.objects.filter(pk=hit.pk).update(title='=HYPERLINK("http://evil","点我")', region=w["north"])
    other = make_ticket(w["agent"], region=w["north"])
    make_ticket(w["agent_south"], kind_code="inquiry", customer=None, caller_name="城南", region=w["south"])

    response = login(client, exporter).get(reverse("tickets:export"), {"kind": kind("inquiry").pk, "cursor": "x"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = _sheet(response)
    header, body = rows[0], rows[1:]
    assert header[0] == "工单编号" and "来电号码" in header
    assert [r[0] for r in body] == [hit.number]
    row = dict(zip(header, body[0], strict=False))
    assert row["标题"].startswith("'=HYPERLINK")
    assert row["来电号码"] == "138****5678"
    assert other.number not in [r[0] for r in body]
    event = AuditEvent.objects.get(code="ticket.exported")
    assert event.actor_id == exporter.pk and event.data["rows"] == 1 and event.data["masked"] is True
    assert event.data["filters"]["kind"] == [kind("inquiry").pk] and "cursor" not in event.data["params"]


def test_export_shows_the_full_phone_to_those_who_may_reveal_it(client, ticket_world):
    w = ticket_world
    make_ticket(w["manager"], kind_code="inquiry", customer=None, caller_name="路人", caller_phone="13812345678")
    rows = _sheet(login(client, w["manager"]).get(reverse("tickets:export")))
    assert rows[1][rows[0].index("来电号码")] == "13812345678"
    assert AuditEvent.objects.get(code="ticket.exported").data["masked"] is False


def test_export_needs_the_permission_and_a_bad_filter_goes_back_with_a_message(client, ticket_world):
    w = ticket_world
    assert login(client, w["agent"]).get(reverse("tickets:export")).status_code == 403
    response = login(client, w["manager"]).get(reverse("tickets:export"), {"status": "nonsense"})
    assert response.status_code == 302 and response["Location"].startswith(reverse(LIST))
    assert not AuditEvent.objects.filter(code="ticket.exported").exists()


# --- important complaints archive ----------------------------------------------------------------


def test_important_archive_lists_and_exports_only_flagged_tickets(client, ticket_world):
    w = ticket_world
    flagged = make_ticket(w["agent"], region=w["north"])
    plain = make_ticket(w["agent"], region=w["north"], customer=flagged.customer)
    ticket_mark_important(actor=w["supervisor"], ticket=flagged, important=True, reason="媒体曝光风险")
    login(client, w["manager"])
    page = client.get(reverse("tickets:important"), {"queue": "all"})
    assert numbers(page) == [flagged.number]
    assert "媒体曝光风险" in page.content.decode()
    assert "tickets/important/export/" in page.context["export_url"]

    rows = _sheet(client.get(reverse("tickets:important_export"), {"queue": "all"}))
    assert [r[0] for r in rows[1:]] == [flagged.number]
    assert plain.number not in [r[0] for r in rows]
    event = AuditEvent.objects.get(code="ticket.exported")
    assert event.data["filters"]["queue"] == "important" and event.data["rows"] == 1


def test_important_archive_is_scoped(client, ticket_world):
    w = ticket_world
    south = make_ticket(w["agent_south"], region=w["south"])
    ticket_mark_important(actor=w["manager"], ticket=south, important=True, reason="重复投诉")
    assert numbers(login(client, w["agent"]).get(reverse("tickets:important"))) == []
    assert numbers(login(client, w["agent_south"]).get(reverse("tickets:important"))) == [south.number]


# --- menu and dashboard ------------------------------------------------------------------------------


def test_nav_registers_the_section_pages_and_scoped_counters(ticket_world):
    from kefu.core import navigation
    from kefu.tickets import nav

    w = ticket_world
    nav.register()
    nav.register()  # twice (as start-up may) adds nothing twice
    assert navigation.SECTIONS["tickets"][1] == 20
    ticket = make_ticket(w["agent"], region=w["north"])
    Ticket.objects.filter(pk=ticket.pk).update(sla_state="breached")

    def section(user):
        menu = {s["code"]: [str(i.label) for i in s["items"]] for s in navigation.menu_for(user)}
        return menu.get("tickets", [])

    assert section(w["agent"]) == ["工单队列", "来电登记", "重要投诉档案"]
    assert section(w["engineer"]) == ["工单队列", "重要投诉档案"]
    assert section(w["finance"]) == []
    figures = {str(c["label"]): c for c in navigation.counters_for(w["agent"])}
    assert figures["已超时工单"]["value"] == 1 and figures["我的工单"]["value"] == 1
    assert figures["已超时工单"]["url"] == reverse("tickets:queue_overdue")
    assert {str(c["label"]): c["value"] for c in navigation.counters_for(w["agent_south"])}["已超时工单"] == 0
