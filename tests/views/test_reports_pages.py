"""The report pages: the catalogue, one report with its period picker, tables and
charts (whose segments click through to the ticket list of the same period), the Excel
and PDF downloads, the menu — and who may open what."""

import json
import re

import pytest
from django.urls import reverse

from kefu.core.models import AuditEvent
from kefu.reports.catalog import REPORTS
from tests.report_world import PERIOD, assert_xlsx_matches_json, build_report_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(ticket_world, make_user):
    return build_report_world(ticket_world, make_user)


def _login(client, user):
    client.force_login(user)
    return client


def _charts(html: str) -> dict[str, dict]:
    return {
        m[0]: json.loads(m[1])
        for m in re.findall(r'<script id="(report-chart-\d+)" type="application/json">(.*?)</script>', html, re.S)
    }


def test_catalogue_lists_the_reports_with_their_files(client, w):
    response = _login(client, w["manager"]).get(reverse("reports:index"))
    assert response.status_code == 200
    html = response.content.decode()
    for key, spec in REPORTS.items():
        assert str(spec.title) in html
        assert reverse("reports:export_xlsx", args=[key]) in html


def test_catalogue_hides_the_file_links_from_who_may_not_export(client, w, make_user):
    from django.contrib.auth.models import Permission

    viewer = make_user(username="viewer_only", scope_all=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_reports"))
    html = _login(client, viewer).get(reverse("reports:index")).content.decode()
    assert "投诉统计报表" in html and "export.xlsx" not in html


def test_report_page_shows_the_tables_of_the_period(client, w):
    response = _login(client, w["manager"]).get(reverse("reports:report", args=["complaints"]), {"period": PERIOD})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-period">2026年10月<' in html
    assert "宏达装饰工程有限公司" in html
    assert "按责任部门" in html and "投诉调查：主要投诉原因" in html
    assert "?period=2026-09" in html and "?period=2026-11" in html  # previous / next
    assert reverse("reports:export_pdf", args=["complaints"]) + "?period=2026-10" in html
    assert 'value="2026-10"' in html  # the picker shows the period


def test_chart_segments_click_through_to_the_ticket_list_of_the_same_tickets(client, w):
    response = _login(client, w["manager"]).get(reverse("reports:report", args=["complaints"]), {"period": PERIOD})
    html = response.content.decode()
    charts = _charts(html)
    assert charts, "the complaints report draws charts"
    base = re.search(r'data-option-id="(report-chart-\d+)" data-click-base="([^"]+)"', html)
    chart = charts[base[1]]
    link = base[2].replace("&amp;", "&")
    assert link.startswith(reverse("tickets:list") + "?created_from=2026-10-01&created_to=2026-10-31&kind=")
    # Follow the biggest category's segment: the list shows exactly the tickets counted.
    segment = chart["series"][0]["data"][0]
    listed = client.get(link + str(segment["key"]))
    assert listed.status_code == 200
    numbers = {w["tickets"][k].number for k in ("t1", "t2", "t4")}  # 墙面开裂
    body = listed.content.decode()
    assert segment["value"] == 3
    assert all(n in body for n in numbers)
    assert w["tickets"]["t3"].number not in body


def test_period_picker_fields_make_the_period(client, w):
    c = _login(client, w["manager"])
    url = reverse("reports:report", args=["complaints"])
    quarter = c.get(url, {"kind": "quarter", "year": "2026", "quarter": "4"}).content.decode()
    assert 'data-testid="report-period">2026年第4季度<' in quarter
    assert "按月趋势" in quarter  # several months: the trend table is there
    year = c.get(url, {"kind": "year", "year": "2026"}).content.decode()
    assert 'data-testid="report-period">2026年<' in year
    ranged = c.get(url, {"kind": "range", "from": "2026-10-01", "to": "2026-10-10"}).content.decode()
    assert 'data-testid="report-period">2026-10-01 至 2026-10-10<' in ranged
    month = c.get(url, {"kind": "month", "month": "2026-10"}).content.decode()
    assert 'data-testid="report-period">2026年10月<' in month


def test_bad_period_on_the_page_is_a_message_not_an_error(client, w):
    response = _login(client, w["manager"]).get(reverse("reports:report", args=["complaints"]), {"period": "2026-99"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "统计期间格式不正确" in html
    assert 'class="alert alert-danger"' in html


def test_unknown_report_page_is_404(client, w):
    assert _login(client, w["manager"]).get("/reports/nope/").status_code == 404
    assert client.get("/reports/nope/export.xlsx").status_code == 404


@pytest.mark.parametrize("key", sorted(REPORTS))
def test_every_report_page_renders(client, w, key):
    response = _login(client, w["manager"]).get(reverse("reports:report", args=[key]), {"period": PERIOD})
    assert response.status_code == 200, response.content[:500]
    assert str(REPORTS[key].title) in response.content.decode()


def test_excel_download_holds_the_api_figures_and_is_audited(client, w):
    c = _login(client, w["supervisor"])
    response = c.get(reverse("reports:export_xlsx", args=["complaints"]), {"period": PERIOD})
    assert response.status_code == 200
    assert response["Content-Type"].endswith("spreadsheetml.sheet")
    assert "attachment" in response["Content-Disposition"]
    assert "2026-10.xlsx" in response["Content-Disposition"]
    from tests.api.test_tickets_api import Api

    data = Api(client, w["supervisor"]).get("/reports/complaints", period=PERIOD).json()
    assert_xlsx_matches_json(response.content, data)
    assert AuditEvent.objects.filter(code="report.exported", actor=w["supervisor"]).count() == 1


def test_pdf_download(client, w):
    response = _login(client, w["manager"]).get(reverse("reports:export_pdf", args=["important"]), {"period": PERIOD})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_download_with_a_bad_period_goes_back_to_the_page_and_exports_nothing(client, w):
    c = _login(client, w["manager"])
    response = c.get(reverse("reports:export_xlsx", args=["complaints"]), {"period": "nonsense"})
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:report", args=["complaints"])
    assert not AuditEvent.objects.filter(code="report.exported").exists()


@pytest.mark.parametrize(
    ("role", "page", "xlsx"),
    [
        ("manager", 200, 200),
        ("director", 200, 200),
        ("supervisor", 200, 200),
        ("quality", 200, 200),
        ("am_south", 200, 200),
        ("agent", 403, 403),
        ("engineer", 403, 403),
        ("finance", 403, 403),
    ],
)
def test_who_may_open_and_download(client, w, role, page, xlsx):
    c = _login(client, w[role])
    assert c.get(reverse("reports:index")).status_code == page
    assert c.get(reverse("reports:report", args=["complaints"]), {"period": PERIOD}).status_code == page
    assert c.get(reverse("reports:export_xlsx", args=["complaints"]), {"period": PERIOD}).status_code == xlsx
    assert AuditEvent.objects.filter(code="report.exported").exists() == (xlsx == 200)


def test_anonymous_is_sent_to_the_login_page(client, w):
    for url in (reverse("reports:index"), reverse("reports:export_pdf", args=["complaints"])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_menu_shows_the_reports_section_by_permission(client, w):
    manager_html = _login(client, w["manager"]).get(reverse("reports:index")).content.decode()
    for url in (reverse("reports:dashboard"), reverse("reports:index"), reverse("reports:subscriptions")):
        assert f'href="{url}"' in manager_html
    client.logout()
    supervisor_html = _login(client, w["supervisor"]).get(reverse("reports:index")).content.decode()
    assert f'href="{reverse("reports:index")}"' in supervisor_html
    assert f'href="{reverse("reports:subscriptions")}"' not in supervisor_html
    client.logout()
    agent_html = _login(client, w["agent"]).get(reverse("home")).content.decode()
    assert f'href="{reverse("reports:dashboard")}"' in agent_html
    assert f'href="{reverse("reports:index")}"' not in agent_html
    client.logout()
    finance_html = _login(client, w["finance"]).get(reverse("home")).content.decode()
    assert f'href="{reverse("reports:dashboard")}"' not in finance_html  # no dashboard for finance


def test_report_page_query_budget(client, w, django_assert_max_num_queries):
    c = _login(client, w["manager"])
    c.get(reverse("reports:report", args=["complaints"]), {"period": PERIOD})  # warm caches (site, session)
    with django_assert_max_num_queries(60):
        c.get(reverse("reports:report", args=["complaints"]), {"period": PERIOD})


def test_the_cross_picker_chooses_the_cross_table_and_the_links_keep_it(client, w):
    url = reverse("reports:report", args=["complaints"])
    c = _login(client, w["manager"])
    default = c.get(url, {"period": PERIOD}).content.decode()
    assert 'data-testid="cross-picker"' in default and 'data-title="分类 × 责任部门"' in default

    html = c.get(url, {"period": PERIOD, "cross_rows": "region", "cross_columns": "severity"}).content.decode()
    assert 'data-title="片区 × 严重程度"' in html and 'data-title="分类 × 责任部门"' not in html
    assert '<option value="region" selected>' in html and '<option value="severity" selected>' in html
    kept = "cross=region%2Cseverity"
    assert f"?period=2026-09&amp;{kept}" in html  # previous period keeps the cross
    assert reverse("reports:export_xlsx", args=["complaints"]) + f"?period=2026-10&amp;{kept}" in html
    assert 'name="cross" value="region,severity"' in html  # and the period picker

    download = c.get(
        reverse("reports:export_xlsx", args=["complaints"]), {"period": PERIOD, "cross": "region,severity"}
    )
    assert download.status_code == 200
    assert AuditEvent.objects.get(code="report.exported").data["cross"] == ["region", "severity"]


def test_a_bad_cross_is_a_message_and_the_default_table(client, w):
    c = _login(client, w["manager"])
    response = c.get(reverse("reports:report", args=["complaints"]), {"period": PERIOD, "cross": "region,region"})
    html = response.content.decode()
    assert response.status_code == 200 and "交叉分析须是两个不同的维度" in html
    assert 'data-title="分类 × 责任部门"' in html
    refused = c.get(reverse("reports:export_xlsx", args=["complaints"]), {"period": PERIOD, "cross": "x,y"})
    assert refused.status_code == 302 and not AuditEvent.objects.filter(code="report.exported").exists()


def test_reports_without_a_cross_table_have_no_picker(client, w):
    html = _login(client, w["manager"]).get(reverse("reports:report", args=["visits"]), {"period": PERIOD})
    assert 'data-testid="cross-picker"' not in html.content.decode()
