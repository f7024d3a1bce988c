"""Helpers shared by the ticket services: permissions, locking, text checks."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from kefu.tickets.choices import TicketErrorCode
from kefu.tickets.models import Ticket, TicketRouting

VIEW = "tickets.view_ticket"
ADD = "tickets.add_ticket"
CHANGE = "tickets.change_ticket"
ROUTE = "tickets.route_ticket"
HANDLE = "tickets.handle_ticket"
RESOLVE = "tickets.resolve_ticket"
CONFIRM = "tickets.confirm_ticket"
SUPERVISE = "tickets.supervise_ticket"
EXPORT = "tickets.export_ticket"
MARK_IMPORTANT = "tickets.mark_important"
REQUEST_REFUND = "tickets.request_refund"
MANAGE_SETTINGS = "tickets.manage_ticket_settings"


def lock_ticket(ticket: Ticket, *, expected_version: int | None = None) -> Ticket:
    """The ticket row locked for the rest of the transaction; a stale `expected_version`
    (somebody saved in between) is a 409."""
    locked = Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    if locked is None:
        raise NotFound(_("工单不存在。"))
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该工单已被他人修改，请刷新后重试。"), details={"version": locked.version})
    return locked


def require_ticket(actor, perm: str, ticket: Ticket) -> None:
    """Role, scope (a department sees only what was routed to it) and object rules."""
    access.require(actor, perm, ticket)


def may_act_for_department(actor, department_id: int) -> bool:
    """Department staff act on their own department's slips; the service desk's
    supervisors and those who see everything may act on any."""
    if access.sees_everything(actor) or access.has_perm(actor, SUPERVISE):
        return True
    return department_id in access.user_department_ids(actor)


def require_routing(actor, perm: str, routing: TicketRouting) -> None:
    access.require(actor, perm, routing.ticket)
    if not may_act_for_department(actor, routing.department_id):
        raise AccessDenied(
            _("这张告知单派给了“%(dept)s”，只有该部门人员或主管可以处理。") % {"dept": routing.department.name},
            code=TicketErrorCode.NOT_ROUTED_TO_YOU,
        )


def clean_text(value: str | None, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(_("请填写%(label)s。") % {"label": label}, details={"field": field})
    if len(text) > max_length:
        raise ValidationFailed(
            _("%(label)s不能超过 %(n)s 个字符。") % {"label": label, "n": max_length}, details={"field": field}
        )
    return text


def bump(ticket: Ticket, fields: list[str]) -> None:
    """Save `fields` of a locked ticket with a new version."""
    ticket.version += 1
    ticket.save(update_fields=[*dict.fromkeys([*fields, "version", "updated_at"])])
