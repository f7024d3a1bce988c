"""The one access mechanism: role, scope, object rules."""

import pytest
import rules

from kefu.core import access
from kefu.core.errors import AccessDenied, NotFound
from kefu.core.models import User
from tests.factories import DepartmentFactory, RegionFactory

pytestmark = pytest.mark.django_db


def test_restrict_without_role_returns_nothing(make_user):
    nobody = make_user()
    make_user("agent")
    assert access.restrict(User.objects.all(), nobody, "core.view_user").count() == 0


def test_restrict_limits_to_scope_regions_departments_and_self(make_user):
    east, west = RegionFactory(), RegionFactory()
    sales = DepartmentFactory()
    viewer = make_user("supervisor", region=east)
    in_region = make_user(region=east)
    in_department = make_user(department=sales)
    outside = make_user(region=west)

    visible = set(access.restrict(User.objects.all(), viewer, "core.view_user"))
    assert viewer in visible and in_region in visible
    assert in_department not in visible and outside not in visible

    viewer.scope_departments.add(sales)
    viewer = User.objects.get(pk=viewer.pk)  # scope caches live on the instance
    assert in_department in set(access.restrict(User.objects.all(), viewer, "core.view_user"))


def test_scope_all_sees_everything(make_user):
    far = make_user(region=RegionFactory())
    boss = make_user("manager", scope_all=True)
    assert far in set(access.restrict(User.objects.all(), boss, "core.view_user"))


def test_require_reports_out_of_scope_as_not_found_and_missing_role_as_denied(make_user):
    agent = make_user("agent", region=RegionFactory())
    stranger = make_user(region=RegionFactory())
    with pytest.raises(NotFound):
        access.require(agent, "core.view_user", stranger)
    with pytest.raises(AccessDenied):
        access.require(agent, "core.manage_organisation")
    access.require(agent, "core.view_user", agent)


def test_object_rule_is_applied_on_top_of_role_and_scope(make_user):
    boss = make_user("manager", scope_all=True)
    other = make_user()
    perm = "core.change_user"
    boss.user_permissions.add(*[])
    access.OBJECT_RULES.add_rule(perm, rules.predicate(lambda user, obj: obj.pk != user.pk))
    try:
        from django.contrib.auth.models import Permission

        boss.user_permissions.add(Permission.objects.get(codename="change_user"))
        boss = User.objects.get(pk=boss.pk)
        assert access.can(boss, perm, other)
        assert not access.can(boss, perm, boss)
    finally:
        access.OBJECT_RULES.remove_rule(perm)


def test_inactive_user_has_no_access(make_user):
    boss = make_user("manager", scope_all=True, is_active=False)
    assert not access.has_perm(boss, "core.view_user")
    assert access.restrict(User.objects.all(), boss, "core.view_user").count() == 0


def test_in_scope_reads_the_rows_own_columns_without_a_query_and_asks_the_database_otherwise(make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories_customers import make_customer

    east, west = RegionFactory(), RegionFactory()
    manager = make_user("manager", scope_all=True)
    agent = make_user("agent", region=east)
    access.user_region_ids(agent)  # the scope, read once per request
    ours = make_customer(manager, name="本片客户", region=east)
    theirs = make_customer(manager, name="外片客户", region=west)
    owned = make_customer(manager, name="我负责的外片客户", region=west, owner=agent)

    with CaptureQueriesContext(connection) as queries:
        assert access.in_scope(agent, ours)
        assert access.in_scope(agent, owned)
    assert len(queries) == 0
    # Outside by its own columns: the database has the last word (the same rule as lists).
    with CaptureQueriesContext(connection) as queries:
        assert not access.in_scope(agent, theirs)
    assert len(queries) == 1
    # A user's own scope columns (department, region, the row itself) answer likewise.
    with CaptureQueriesContext(connection) as queries:
        assert access.in_scope(agent, agent)
    assert len(queries) == 0
