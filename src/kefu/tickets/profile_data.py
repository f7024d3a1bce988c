"""What each industry profile configures for tickets, from the seeds: the kinds with
their form fields, the category tree, SLA policies and the escalation chain.

Times are working minutes (one working day of the default hours 9:00–12:00, 13:30–18:00
is 450). Every profile gets the five
kinds of issue 4; the categories and extra fields are the profile's own."""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.customers.choices import FieldType

DAY = 450


@dataclass(frozen=True)
class KindSpec:
    code: str
    name: str
    prefix: str
    requires_customer: bool = True
    requires_routing: bool = True
    requires_confirmation: bool = True
    allows_refund: bool = False
    counts_against_staff: bool = False
    fields: tuple[dict, ...] = ()


@dataclass(frozen=True)
class PolicySpec:
    name: str
    kind: str | None
    severity: str
    response_minutes: int
    resolve_minutes: int
    category: str | None = None


@dataclass(frozen=True)
class TicketProfile:
    kinds: tuple[KindSpec, ...]
    # {kind code or "": {top category: [children]}}; "" applies to every kind.
    categories: dict[str, dict[str, list[str]]]
    policies: tuple[PolicySpec, ...]
    # (level, role code, working minutes after the deadline)
    escalation: tuple[tuple[int, str, int], ...] = ((1, "supervisor", 0), (2, "manager", 240), (3, "director", 2 * DAY))
    departments_for: dict[str, list[str]] = field(default_factory=dict)


def _kinds(complaint_fields=(), repair_fields=(), return_fields=()) -> tuple[KindSpec, ...]:
    return (
        KindSpec(
            "complaint", "投诉", "TS", allows_refund=True, counts_against_staff=True, fields=tuple(complaint_fields)
        ),
        KindSpec("repair", "报修", "BX", fields=tuple(repair_fields)),
        KindSpec("inquiry", "咨询", "ZX", requires_customer=False, requires_routing=False, requires_confirmation=False),
        KindSpec("return", "退换货", "TH", allows_refund=True, fields=tuple(return_fields)),
        KindSpec(
            "suggestion", "建议", "JY", requires_customer=False, requires_routing=False, requires_confirmation=False
        ),
    )


def _policies(complaint_days=3, repair_days=5) -> tuple[PolicySpec, ...]:
    return (
        PolicySpec("投诉·一般", "complaint", "normal", 120, complaint_days * DAY),
        PolicySpec("投诉·重要", "complaint", "important", 60, 2 * DAY),
        PolicySpec("投诉·重大", "complaint", "major", 30, DAY),
        PolicySpec("紧急（任何类型）", None, "urgent", 15, 240),
        PolicySpec("报修·一般", "repair", "normal", 240, repair_days * DAY),
        PolicySpec("报修·重要", "repair", "important", 120, 3 * DAY),
        PolicySpec("咨询", "inquiry", "", 60, DAY),
        PolicySpec("退换货", "return", "", 240, 5 * DAY),
        PolicySpec("建议", "suggestion", "", DAY, 10 * DAY),
    )


AGENCY = {"key": "agency_reply", "label": "需书面答复机构", "type": FieldType.BOOLEAN}

