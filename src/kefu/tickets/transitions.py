"""Which move is allowed from which status: the one table every service consults, so
the UI, the API and bulk actions refuse the same things with the same message."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import InvalidState
from kefu.tickets.choices import OPEN_STATUSES, TicketErrorCode, TicketStatus

S = TicketStatus
NOT_FINISHED = (*OPEN_STATUSES, S.RESOLVED, S.CONFIRMED)

ALLOWED: dict[str, tuple[str, ...]] = {
    "update": NOT_FINISHED,
    "assign": NOT_FINISHED,
    "route": (S.REGISTERED, S.ROUTED, S.IN_PROGRESS),
    "accept": (S.ROUTED, S.IN_PROGRESS),
    "handle": (S.ROUTED, S.IN_PROGRESS),
    "reply": (S.ROUTED, S.IN_PROGRESS),
    "request_extension": (S.ROUTED, S.IN_PROGRESS),
    "resolve": (S.REGISTERED, S.ROUTED, S.IN_PROGRESS),
    "confirm": (S.RESOLVED,),
    "reopen": (S.RESOLVED, S.CONFIRMED, S.CLOSED),
    "close": (S.RESOLVED, S.CONFIRMED),
    "withdraw": (*OPEN_STATUSES, S.RESOLVED),
    "duplicate": OPEN_STATUSES,
    "merge": OPEN_STATUSES,
    "pause": OPEN_STATUSES,
    "resume": OPEN_STATUSES,
    "escalate": OPEN_STATUSES,
    "supervise": OPEN_STATUSES,
    "refund": NOT_FINISHED,
    "comment": tuple(S.values),
    "attach": NOT_FINISHED,
}

ACTION_NAMES = {
    "update": gettext_lazy("修改"),
    "assign": gettext_lazy("指定负责人"),
    "route": gettext_lazy("派单"),
    "accept": gettext_lazy("接收告知单"),
    "handle": gettext_lazy("记录处理"),
    "reply": gettext_lazy("回复告知单"),
    "request_extension": gettext_lazy("申请延期"),
    "resolve": gettext_lazy("填写处理结果"),
    "confirm": gettext_lazy("回访确认"),
    "reopen": gettext_lazy("重新打开"),
    "close": gettext_lazy("关闭"),
    "withdraw": gettext_lazy("撤销"),
    "duplicate": gettext_lazy("标记为重复"),
    "merge": gettext_lazy("合并"),
    "pause": gettext_lazy("暂停计时"),
    "resume": gettext_lazy("恢复计时"),
    "escalate": gettext_lazy("升级"),
    "supervise": gettext_lazy("督办"),
    "refund": gettext_lazy("申请退款/补偿"),
    "comment": gettext_lazy("备注"),
    "attach": gettext_lazy("上传附件"),
}


def allowed(action: str, status: str) -> bool:
    return status in ALLOWED[action]


def check(action: str, ticket) -> None:
    """Refuse `action` on `ticket` in its current status, naming both in Chinese."""
    if not allowed(action, ticket.status):
        raise InvalidState(
            _("工单当前状态为“%(status)s”，不能%(action)s。")
            % {"status": TicketStatus(ticket.status).label, "action": ACTION_NAMES[action]},
            code=TicketErrorCode.ILLEGAL_TRANSITION,
            details={"status": ticket.status, "action": action},
        )


def available_actions(ticket) -> list[str]:
    """The moves the status allows (the caller still checks permissions)."""
    return [action for action, statuses in ALLOWED.items() if ticket.status in statuses]
