"""The list filters the statistics click through to: `none` (not set) for the ticket
list's category / responsible department / region / assignee and the customer archive's
class / region / source, alone or with ids; the ticket list's `resolved` (resolved_at
set, as the reports count it) and resolution-deadline dates; the visit team list's
outcome, arrival and deal flags, `finished` status and unassigned visits. On the HTML
lists and the APIs that share the parser, bad values refused in Chinese, query counts
independent of the data, and an active filter the panel cannot show is a removable chip."""

from __future__ import annotations

import pytest

from kefu.core.errors import ValidationFailed
from kefu.core.tokens import token_create
from kefu.customers import params as customer_params
from kefu.customers.selectors import customer_list
from kefu.tickets import params as ticket_params
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import ticket_list
from kefu.visits.models import Visit
from tests.views.dashboard_support import add_empty_groups, build_dashboard_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(make_user):
    return add_empty_groups(build_dashboard_world(make_user))


def _numbers(client, url: str) -> set[str]:
    import re

    response = client.get(url)
    assert response.status_code == 200, url
    return set(re.findall(r'data-testid="ticket-row" data-number="([^"]+)"', response.content.decode()))


def _api(client, user, path: str, **params):
    _token, raw = token_create(user=user, name="test")
    return client.get(f"/api/v1{path}", params, HTTP_AUTHORIZATION=f"Bearer {raw}")


# ---------------------------------------------------------------------------- tickets: parsing


@pytest.mark.parametrize("key", ["category", "responsible_department", "region", "assignee"])
def test_ticket_params_take_none_alone_or_with_ids(key):
    alone = ticket_params.filters_from_params({key: "none"})
    assert alone.none_of == [key] and getattr(alone, key) == []
    both = ticket_params.filters_from_params({key: "7,NONE"})
    assert both.none_of == [key] and getattr(both, key) == [7]


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"kind": "none"}, "kind", "筛选条件无效"),
        ({"category": "无"}, "category", "筛选条件无效"),
        ({"resolved": "maybe"}, "resolved", "应为 1 或 0"),
        ({"due_to": "2026-02-30"}, "due_to", "日期格式不正确"),
        ({"due_from": "2026-03-02", "due_to": "2026-03-01"}, "due_from", "开始日期不能晚于结束日期"),
    ],
)
def test_ticket_params_refuse_bad_values_in_chinese(params, field, text):
    with pytest.raises(ValidationFailed) as err:
        ticket_params.filters_from_params(params)
    assert text in err.value.message and err.value.details["field"] == field


# ---------------------------------------------------------------------------- tickets: selecting


def test_ticket_none_selects_exactly_the_unset_ones(w):
    manager = w["manager"]

    def pks(**params):
        return set(
            ticket_list(user=manager, filters=ticket_params.filters_from_params(params)).values_list("pk", flat=True)
        )

    everything = Ticket.objects.all()
    assert pks(category="none") == set(everything.filter(category__isnull=True).values_list("pk", flat=True))
    assert pks(category="none") == {w["bare"].pk}
    cracks = w["tickets"][0].category_id
    assert pks(category=f"none,{cracks}") == set(
        everything.filter(category__isnull=True).values_list("pk", flat=True)
    ) | set(everything.filter(category=cracks).values_list("pk", flat=True))
    assert pks(assignee="none") == {w["bare"].pk}
    assert pks(responsible_department="none") == set(
        everything.filter(responsible_department__isnull=True).values_list("pk", flat=True)
    )
    assert w["tickets"][3].pk in pks(responsible_department="none")  # t4, never routed
    assert pks(region="none") == set(everything.filter(region__isnull=True).values_list("pk", flat=True))


def test_ticket_none_stays_inside_the_scope(w):
    # The south's ticket has no responsible department either: the north supervisor
    # does not get it through `none`.
    south = w["tickets"][5]
    supervisor = ticket_list(
        user=w["supervisor"], filters=ticket_params.filters_from_params({"responsible_department": "none"})
    )
    manager = ticket_list(
        user=w["manager"], filters=ticket_params.filters_from_params({"responsible_department": "none"})
    )
    assert south.pk in set(manager.values_list("pk", flat=True))
    assert south.pk not in set(supervisor.values_list("pk", flat=True))


def test_resolved_keeps_a_ticket_withdrawn_after_its_handling(w):
    manager = w["manager"]
    withdrawn = Ticket.objects.get(pk=w["withdrawn"].pk)
    assert withdrawn.status == "withdrawn" and withdrawn.resolved_at is not None
    resolved = set(
        ticket_list(user=manager, filters=ticket_params.filters_from_params({"resolved": "1"})).values_list(
            "pk", flat=True
        )
    )
    assert resolved == set(Ticket.objects.filter(resolved_at__isnull=False).values_list("pk", flat=True))
    assert withdrawn.pk in resolved and w["tickets"][2].pk in resolved  # and t3, handled
    never = ticket_list(user=manager, filters=ticket_params.filters_from_params({"resolved": "0"}))
    assert set(never.values_list("pk", flat=True)) == set(
        Ticket.objects.filter(resolved_at__isnull=True).values_list("pk", flat=True)
    )


