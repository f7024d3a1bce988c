"""The core module's menu entries and home-dashboard figures."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core import access
from kefu.core.models import AuditEvent, Department, User
from kefu.core.navigation import Counter, NavItem, register_counter, register_nav, register_section


def _active_staff(user) -> int:
    return access.restrict(User.objects.filter(is_active=True), user, "core.view_user").count()


def _active_departments(user) -> int:
    return access.restrict(Department.objects.filter(is_active=True), user, "core.view_department").count()


def _audit_events_today(user) -> int:
    start = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
    return access.restrict(AuditEvent.objects.filter(created_at__gte=start), user, "core.view_audit").count()


def _approvals_awaiting_me(user) -> int:
    from kefu.core.selectors.approvals import approval_requests_awaiting

    return approval_requests_awaiting(user).count()


def register() -> None:
    register_section("approvals", _("审批"), 70)
    register_section("org", _("组织与日历"), 80)
    register_section("system", _("系统"), 90)

    register_nav(NavItem("org", _("部门"), "org:department_list", perm="core.view_department", order=10))
    register_nav(NavItem("org", _("片区"), "org:region_list", perm="core.view_region", order=20))
    register_nav(NavItem("org", _("员工"), "org:staff_list", perm="core.view_user", order=30))
    register_nav(NavItem("org", _("角色与权限"), "org:role_list", perm="core.view_user", order=40))
    register_nav(NavItem("org", _("工作日历"), "calendar:index", perm="core.view_calendarday", order=50))
    register_nav(NavItem("org", _("工作时间"), "calendar:hours", perm="core.view_calendarday", order=55))
    register_nav(NavItem("system", _("审计日志"), "audit:list", perm="core.view_audit", order=10))

    register_nav(NavItem("approvals", _("待我审批"), "approvals:awaiting", perm="core.view_approvalrequest", order=10))
    register_nav(NavItem("approvals", _("审批记录"), "approvals:list", order=20))
    register_nav(NavItem("approvals", _("审批流程"), "approvals:policy_list", perm="core.manage_approvals", order=30))

    register_counter(
        Counter(
            _("待我审批"),
            _approvals_awaiting_me,
            url_name="approvals:awaiting",
            perm="core.view_approvalrequest",
            order=10,
        )
    )
    register_counter(Counter(_("在岗员工"), _active_staff, perm="core.view_user", order=80))
    register_counter(Counter(_("部门"), _active_departments, perm="core.view_department", order=81))
    register_counter(
        Counter(_("今日审计事件"), _audit_events_today, url_name="audit:list", perm="core.view_audit", order=90)
    )
