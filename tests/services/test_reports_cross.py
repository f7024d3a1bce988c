"""The 交叉分析 of the complaint and repair reports: any two of category, department,
region, channel and severity, chosen on the page (and in the API and the files); each
cell is the figure selector's group for that pair, the cells add up to the report's
total, and a pair the report cannot cross is refused in Chinese."""

import pytest

from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent
from kefu.reports.catalog import CROSS_LABELS, TICKET_CROSS_DIMENSIONS, build_report, parse_cross
from kefu.reports.exporters import report_export
from kefu.reports.exporters.xlsx import HEADER_ROW, sheet_names
from kefu.reports.periods import parse_period
from kefu.reports.selectors.tickets import ticket_figures
from tests.report_world import PERIOD, build_report_world, xlsx_sheets

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(ticket_world, make_user):
    return build_report_world(ticket_world, make_user)


@pytest.fixture
def period():
    return parse_period(PERIOD)


def _table(report, title):
    return next(t for t in report.tables if t.title == title)


@pytest.mark.parametrize(
    "cross, title",
    [(("region", "channel"), "片区 × 受理渠道"), (("severity", "department"), "严重程度 × 责任部门")],
)
@pytest.mark.parametrize("who", ["manager", "supervisor"])
def test_each_cell_is_the_group_of_the_figures_and_the_cells_add_up(w, period, cross, title, who):
    user = w[who]
    report = build_report("complaints", user=user, period=period, cross=cross)
    table = _table(report, title)
    assert [c.key for c in table.columns[:2]] == list(cross)
    groups = ticket_figures(user=user, period=period, kinds=["complaint"], group_by=list(cross))
    expected = sorted(
        (g[f"{cross[0]}_label"] or "（未指定）", g[f"{cross[1]}_label"] or "（未指定）", g["count"]) for g in groups
    )
    assert sorted((r[cross[0]], r[cross[1]], r["count"]) for r in table.rows) == expected
    total = report.tables[0].rows[0]
    assert sum(r["count"] for r in table.rows) == total["count"] > 0
    assert "分类 × 责任部门" not in [t.title for t in report.tables]


def test_without_a_choice_the_cross_is_category_by_department(w, period):
    titles = [t.title for t in build_report("repairs", user=w["manager"], period=period).tables]
    assert "分类 × 责任部门" in titles


@pytest.mark.parametrize("text", ["region", "region,region", "region,colour", "region,channel,severity", ",region"])
def test_a_pair_the_report_cannot_cross_is_refused(text):
    with pytest.raises(ValidationFailed) as refused:
        parse_cross("complaints", text)
    assert "交叉分析" in refused.value.message and refused.value.details == {"field": "cross"}


def test_reports_without_a_cross_table_refuse_one(w, period):
    assert parse_cross("visits", "") is None
    with pytest.raises(ValidationFailed):
        parse_cross("visits", "region,channel")
    with pytest.raises(ValidationFailed):
        build_report("visits", user=w["manager"], period=period, cross=("region", "channel"))


def test_every_pair_of_dimensions_builds(w, period):
    for rows in TICKET_CROSS_DIMENSIONS:
        for columns in TICKET_CROSS_DIMENSIONS:
            if rows != columns:
                cross = parse_cross("complaints", f"{rows},{columns}")
                report = build_report("complaints", user=w["manager"], period=period, cross=cross)
                table = _table(report, f"{CROSS_LABELS[rows]} × {CROSS_LABELS[columns]}")
                assert sum(r["count"] for r in table.rows) == report.tables[0].rows[0]["count"] > 0


def test_the_excel_file_holds_the_chosen_cross_and_the_audit_names_it(w, period):
    exported = report_export(
        user=w["manager"], key="complaints", period=period, fmt="xlsx", cross=("channel", "region")
    )
    names = sheet_names(exported.report)
    assert any(n.endswith("受理渠道 × 片区") for n in names) and not any("分类 × 责任部门" in n for n in names)
    # The cross sheet holds the cells of the table the page shows.
    sheet = xlsx_sheets(exported.content)[next(i for i, n in enumerate(names) if n.endswith("受理渠道 × 片区"))]
    table = _table(exported.report, "受理渠道 × 片区")
    header = sheet[HEADER_ROW]
    assert header[:2] == ("受理渠道", "片区")
    written = [row[2] for row in sheet[HEADER_ROW + 1 : HEADER_ROW + 1 + len(table.rows)]]
    assert written == [r["count"] for r in table.rows] and sum(written) > 0
    event = AuditEvent.objects.get(code="report.exported")
    assert event.data["cross"] == ["channel", "region"] and "受理渠道 × 片区" in event.data["rows"]
