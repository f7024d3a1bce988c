"""Fixed vocabularies of return visits; rules and questionnaires live in the database."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("待回访")
    DONE = "done", _("已完成")
    FAILED = "failed", _("未能联系")
    CANCELLED = "cancelled", _("已取消")


class Outcome(models.TextChoices):
    REACHED = "reached", _("已接通")
    NO_ANSWER = "no_answer", _("无人接听")
    WRONG_NUMBER = "wrong_number", _("号码错误")
    REFUSED = "refused", _("拒绝回访")
    CALL_BACK = "call_back", _("约定回拨")


class VisitChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    ONSITE = "onsite", _("上门/面对面")
    MESSAGING = "messaging", _("微信/短信")


class RuleKind(models.TextChoices):
    CADENCE = "cadence", _("按客户分类定期跟踪")
    EVENT = "event", _("事件触发")


class Trigger(models.TextChoices):
    TICKET_RESOLVED = "ticket_resolved", _("工单处理完成后回访确认")
    SERVICE_DONE = "service_done", _("服务/治疗完成后")
    PROJECT_STAGE = "project_stage", _("工程阶段（合同、开工、中期、完工）")
    BOOKING_FULFILLED = "booking_fulfilled", _("预约完成后")
    BIRTHDAY = "birthday", _("生日关怀")


class AssignTo(models.TextChoices):
    OWNER = "owner", _("客户经理")
    TEAM = "team", _("指定班组（部门）")
    USER = "user", _("指定人员")
    TICKET_ASSIGNEE = "ticket_assignee", _("工单负责人")


class QuestionType(models.TextChoices):
    SINGLE = "single", _("单选")
    MULTIPLE = "multiple", _("多选")
    SCORE = "score", _("1–5 分")
    NPS = "nps", _("推荐度 0–10")
    TEXT = "text", _("文字")
