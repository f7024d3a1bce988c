"""Who is told what about a ticket. Messages go into the in-app inbox inside the
transaction of the change, keyed so that a retried job or a double click tells nobody
twice (`notify_users` ignores keys it has already used)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.models import User
from kefu.notify.services import notify_users
from kefu.tickets.links import ticket_url
from kefu.tickets.models import Ticket, TicketRouting

HANDLE = "tickets.handle_ticket"


def holders_of(perm: str) -> QuerySet[User]:
    """Active users granted `perm` through a role (or directly, or superusers)."""
    app_label, codename = perm.split(".", 1)
    granted = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label) | Q(
        user_permissions__codename=codename, user_permissions__content_type__app_label=app_label
    )
    return User.objects.filter(is_active=True).filter(granted | Q(is_superuser=True)).distinct()


def department_people(department_ids: Iterable[int]) -> QuerySet[User]:
    """Those who work a department's slips, and the department's head."""
    ids = list(department_ids)
    members = holders_of(HANDLE).filter(Q(department_id__in=ids) | Q(scope_departments__in=ids))
    heads = User.objects.filter(is_active=True, headed_departments__in=ids)
    return User.objects.filter(Q(pk__in=members.values("pk")) | Q(pk__in=heads.values("pk")))


def who_sees(users: Iterable[User], ticket: Ticket) -> list[User]:
    """The users among `users` whose scope covers the ticket."""
    return [u for u in users if access.can(u, "tickets.view_ticket", ticket)]


def notify_routed(routings: list[TicketRouting], *, reopened: bool = False) -> None:
    """Each routed department learns of its slip (and again when the ticket reopens)."""
    for routing in routings:
        ticket = routing.ticket
        title = (_("工单重开，请再次处理：%(no)s") if reopened else _("新的告知单：%(no)s")) % {"no": routing.slip_no}
        notify_users(
            recipients=department_people([routing.department_id]),
            title=title,
            body=_("%(title)s；请于 %(due)s 前回复。")
            % {"title": ticket.title, "due": routing.due_at.astimezone().strftime("%Y-%m-%d %H:%M")},
            link=ticket_url(ticket),
            category="ticket",
            key=f"ticket:{ticket.pk}:slip:{routing.pk}:c{ticket.cycle}",
        )


def notify_ticket_owner(ticket: Ticket, *, key: str, title: str, body: str = "") -> None:
    """The agent chasing the ticket (its assignee)."""
    if ticket.assignee_id is None:
        return
    notify_users(
        recipients=[ticket.assignee], title=title, body=body, link=ticket_url(ticket), category="ticket", key=key
    )


def notify_many(ticket: Ticket, users: Iterable[User], *, key: str, title: str, body: str = "") -> None:
    notify_users(recipients=users, title=title, body=body, link=ticket_url(ticket), category="ticket", key=key)
