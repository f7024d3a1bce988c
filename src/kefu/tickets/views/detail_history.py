"""The ticket's history as people read it: a label per event code and the few facts
its data carries (TicketEvent keeps the code and data, not a sentence)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.tickets.choices import EscalationReason, HandlingOutcome, RefundKind
from kefu.tickets.models import Ticket, TicketEvent

LABELS = {
    "ticket.registered": gettext_lazy("登记工单"),
    "ticket.updated": gettext_lazy("修改工单"),
    "ticket.assigned": gettext_lazy("指派负责人"),
    "ticket.important": gettext_lazy("列入重要投诉档案"),
    "ticket.important_removed": gettext_lazy("移出重要投诉档案"),
    "ticket.linked": gettext_lazy("关联工单"),
    "ticket.comment": gettext_lazy("备注"),
    "ticket.routed": gettext_lazy("派单"),
    "ticket.slip_cancelled": gettext_lazy("撤回告知单"),
    "ticket.accepted": gettext_lazy("接收告知单"),
    "ticket.handling": gettext_lazy("处理记录"),
    "ticket.replied": gettext_lazy("回复告知单"),
    "ticket.resolved": gettext_lazy("处理完成"),
    "ticket.confirmed": gettext_lazy("回访确认"),
    "ticket.reopened": gettext_lazy("重新打开"),
    "ticket.closed": gettext_lazy("关闭工单"),
    "ticket.withdrawn": gettext_lazy("撤销工单"),
    "ticket.duplicate": gettext_lazy("标记为重复工单"),
    "ticket.merged": gettext_lazy("并入其他工单"),
    "ticket.merged_in": gettext_lazy("并入工单内容"),
    "ticket.paused": gettext_lazy("暂停计时"),
    "ticket.resumed": gettext_lazy("恢复计时"),
    "ticket.escalated": gettext_lazy("升级"),
    "ticket.supervised": gettext_lazy("督办"),
    "ticket.extension_requested": gettext_lazy("申请延期"),
    "ticket.extension_granted": gettext_lazy("批准延期"),
    "ticket.extension_refused": gettext_lazy("拒绝延期"),
    "ticket.refund_requested": gettext_lazy("申请退款/补偿"),
    "ticket.refund_approved": gettext_lazy("退款/补偿审批通过"),
    "ticket.refund_rejected": gettext_lazy("退款/补偿被驳回"),
    "ticket.refund_cancelled": gettext_lazy("退款/补偿已撤回"),
    "ticket.refund_told": gettext_lazy("已告知客户退款/补偿结果"),
    "ticket.penalty_proposed": gettext_lazy("提出处罚建议"),
    "ticket.attachment.added": gettext_lazy("上传附件"),
}

# Names of the fields an edit may change, for "修改了：标题、严重程度".
FIELD_LABELS = {f.name: f.verbose_name for f in Ticket._meta.get_fields() if hasattr(f, "verbose_name")}

ATTENTION = {"ticket.escalated", "ticket.supervised", "ticket.reopened", "ticket.extension_requested"}
# Whose note only those who see penalty proposals may read (who is to be penalised, why).
PENALTY_CODES = {"ticket.penalty_proposed"}


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def describe(event: TicketEvent) -> str:
    """The facts of an event's data worth a line on the page ("" when none)."""
    data = event.data if isinstance(event.data, dict) else {}
    code = event.code
    if code == "ticket.routed" and data.get("slip"):
        return _("告知单 %(no)s") % {"no": data["slip"]}
    if code == "ticket.handling" and data.get("outcome"):
        return _label(HandlingOutcome, data["outcome"])
    if code == "ticket.escalated" and data.get("level"):
        reason = _label(EscalationReason, data.get("reason", ""))
        return _("%(reason)s，升至第 %(level)s 级") % {"reason": reason, "level": data["level"]}
    if code in ("ticket.confirmed", "ticket.reopened") and data.get("score"):
        return _("满意度 %(score)s 分") % {"score": data["score"]}
    if code == "ticket.updated" and isinstance(data.get("fields"), list):
        names = [str(FIELD_LABELS.get(name, name)) for name in data["fields"]]
        return _("修改了：%(fields)s") % {"fields": "、".join(names)}
    if code == "ticket.refund_requested" and data.get("amount"):
        return f"{_label(RefundKind, data.get('kind', ''))} ¥{data['amount']}"
    if code == "ticket.resumed" and data.get("waited_minutes") is not None:
        return _("等待 %(m)s 工作分钟") % {"m": data["waited_minutes"]}
    if code == "ticket.linked" and data.get("other"):
        return str(data["other"])
    if code == "ticket.attachment.added" and data.get("name"):
        return str(data["name"])
    return ""


def decorate(events, *, show_penalties: bool) -> list[TicketEvent]:
    """Events with `label`, `detail`, `attention` and `shown_note` for the template."""
    rows = list(events)
    for event in rows:
        event.label = str(LABELS.get(event.code, event.code))
        event.detail = describe(event)
        event.attention = event.code in ATTENTION
        event.shown_note = "" if event.code in PENALTY_CODES and not show_penalties else event.note
    return rows