PROFILES: dict[str, TicketProfile] = {
    "decoration": TicketProfile(
        kinds=_kinds(
            complaint_fields=[
                {
                    "key": "project_stage",
                    "label": "工程阶段",
                    "type": FieldType.CHOICE,
                    "choices": ["开工期", "中期", "尾期", "完工后"],
                },
                AGENCY,
            ],
            repair_fields=[
                {"key": "warranty", "label": "是否在保修期内", "type": FieldType.BOOLEAN},
                {"key": "visit_date", "label": "预约上门日期", "type": FieldType.DATE},
            ],
        ),
        categories={
            "complaint": {
                "施工质量": ["墙面开裂", "防水渗漏", "水电问题", "木作/油漆"],
                "工期延误": ["开工延误", "竣工延误"],
                "服务态度": ["设计师", "工长/工人", "客服人员"],
                "材料问题": ["材料质量", "以次充好"],
                "费用争议": ["增项费用", "结算争议"],
            },
            "repair": {"水电维修": ["漏水", "电路"], "木作维修": [], "墙面维修": [], "门窗维修": []},
            "": {"其他": []},
        },
        policies=_policies(complaint_days=3, repair_days=3),
        departments_for={
            "施工质量": ["engineering"],
            "工期延误": ["engineering"],
            "材料问题": ["material"],
            "服务态度": ["design"],
            "费用争议": ["finance"],
            "水电维修": ["repair"],
            "木作维修": ["repair"],
            "墙面维修": ["repair"],
            "门窗维修": ["repair"],
        },
    ),
    "health_check": TicketProfile(
        kinds=_kinds(complaint_fields=[{"key": "exam_date", "label": "体检日期", "type": FieldType.DATE}, AGENCY]),
        categories={
            "complaint": {
                "体检流程": ["排队等候", "项目遗漏"],
                "报告问题": ["报告延迟", "报告错误"],
                "服务态度": ["前台", "医护人员"],
                "收费问题": [],
                "检查结果": ["检验科", "影像科", "超声科"],
            },
            "repair": {"设施设备": []},
            "": {"其他": []},
        },
        policies=_policies(complaint_days=2, repair_days=3),
        departments_for={
            "报告问题": ["report"],
            "体检流程": ["front-desk"],
            "服务态度": ["front-desk"],
            "收费问题": ["finance"],
            "检查结果": ["lab"],
        },
    ),
    "manufacturing": TicketProfile(
        kinds=_kinds(
            complaint_fields=[
                {"key": "product_model", "label": "产品型号", "type": FieldType.TEXT},
                {"key": "serial_no", "label": "出厂编号", "type": FieldType.TEXT},
            ],
            repair_fields=[
                {"key": "product_model", "label": "产品型号", "type": FieldType.TEXT},
                {"key": "serial_no", "label": "出厂编号", "type": FieldType.TEXT},
                {"key": "in_warranty", "label": "是否在保修期内", "type": FieldType.BOOLEAN},
            ],
        ),
        categories={
            "complaint": {
                "产品质量": ["称量不准", "传感器故障", "仪表故障"],
                "交货延误": [],
                "服务态度": [],
                "安装调试": [],
            },
            "repair": {"计重收费设备": [], "超限检测设备": [], "通常衡器": []},
            "": {"其他": []},
        },
        policies=_policies(complaint_days=3, repair_days=2),
        departments_for={
            "产品质量": ["production", "tech"],
            "安装调试": ["after-sales"],
            "交货延误": ["sales"],
            "计重收费设备": ["after-sales"],
            "超限检测设备": ["after-sales"],
            "通常衡器": ["after-sales"],
        },
    ),
    "retail": TicketProfile(
        kinds=_kinds(
            return_fields=[
                {"key": "receipt_no", "label": "小票号", "type": FieldType.TEXT},
                {"key": "purchase_date", "label": "购买日期", "type": FieldType.DATE},
            ],
        ),
        categories={
            "complaint": {"商品质量": [], "服务态度": ["收银员", "营业员"], "价格问题": [], "售后服务": []},
            "return": {"质量问题退货": [], "无理由退换": []},
            "": {"其他": []},
        },
        policies=_policies(complaint_days=2, repair_days=5),
        departments_for={
            "商品质量": ["sales"],
            "服务态度": ["sales"],
            "价格问题": ["sales"],
            "售后服务": ["logistics"],
            "质量问题退货": ["logistics"],
            "无理由退换": ["sales"],
        },
    ),
    "clinic": TicketProfile(
        kinds=_kinds(
            complaint_fields=[
                {"key": "treatment", "label": "治疗项目", "type": FieldType.TEXT},
                {"key": "doctor", "label": "主诊医生", "type": FieldType.TEXT},
                {"key": "consultant_attempts", "label": "现场咨询已处理次数", "type": FieldType.NUMBER},
            ],
        ),
        categories={
            "complaint": {
                "术后效果": ["效果不满意", "并发症"],
                "服务态度": ["咨询师", "护士"],
                "收费问题": [],
                "等候时间": [],
            },
            "": {"其他": []},
        },
        policies=_policies(complaint_days=2, repair_days=5),
        escalation=((1, "supervisor", 0), (2, "manager", 120), (3, "director", DAY)),
        departments_for={
            "术后效果": ["medical"],
            "服务态度": ["consulting"],
            "收费问题": ["finance"],
            "等候时间": ["consulting"],
        },
    ),
}
