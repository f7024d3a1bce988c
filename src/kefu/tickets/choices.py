"""Fixed vocabularies of tickets. What a manager configures (kinds, categories, SLA
policies, escalation rules) lives in the database instead (models/config.py)."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ROUTED = "routed", _("已派单")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已处理")
    CONFIRMED = "confirmed", _("已回访")
    CLOSED = "closed", _("已关闭")
    WITHDRAWN = "withdrawn", _("已撤销")
    MERGED = "merged", _("已合并")
    DUPLICATE = "duplicate", _("重复工单")


# Tickets somebody still has to work on (the SLA clock may run).
OPEN_STATUSES = (TicketStatus.REGISTERED, TicketStatus.ROUTED, TicketStatus.IN_PROGRESS)
# Handled, waiting for the customer's confirmation or the closing.
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CONFIRMED)
TERMINAL_STATUSES = (TicketStatus.CLOSED, TicketStatus.WITHDRAWN, TicketStatus.MERGED, TicketStatus.DUPLICATE)


class Severity(models.TextChoices):
    NORMAL = "normal", _("一般")
    IMPORTANT = "important", _("重要")
    MAJOR = "major", _("重大")
    URGENT = "urgent", _("紧急")


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    ONSITE = "onsite", _("现场")
    MESSAGING = "messaging", _("即时通讯")
    EMAIL = "email", _("邮件")
    WEB = "web", _("网页表单")
    AGENCY = "agency", _("外部机构转交")


class RoutingStatus(models.TextChoices):
    SENT = "sent", _("已派发")
    ACCEPTED = "accepted", _("已接收")
    REPLIED = "replied", _("已回复")
    CANCELLED = "cancelled", _("已撤回")


ACTIVE_ROUTING_STATUSES = (RoutingStatus.SENT, RoutingStatus.ACCEPTED)


class SlaState(models.TextChoices):
    """Stored by the supervision job (and the services) so queues can filter on it."""

    ON_TRACK = "on_track", _("正常")
    WARNING = "warning", _("即将超时")
    BREACHED = "breached", _("已超时")
    PAUSED = "paused", _("等待客户")


class EscalationReason(models.TextChoices):
    OVERDUE = "overdue", _("超时升级")
    MANUAL = "manual", _("人工督办")
    FAILED_ATTEMPTS = "failed_attempts", _("多次处理未解决")
    EMERGENCY = "emergency", _("紧急情况")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待批准")
    GRANTED = "granted", _("已批准")
    REFUSED = "refused", _("已拒绝")


class HandlingOutcome(models.TextChoices):
    PROGRESS = "progress", _("处理进展")
    SOLVED = "solved", _("已解决")
    FAILED = "failed", _("未能解决")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")


class RefundKind(models.TextChoices):
    REFUND = "refund", _("退款")
    COMPENSATION = "compensation", _("补偿")
    EXCHANGE = "exchange", _("退换货")


class PenaltyStatus(models.TextChoices):
    SUGGESTED = "suggested", _("待提交")
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")


class TicketErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "ticket_illegal_transition"
    CUSTOMER_REQUIRED = "ticket_customer_required"
    REFUND_PENDING = "ticket_refund_pending"
    NOT_ROUTED_TO_YOU = "ticket_not_routed_to_you"
    NUMBER_EXHAUSTED = "ticket_number_exhausted"
    ATTACHMENT_REJECTED = "ticket_attachment_rejected"
