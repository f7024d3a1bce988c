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


def register() -> None:
    register_section("org", _("组织管理"), 80)
    register_section("system", _("系统"), 90)

    register_nav(NavItem("system", _("审计日志"), "audit:list", perm="core.view_audit", order=10))

    register_counter(Counter(_("在岗员工"), _active_staff, perm="core.view_user", order=80))
    register_counter(Counter(_("部门"), _active_departments, perm="core.view_department", order=81))
    register_counter(
        Counter(_("今日审计事件"), _audit_events_today, url_name="audit:list", perm="core.view_audit", order=90)
    )
