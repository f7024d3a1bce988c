"""The return visits' menu entries and home-dashboard figures (the figures go through the
scoped selectors, so each person counts only what they may see). Called from
visits/hooks.py."""

from django.utils.translation import gettext_lazy as _

from kefu.core.navigation import Counter, NavItem, register_counter, register_nav, register_section

VIEW = "visits.view_visit"
RECORD = "visits.record_visit"
VIEW_REGION = "visits.view_region_visits"
ADD = "visits.add_visit"


def due_today_count(user) -> int:
    """The user's own visits due today or overdue (their call list)."""
    from kefu.visits.selectors import call_list

    return call_list(user=user, section="due").count()


def team_overdue_count(user) -> int:
    """Planned visits past their date, among those the user oversees."""
    from kefu.visits.oversight import overdue_count

    return overdue_count(user=user)


def register() -> None:
    register_section("visits", _("回访"), 30)
    register_nav(NavItem("visits", _("回访清单"), "visits:list", perm=VIEW, order=10))
    register_nav(NavItem("visits", _("安排回访"), "visits:create", perm=ADD, order=20))
    register_nav(NavItem("visits", _("回访监督"), "visits:oversight", perm=VIEW_REGION, order=30))
    register_nav(NavItem("visits", _("回访活动"), "visits:campaigns", perm="visits.add_campaign", order=50))
    register_nav(NavItem("visits", _("回访配置"), "visits:settings", perm="visits.manage_visit_settings", order=60))
    register_counter(Counter(_("今日待回访"), due_today_count, url_name="visits:list", perm=RECORD, order=40))
    register_counter(Counter(_("逾期回访"), team_overdue_count, url_name="visits:list", perm=VIEW_REGION, order=41))
