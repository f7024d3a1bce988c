"""Scope and grants of the reports: each viewer's report covers only what they may see
(the reports of the two regions add up to the manager's), the page, the Excel file, the
PDF and the API show one viewer the same figures, and the roles hold the report
permissions the contract gives them."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import escape

from kefu.reports.catalog import REPORTS, build_report
from kefu.reports.periods import parse_period
from kefu.reports.tables import format_value
from tests.api.test_tickets_api import Api
from tests.report_world import PERIOD, assert_pdf_matches_json, assert_xlsx_matches_json, build_report_world

pytestmark = pytest.mark.django_db

VIEW, EXPORT, MANAGE = "view_reports", "export_reports", "manage_subscriptions"
GRANTS = {
    "manager": {VIEW, EXPORT, MANAGE},
    "director": {VIEW, EXPORT, MANAGE},
    "supervisor": {VIEW, EXPORT},
    "quality_officer": {VIEW, EXPORT},
    "account_manager": {VIEW, EXPORT},
    "agent": set(),
    "archivist": set(),
    "department_staff": set(),
    "finance": set(),
    "admin": set(),
}


@pytest.fixture
def w(ticket_world, make_user):
    return build_report_world(ticket_world, make_user)


@pytest.mark.parametrize("role", sorted(GRANTS))
def test_roles_hold_the_report_permissions_of_the_contract(roles, role):
    held = set(
        Group.objects.get(name=role)
        .permissions.filter(content_type__app_label="reports")
        .values_list("codename", flat=True)
    )
    assert held & {VIEW, EXPORT, MANAGE} == GRANTS[role]


def _by(report, title: str) -> dict:
    table = next(t for t in report.tables if t.title == title)
    return {r["label"]: r for r in table.rows}


@pytest.mark.parametrize("key", ["complaints", "repairs", "important"])
def test_the_two_regions_reports_add_up_to_the_managers(w, key):
    period = parse_period(PERIOD)
    north = build_report(key, user=w["supervisor"], period=period)  # region north
    south = build_report(key, user=w["am_south"], period=period)  # region south
    everything = build_report(key, user=w["manager"], period=period)
    counted = "count"
    if key == "important":
        north_t, south_t, all_t = (r.tables[0].totals for r in (north, south, everything))
    else:
        north_t, south_t, all_t = (r.tables[0].rows[0] for r in (north, south, everything))
    assert north_t[counted] + south_t[counted] == all_t[counted]
    assert all_t[counted] > 0
    if key == "complaints":
        assert (north_t[counted], south_t[counted]) == (3, 2)
        # and group by group
        north_cat, south_cat, all_cat = (_by(r, "按投诉分类") for r in (north, south, everything))
        for label, row in all_cat.items():
            assert row["count"] == north_cat.get(label, {}).get("count", 0) + south_cat.get(label, {}).get("count", 0)
        assert set(_by(north, "按片区")) == {"城北"} and set(_by(south, "按片区")) == {"城南"}
    if key == "important":
        listed = {r.tables[1].rows[0]["number"] for r in (north, south)}
        assert listed == {w["tickets"]["t2"].number, w["tickets"]["t5"].number}


def test_an_account_managers_customer_report_covers_their_region(w):
    # The customers were opened today, so this month's report counts them.
    report = build_report("customers", user=w["am_south"], period=parse_period(None))
    assert {label: row["total"] for label, row in _by(report, "按片区").items()} == {"城南": 1}
    everything = build_report("customers", user=w["manager"], period=parse_period(None))
    assert {label: row["total"] for label, row in _by(everything, "按片区").items()} == {"城北": 1, "城南": 1}


def _page_rows(html: str) -> list[list[str]]:
    rows = re.findall(r'<tr (?:data-testid="report-(?:row|totals)"|class="fw-bold"[^>]*)>(.*?)</tr>', html, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows
    ]


def _json_rows(data: dict) -> list[list[str]]:
    expected = []
    for table in data["tables"]:
        rows = table["rows"] + ([table["totals"]] if table["totals"] is not None else [])
        expected += [[escape(format_value(r[c["key"]], c["kind"])) for c in table["columns"]] for r in rows]
    return expected


def _assert_same_everywhere(client, user, key: str, period: str) -> dict:
    """The API's JSON for `user`, checked against the page, the Excel file and the PDF."""
    data = Api(client, user).get(f"/reports/{key}", period=period).json()
    assert "tables" in data, data
    client.force_login(user)
    xlsx = client.get(reverse("reports:export_xlsx", args=[key]), {"period": period})
    assert_xlsx_matches_json(xlsx.content, data)
    pdf = client.get(reverse("reports:export_pdf", args=[key]), {"period": period})
    assert_pdf_matches_json(pdf.content, data)
    html = client.get(reverse("reports:report", args=[key]), {"period": period}).content.decode()
    assert _page_rows(html) == _json_rows(data)
    return data


def test_page_excel_pdf_and_api_show_a_viewer_the_same_figures(client, w):
    for key in ("complaints", "important", "repairs"):
        _assert_same_everywhere(client, w["supervisor"], key, PERIOD)


def test_on_the_generated_data_set_every_report_agrees_everywhere_and_regions_add_up(client, make_user):
    """A's generated world (tickets, visits, customers with completion dates): for each
    report, page = Excel = PDF = API for a regional account manager, and the two
    regions' headline figures add up to the manager's."""
    from tests.factories_reports import PERIOD as GENERATED
    from tests.factories_reports import build_report_world as generated_world

    world = generated_world(make_user, tickets_in_period=16)
    headline = {"complaints": "count", "repairs": "count", "visits": "planned", "customers": "total"}
    for key in REPORTS:
        north = _assert_same_everywhere(client, world["am_north"], key, GENERATED)
        assert key == "important" or any(t["rows"] for t in north["tables"]), key  # no important ones there
        if key in headline:
            figure = headline[key]
            south = Api(client, world["am_south"]).get(f"/reports/{key}", period=GENERATED).json()
            everyone = Api(client, world["manager"]).get(f"/reports/{key}", period=GENERATED).json()
            values = [d["tables"][0]["rows"][0][figure] for d in (north, south, everyone)]
            assert values[0] + values[1] == values[2] and values[2] > 0, (key, values)
