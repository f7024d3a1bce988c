"""The tickets' menu entries and home-dashboard figures (the figures go through the
scoped selector, so each person counts only what they may see)."""

from django.utils.translation import gettext_lazy as _

from kefu.core.navigation import Counter, NavItem, register_counter, register_nav, register_section

VIEW = "tickets.view_ticket"
ADD = "tickets.add_ticket"


def _queue_count(queue: str):
    def count(user) -> int:
        from kefu.tickets.selectors import TicketFilters, ticket_list

        return ticket_list(user=user, filters=TicketFilters(queue=queue)).count()

    count.__name__ = f"tickets_{queue}_count"
    return count


# Module-level so a second `register()` registers equal counters (not duplicates).
_MINE = _queue_count("mine")
_DEPARTMENT = _queue_count("department")
_OVERDUE = _queue_count("overdue")
_DUE_SOON = _queue_count("due_soon")


def register() -> None:
    register_section("tickets", _("工单"), 20)
    register_nav(NavItem("tickets", _("工单队列"), "tickets:list", perm=VIEW, order=10))
    register_nav(NavItem("tickets", _("来电登记"), "tickets:call", perm=ADD, order=20))
    register_nav(NavItem("tickets", _("重要投诉档案"), "tickets:important", perm=VIEW, order=40))
    register_nav(
        NavItem("tickets", _("员工被投诉统计"), "tickets:discipline", perm="tickets.view_penaltyproposal", order=60)
    )
    register_nav(
        NavItem("tickets", _("告知单月度存档"), "tickets:slip_archive", perm="tickets.export_ticket", order=70)
    )
    register_nav(NavItem("tickets", _("工单配置"), "tickets:settings", perm="tickets.manage_ticket_settings", order=90))
    register_counter(Counter(_("我的工单"), _MINE, url_name="tickets:queue_mine", perm=ADD, order=30))
    register_counter(
        Counter(
            _("本部门告知单"), _DEPARTMENT, url_name="tickets:queue_department", perm="tickets.handle_ticket", order=31
        )
    )
    register_counter(Counter(_("即将超时工单"), _DUE_SOON, url_name="tickets:queue_due_soon", perm=VIEW, order=32))
    register_counter(Counter(_("已超时工单"), _OVERDUE, url_name="tickets:queue_overdue", perm=VIEW, order=33))
