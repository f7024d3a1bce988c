"""What each industry profile configures for return visits, from the seeds: cadence
rules per class (seed 002: A ≥ 1, B 2, C ≥ 3 a month, from the class's own count),
event rules, and the default questionnaires."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleSpec:
    name: str
    kind: str  # cadence | event
    visit_type: str
    questionnaire: str = "satisfaction"
    class_code: str | None = None
    key_accounts_only: bool = False
    trigger: str = ""
    offsets_days: tuple[int, ...] = ()
    date_field: str = ""
    assign_to: str = "owner"
    channel: str = "phone"


@dataclass(frozen=True)
class VisitProfile:
    rules: tuple[RuleSpec, ...]
    questionnaires: dict[str, tuple[str, list[dict]]] = field(default_factory=dict)


SATISFACTION = [
    {"key": "overall", "text": "您对我们本次服务的总体满意度如何？", "type": "score", "required": True},
    {"key": "attitude", "text": "服务人员的态度", "type": "single", "choices": ["很好", "一般", "较差"]},
    {"key": "recommend", "text": "您愿意把我们推荐给亲友吗？（0–10 分）", "type": "nps"},
    {"key": "advice", "text": "您还有什么意见和建议？", "type": "text"},
]
TICKET_CONFIRM = [
    {"key": "overall", "text": "您对问题的处理结果满意吗？", "type": "score", "required": True},
    {"key": "speed", "text": "处理速度", "type": "single", "choices": ["及时", "一般", "太慢"]},
    {"key": "advice", "text": "其他意见", "type": "text"},
]
FOLLOW_UP = [
    {"key": "overall", "text": "您对我们近期服务的满意度", "type": "score", "required": True},
    {"key": "needs", "text": "近期需求", "type": "multiple", "choices": ["新产品", "维修保养", "培训", "暂无"]},
    {"key": "notes", "text": "拜访记录", "type": "text"},
]

COMMON_QUESTIONNAIRES = {
    "satisfaction": ("满意度回访问卷", SATISFACTION),
    "ticket-confirm": ("工单回访确认问卷", TICKET_CONFIRM),
    "follow-up": ("客户跟踪拜访表", FOLLOW_UP),
}


def _cadence(*codes: str) -> tuple[RuleSpec, ...]:
    return tuple(
        RuleSpec(f"{code} 类客户定期跟踪", "cadence", "定期跟踪", questionnaire="follow-up", class_code=code)
        for code in codes
    )


CONFIRM = RuleSpec(
    "工单处理后回访确认",
    "event",
    "工单回访",
    questionnaire="ticket-confirm",
    trigger="ticket_resolved",
    assign_to="ticket_assignee",
)

PROFILES: dict[str, VisitProfile] = {
    "health_check": VisitProfile(
        rules=(
            *_cadence("A", "B", "C"),
            CONFIRM,
            RuleSpec("体检后满意度回访", "event", "体检回访", trigger="service_done", offsets_days=(1, 7)),
            RuleSpec("生日关怀", "event", "生日关怀", trigger="birthday"),
        ),
    ),
    "decoration": VisitProfile(
        rules=(
            *_cadence("A", "B", "C"),
            CONFIRM,
            RuleSpec(
                "签约回访",
                "event",
                "开工期追访",
                trigger="project_stage",
                date_field="contract_date",
                offsets_days=(3,),
            ),
            RuleSpec(
                "开工追访", "event", "开工期追访", trigger="project_stage", date_field="start_date", offsets_days=(7,)
            ),
            RuleSpec(
                "中期追访", "event", "中期追访", trigger="project_stage", date_field="start_date", offsets_days=(30,)
            ),
            RuleSpec(
                "完工回访", "event", "完工回访", trigger="project_stage", date_field="finish_date", offsets_days=(3, 30)
            ),
        ),
    ),
    "manufacturing": VisitProfile(
        rules=(
            *_cadence("A", "B", "C"),
            RuleSpec("大用户定时跟踪", "cadence", "大用户跟踪", questionnaire="follow-up", key_accounts_only=True),
            CONFIRM,
            RuleSpec(
                "安装后回访",
                "event",
                "安装回访",
                trigger="project_stage",
                date_field="install_date",
                offsets_days=(7, 30),
            ),
        ),
    ),
    "retail": VisitProfile(
        rules=(*_cadence("A", "B", "C"), CONFIRM, RuleSpec("会员生日关怀", "event", "生日关怀", trigger="birthday")),
    ),
    "clinic": VisitProfile(
        rules=(
            *_cadence("A", "B", "C"),
            CONFIRM,
            RuleSpec("术后回访", "event", "术后回访", trigger="service_done", offsets_days=(1, 7, 30)),
            RuleSpec("预约到院后回访", "event", "到院回访", trigger="booking_fulfilled", offsets_days=(1,)),
            RuleSpec("生日关怀", "event", "生日关怀", trigger="birthday", channel="messaging"),
        ),
    ),
}