def test_due_dates_select_on_the_resolution_deadline(w):
    import datetime

    from django.utils import timezone

    today = w["today"]
    t1, t2 = w["tickets"][0], w["tickets"][1]
    Ticket.objects.exclude(pk__in=[t1.pk, t2.pk]).update(resolve_due_at=None)
    Ticket.objects.filter(pk=t1.pk).update(resolve_due_at=timezone.now())
    Ticket.objects.filter(pk=t2.pk).update(resolve_due_at=timezone.now() + datetime.timedelta(days=3))
    manager = w["manager"]

    def pks(**params):
        return set(
            ticket_list(user=manager, filters=ticket_params.filters_from_params(params)).values_list("pk", flat=True)
        )

    assert pks(due_to=today.isoformat()) == {t1.pk}
    assert pks(due_from=(today + datetime.timedelta(days=1)).isoformat()) == {t2.pk}


# ---------------------------------------------------------------------------- tickets: pages and API


def test_ticket_list_page_filters_by_none_and_shows_a_chip(client, w):
    client.force_login(w["manager"])
    response = client.get("/tickets/", {"category": "none", "resolved": "0"})
    html = response.content.decode()
    assert _numbers(client, "/tickets/?category=none&resolved=0") == {w["bare"].number}
    assert 'data-testid="filter-chip-category"' in html and "分类：未分类" in html
    assert 'data-testid="filter-chip-resolved"' in html
    # The chip keeps the filter when the panel is submitted, and removes only itself.
    assert '<input type="hidden" name="category" value="none">' in html
    assert 'href="/tickets/?resolved=0"' in html


def test_ticket_list_page_names_the_responsible_department_of_a_chip(client, w):
    client.force_login(w["manager"])
    html = client.get("/tickets/", {"responsible_department": f"{w['engineering'].pk},none"}).content.decode()
    assert "责任部门：工程部、未指定部门" in html


def test_ticket_list_page_refuses_a_bad_value_in_chinese(client, w):
    client.force_login(w["manager"])
    html = client.get("/tickets/", {"resolved": "yes-please"}).content.decode()
    assert 'data-testid="ticket-filter-error"' in html and "筛选条件无效：resolved" in html
    assert 'data-testid="ticket-row"' not in html


def test_ticket_api_takes_the_same_filters(client, w):
    response = _api(client, w["manager"], "/tickets", category="none")
    assert response.status_code == 200
    assert [item["number"] for item in response.json()["items"]] == [w["bare"].number]
    response = _api(client, w["manager"], "/tickets", resolved="1", sla_state="breached")
    assert {item["number"] for item in response.json()["items"]} == {w["withdrawn"].number}
    bad = _api(client, w["manager"], "/tickets", assignee="nobody")
    assert bad.status_code == 422 and "筛选条件无效" in bad.json()["message"]
    assert bad.json()["code"] == "validation_error" and bad.json()["details"]["field"] == "assignee"


def test_ticket_none_filters_cost_no_query_per_row(client, w):
    from tests.factories_tickets import make_ticket

    def run() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            _api(client, w["manager"], "/tickets", category="none", assignee="none", responsible_department="none")
        return len(ctx.captured_queries)

    before = run()
    for n in range(5):
        t = make_ticket(w["agent"], customer=w["tickets"][0].customer, title=f"又一张没有分类的 {n}")
        Ticket.objects.filter(pk=t.pk).update(assignee=None)
    assert run() == before


# ---------------------------------------------------------------------------- visits


def _visit_rows(client, **params) -> int:
    response = client.get("/visits/", {"tab": "team", **params})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="visit-filter-error"' not in html
    return html.count('data-testid="visit-row"')


def test_visit_team_list_filters_unassigned_outcome_flags_and_finished(client, w):
    client.force_login(w["supervisor"])
    visible = Visit.objects.filter(region=w["north"])
    assert _visit_rows(client, assignee="none") == visible.filter(assignee__isnull=True, status="planned").count() == 1
    assert _visit_rows(client, status="finished") == visible.filter(status__in=["done", "failed"]).count() == 3
    assert _visit_rows(client, status="all", outcome="reached") == visible.filter(outcome="reached").count() == 2
    assert _visit_rows(client, status="all", outcome="no_answer") == 1
    assert _visit_rows(client, status="all", arrived="1") == visible.filter(arrived=True).count() == 1
    assert _visit_rows(client, status="all", deal="1") == 1
    assert _visit_rows(client, status="done", deal="0") == visible.filter(status="done", deal=False).count() == 1


