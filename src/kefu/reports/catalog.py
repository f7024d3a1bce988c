"""The named reports (报表目录): each one a title, a line saying what it is for, and the
function that builds it for a viewer and a period. Pages, Excel and PDF files, the API
and the scheduled deliveries all go through `build_report`, so a report is computed one
way only — over what the viewer may see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import access
from kefu.core.errors import NotFound, ValidationFailed
from kefu.reports.periods import Period
from kefu.reports.tables import Report

VIEW = "reports.view_reports"
EXPORT = "reports.export_reports"


# The dimensions a ticket report can cross two at a time (its 交叉分析 table; the seeds
# ask for complaints by category × department × region × channel × severity).
CROSS_LABELS = {
    "category": gettext_lazy("分类"),
    "department": gettext_lazy("责任部门"),
    "region": gettext_lazy("片区"),
    "channel": gettext_lazy("受理渠道"),
    "severity": gettext_lazy("严重程度"),
}
TICKET_CROSS_DIMENSIONS = tuple(CROSS_LABELS)
DEFAULT_CROSS = ("category", "department")


@dataclass(frozen=True)
class ReportSpec:
    key: str
    title: str | Promise
    description: str | Promise
    build: Callable[..., Report]  # build(user=, period=[, cross=])
    crosses: tuple[str, ...] = ()  # dimensions its cross table may pair; () → no choice


def _lazy(dotted: str) -> Callable[..., Report]:
    """The builder at `dotted`, imported on first use: the catalogue is read by the menu,
    the subscription forms and the API's list, none of which needs the figure selectors."""

    def build(*, user, period: Period, **options) -> Report:
        return import_string(dotted)(user=user, period=period, **options)

    build.__name__ = build.__qualname__ = dotted.rsplit(".", 1)[-1]
    return build


def _spec(key: str, title, description, build: str, crosses: tuple[str, ...] = ()) -> tuple[str, ReportSpec]:
    return key, ReportSpec(key, title, description, _lazy(f"kefu.reports.builders.{build}"), crosses)


REPORTS: dict[str, ReportSpec] = dict(
    [
        _spec(
            "complaints",
            gettext_lazy("投诉统计报表"),
            gettext_lazy(
                "按分类、责任部门、片区、渠道、严重程度统计投诉量、处理用时（平均与 P90 工时）、时限达标率、"
                "重开率与满意度，与上期及去年同期对比；附投诉调查的主要原因。"
            ),
            "tickets.build_complaints",
            TICKET_CROSS_DIMENSIONS,
        ),
        _spec(
            "repairs",
            gettext_lazy("报修统计"),
            gettext_lazy(
                "报修的数量、处理用时、时限达标率与满意度，按分类、责任部门、片区、渠道、严重程度统计，与上期及去年同期对比。"
            ),
            "tickets.build_repairs",
            TICKET_CROSS_DIMENSIONS,
        ),
        _spec(
            "visits",
            gettext_lazy("回访统计"),
            gettext_lazy(
                "计划、完成、接通、满意度与 NPS；回访 → 到院 → 成交漏斗；按回访类型、项目、方式、客户分类统计；"
                "各类客户回访频次达标情况。"
            ),
            "visits.build_visits",
        ),
        _spec(
            "customers",
            gettext_lazy("客户统计"),
            gettext_lazy(
                "期末客户数、新增与流失客户，按客户分类、片区、信息来源、产品类别、生命周期统计；需关注的大客户。"
            ),
            "customers.build_customers",
        ),
        _spec(
            "staff",
            gettext_lazy("员工统计"),
            gettext_lazy("每位员工处理的工单、首次响应与处理用时（工时）、满意度、完成与接通的回访。"),
            "staff.build_staff",
        ),
        _spec(
            "completed",
            gettext_lazy("完工客户月报"),
            gettext_lazy(
                "本期完工的客户及其合同、开工与完工日期、设计师、工长、完工回访满意度与未结工单，每月上报集团客服部。"
            ),
            "completed.build_completed",
        ),
        _spec(
            "important",
            gettext_lazy("重要投诉报表"),
            gettext_lazy("本期登记的重要投诉：列为重要的原因、处理状态、责任部门与处理用时，并按责任部门汇总。"),
            "important.build_important",
        ),
    ]
)


def report_spec(key: str) -> ReportSpec:
    spec = REPORTS.get(key)
    if spec is None:
        raise NotFound(_("没有这个报表：%(key)s") % {"key": str(key)[:40]})
    return spec


def parse_cross(key: str, text: str | None) -> tuple[str, str] | None:
    """`?cross=region,channel` → the pair, checked against what report `key` can cross;
    empty → None (the report's default). Anything else → ValidationFailed (Chinese)."""
    text = (text or "").strip()
    if not text:
        return None
    spec = report_spec(key)
    parts = tuple(p.strip() for p in text.split(","))
    if not spec.crosses:
        raise ValidationFailed(_("该报表没有交叉分析。"), details={"field": "cross"})
    if len(parts) != 2 or parts[0] == parts[1] or not set(parts) <= set(spec.crosses):
        raise ValidationFailed(
            _("交叉分析须是两个不同的维度，可选：%(dims)s") % {"dims": "、".join(spec.crosses)},
            details={"field": "cross"},
        )
    return parts[0], parts[1]


def build_report(key: str, *, user, period: Period, cross: tuple[str, str] | None = None) -> Report:
    """The report `key` over `period`, figures limited to what `user` may see; `cross`
    (from `parse_cross`) the pair of dimensions of a ticket report's cross table.
    Unknown key → NotFound; without `reports.view_reports` → AccessDenied."""
    spec = report_spec(key)
    access.require(user, VIEW)
    if not spec.crosses:
        if cross:
            raise ValidationFailed(_("该报表没有交叉分析。"), details={"field": "cross"})
        return spec.build(user=user, period=period)
    return spec.build(user=user, period=period, cross=cross or DEFAULT_CROSS)