def test_visit_team_list_shows_the_new_filters_in_its_panel(client, w):
    client.force_login(w["supervisor"])
    html = client.get("/visits/", {"tab": "team", "assignee": "none", "status": "finished"}).content.decode()
    assert '<option value="none" selected>未分配</option>' in html
    assert '<option value="finished" selected>' in html
    for name in ("outcome", "arrived", "deal"):
        assert f'name="{name}"' in html


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"outcome": "maybe"}, "回访结果"),
        ({"arrived": "yes"}, "已到院/到店"),
        ({"assignee": "nobody"}, "回访人"),
        ({"status": "finished-ish"}, "状态"),
        ({"due_from": "2026-03-02", "due_to": "2026-03-01"}, "开始日期不能晚于结束日期"),
    ],
)
def test_visit_team_list_refuses_bad_values_in_chinese(client, w, params, text):
    client.force_login(w["supervisor"])
    html = client.get("/visits/", {"tab": "team", **params}).content.decode()
    assert 'data-testid="visit-filter-error"' in html and text in html
    assert 'data-testid="visit-row"' not in html


def test_visit_filters_cost_no_query_per_row(client, w):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.views.visits_support import plan

    client.force_login(w["supervisor"])

    def run() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get("/visits/", {"tab": "team", "assignee": "none", "status": "all"})
        return len(ctx.captured_queries)

    before = run()
    for _n in range(4):
        visit = plan(w, customer=w["tickets"][0].customer)
        Visit.objects.filter(pk=visit.pk).update(assignee=None)
    assert run() == before


# ---------------------------------------------------------------------------- customers


@pytest.mark.parametrize("key", ["customer_class", "region", "source"])
def test_customer_params_take_none(key):
    f = customer_params.filters_from_params({key: "none,3"})
    assert f.none_of == [key] and getattr(f, key) == [3]


def test_customer_params_refuse_none_where_it_means_nothing():
    with pytest.raises(ValidationFailed) as err:
        customer_params.filters_from_params({"owner": "none"})
    assert "筛选条件无效" in err.value.message


def test_customer_none_selects_exactly_the_unset_ones(w):
    from kefu.customers.models import Customer

    manager = w["manager"]

    def pks(**params):
        return set(
            customer_list(user=manager, filters=customer_params.filters_from_params(params)).values_list(
                "pk", flat=True
            )
        )

    live = Customer.objects.filter(merged_into__isnull=True)
    for key in ("customer_class", "region", "source"):
        assert pks(**{key: "none"}) == set(live.filter(**{f"{key}__isnull": True}).values_list("pk", flat=True))
    assert pks(region="none") == {w["nowhere"].pk}
    class_a = w["class_a"].pk
    assert pks(customer_class=f"{class_a},none") == set(
        live.filter(customer_class__isnull=True).values_list("pk", flat=True)
    ) | set(live.filter(customer_class=class_a).values_list("pk", flat=True))


def test_customer_list_page_and_api(client, w):
    client.force_login(w["manager"])
    html = client.get("/customers/", {"source": "none", "region": "none"}).content.decode()
    assert html.count('data-testid="customer-row"') == 1
    assert "信息来源：未知来源" in html and "片区：未指定片区" in html
    response = _api(client, w["manager"], "/customers", region="none")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [w["nowhere"].pk]
    bad = _api(client, w["manager"], "/customers", customer_class="nothing")
    assert bad.status_code == 422 and "筛选条件无效" in bad.json()["message"]
    assert bad.json()["code"] == "validation_error"


@pytest.mark.parametrize("value", ["²", "none,²", "１２"])
def test_customer_params_refuse_ids_that_are_not_ascii_digits(value):
    # "²".isdigit() is true and int("²") raises: the id check is the tickets' one.
    with pytest.raises(ValidationFailed) as err:
        customer_params.filters_from_params({"region": value})
    assert "筛选条件无效" in err.value.message


def test_customer_list_and_api_keep_nul_out_of_the_query(client, w):
    # PostgreSQL refuses NUL in a text parameter: it must never reach the database.
    f = customer_params.filters_from_params({"tags": "\x00", "lifecycle": "active\x00"})
    assert f.tags == [] and f.lifecycle == ["active"]
    client.force_login(w["manager"])
    for key in ("tags", "lifecycle"):
        assert client.get("/customers/", {key: "VIP\x00"}).status_code == 200
    assert _api(client, w["manager"], "/customers", tags="\x00").status_code == 200
    assert _api(client, w["manager"], "/customers", region="²").status_code == 422
