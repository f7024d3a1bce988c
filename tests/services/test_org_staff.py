"""Services of staff and roles: creation, profile, roles, scope, (de)activation,
passwords, role permissions, and the rule that nobody widens their own access."""

import json

import pytest
from django.contrib.auth.models import Group

from kefu.core.errors import AccessDenied, Conflict, InvalidState, NotFound, ValidationFailed
from kefu.core.models import AuditEvent, Department, User
from kefu.core.services import org as services
from tests.conftest import PASSWORD
from tests.factories import DepartmentFactory, RegionFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Ke-fu-2024-new!"


def events(code):
    return AuditEvent.objects.filter(code=code)


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="sysadmin")


def create(actor, **overrides):
    values = {"username": "zhangsan", "display_name": "张三", "password": NEW_PASSWORD, "roles": ["agent"]}
    values.update(overrides)
    return services.staff_create(actor=actor, **values)


# --- create -------------------------------------------------------------------------


def test_create_staff_with_password_roles_and_audit_without_the_password(manager):
    department, region = DepartmentFactory(code="service"), RegionFactory(code="east")
    user = create(manager, department=department, region=region, employee_no="A001", phone="13812345678")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert sorted(user.groups.values_list("name", flat=True)) == ["agent"]
    assert (user.department, user.region, user.employee_no, user.scope_all) == (department, region, "A001", False)
    event = events("staff.created").get()
    assert event.actor == manager and event.data["roles"] == ["agent"] and event.data["employee_no"] == "A001"
    dumped = json.dumps([event.data, event.changes], ensure_ascii=False)
    assert NEW_PASSWORD not in dumped and user.password not in dumped


def test_scope_all_defaults_to_what_the_roles_suggest(manager):
    assert create(manager, username="boss", roles=["manager"]).scope_all
    assert not create(manager, username="clerk", roles=["agent"]).scope_all
    assert not create(manager, username="boss2", roles=["manager"], scope_all=False).scope_all


def test_create_with_scope_regions_and_departments(manager):
    east, west = RegionFactory(), RegionFactory()
    sales = DepartmentFactory()
    user = create(manager, scope_regions=[east, west], scope_departments=[sales])
    assert set(user.scope_regions.all()) == {east, west} and list(user.scope_departments.all()) == [sales]
    assert events("staff.created").get().data["scope_regions"] == sorted([east.pk, west.pk])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "ZhangSan"}, "username"),  # case-insensitive duplicate of the existing one
        ({"username": "lisi", "employee_no": "A001"}, "employee_no"),
        ({"username": "lisi", "password": "123"}, "password"),
        ({"username": "lisi", "password": "password"}, "password"),
        ({"username": "lisi", "roles": ["wizard"]}, "roles"),
        ({"username": "lisi", "roles": []}, "roles"),
        ({"username": "lisi", "display_name": " "}, "display_name"),
        ({"username": "li si"}, "username"),
        ({"username": "lisi", "email": "not-an-email"}, "email"),
    ],
)
def test_invalid_staff_input_is_refused_per_field(manager, overrides, field):
    create(manager, employee_no="A001")
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        create(manager, **overrides)
    assert caught.value.details["field"] == field, caught.value.message
    assert User.objects.count() == before
    assert events("staff.created").count() == 1


def test_blank_employee_numbers_do_not_clash(manager):
    create(manager, username="a", employee_no="")
    create(manager, username="b", employee_no="")
    assert User.objects.filter(employee_no="").count() >= 2


def test_staff_cannot_be_put_in_a_deactivated_department(manager):
    closed = DepartmentFactory(is_active=False)
    with pytest.raises(ValidationFailed) as caught:
        create(manager, department=closed)
    assert caught.value.details["field"] == "department"
    assert not User.objects.filter(username="zhangsan").exists()


@pytest.mark.parametrize("role", ["agent", "supervisor", "director", "finance"])
def test_only_organisation_managers_create_staff(make_user, role):
    actor = make_user(role, scope_all=True)
    with pytest.raises(AccessDenied):
        create(actor)
    assert not User.objects.filter(username="zhangsan").exists()
    assert not events("staff.created").exists()


def test_admin_creates_staff(admin):
    assert create(admin).pk


# --- update -------------------------------------------------------------------------


def test_update_profile_audits_before_and_after_and_bumps_version(manager, make_user):
    user = make_user("agent", display_name="王五", title="话务员")
    department = DepartmentFactory()
    services.staff_update(
        actor=manager, user=user, values={"title": "主管", "department": department}, expected_version=1
    )
    user.refresh_from_db()
    assert (user.title, user.department, user.version) == ("主管", department, 2)
    assert events("staff.updated").get().changes == {"title": ["话务员", "主管"], "department": [None, department.pk]}


def test_stale_staff_version_is_a_conflict(manager, make_user):
    user = make_user("agent", display_name="王五")
    services.staff_update(actor=manager, user=user, values={"display_name": "王五一"}, expected_version=1)
    with pytest.raises(Conflict):
        services.staff_update(
            actor=manager, user=User.objects.get(pk=user.pk), values={"display_name": "王五二"}, expected_version=1
        )
    assert User.objects.get(pk=user.pk).display_name == "王五一"
    assert events("staff.updated").count() == 1


def test_duplicate_employee_no_on_update_is_refused(manager, make_user):
    make_user("agent", employee_no="B7")
    user = make_user("agent", employee_no="B8")
    with pytest.raises(ValidationFailed) as caught:
        services.staff_update(actor=manager, user=user, values={"employee_no": "B7"}, expected_version=1)
    assert caught.value.details["field"] == "employee_no"
    assert User.objects.get(pk=user.pk).employee_no == "B8"
    assert not events("staff.updated").exists()


def test_username_is_not_changed_by_update(manager, make_user):
    user = make_user("agent")
    with pytest.raises(ValidationFailed):
        services.staff_update(actor=manager, user=user, values={"username": "x"}, expected_version=1)


def test_nobody_moves_themselves_to_another_department_or_region(admin):
    other = DepartmentFactory()
    with pytest.raises(AccessDenied):
        services.staff_update(actor=admin, user=admin, values={"department": other}, expected_version=1)
    assert User.objects.get(pk=admin.pk).department is None
    # their own name and phone they may change
    services.staff_update(actor=admin, user=admin, values={"phone": "010-888"}, expected_version=1)
    assert User.objects.get(pk=admin.pk).phone == "010-888"


# --- roles --------------------------------------------------------------------------


def test_set_roles_replaces_them_and_audits_before_after(manager, make_user):
    user = make_user("agent")
    services.staff_set_roles(actor=manager, user=user, roles=["supervisor", "quality_officer"], expected_version=1)
    assert sorted(user.groups.values_list("name", flat=True)) == ["quality_officer", "supervisor"]
    event = events("staff.roles_changed").get()
    assert event.changes == {"roles": [["agent"], ["quality_officer", "supervisor"]]}
    assert event.data == {"added": ["quality_officer", "supervisor"], "removed": ["agent"]}
    assert User.objects.get(pk=user.pk).version == 2


def test_set_roles_refuses_unknown_roles_and_stale_versions(manager, make_user):
    user = make_user("agent")
    with pytest.raises(ValidationFailed):
        services.staff_set_roles(actor=manager, user=user, roles=["agent", "king"])
    with pytest.raises(Conflict):
        services.staff_set_roles(actor=manager, user=user, roles=["supervisor"], expected_version=9)
    assert list(user.groups.values_list("name", flat=True)) == ["agent"]
    assert not events("staff.roles_changed").exists()


def test_nobody_gives_themselves_a_role(admin):
    with pytest.raises(AccessDenied):
        services.staff_set_roles(actor=admin, user=admin, roles=["admin", "manager"])
    assert list(admin.groups.values_list("name", flat=True)) == ["admin"]
    assert not events("staff.roles_changed").exists()


def test_a_superuser_may_change_their_own_roles(make_user):
    root = make_user(is_superuser=True)
    services.staff_set_roles(actor=root, user=root, roles=["manager"])
    assert list(root.groups.values_list("name", flat=True)) == ["manager"]


def test_agents_may_not_set_roles(make_user):
    agent = make_user("agent")
    with pytest.raises(AccessDenied):
        services.staff_set_roles(actor=agent, user=agent, roles=["manager"])
    assert list(agent.groups.values_list("name", flat=True)) == ["agent"]


# --- scope --------------------------------------------------------------------------


def test_set_scope_audits_id_lists_before_and_after(manager, make_user):
    east, west = RegionFactory(), RegionFactory()
    sales = DepartmentFactory()
    user = make_user("supervisor", scope_regions=[east])
    changes = services.staff_set_scope(
        actor=manager, user=user, scope_all=False, regions=[east, west], departments=[sales], expected_version=1
    )
    assert changes == {
        "scope_regions": ([east.pk], sorted([east.pk, west.pk])),
        "scope_departments": ([], [sales.pk]),
    }
    assert set(user.scope_regions.all()) == {east, west}
    event = events("staff.scope_changed").get()
    assert event.changes["scope_regions"] == [[east.pk], sorted([east.pk, west.pk])]
    assert User.objects.get(pk=user.pk).version == 2


def test_unchanged_scope_writes_nothing(manager, make_user):
    user = make_user("agent")
    assert services.staff_set_scope(actor=manager, user=user, scope_all=False, regions=[], departments=[]) == {}
    assert not events("staff.scope_changed").exists()
    assert User.objects.get(pk=user.pk).version == 1


def test_admin_cannot_give_themselves_scope_all(admin):
    # 系统管理员: no customer data by default
    with pytest.raises(AccessDenied):
        services.staff_set_scope(actor=admin, user=admin, scope_all=True, regions=[], departments=[])
    assert not User.objects.get(pk=admin.pk).scope_all
    assert not events("staff.scope_changed").exists()


def test_admin_cannot_add_regions_to_their_own_scope_but_may_remove_them(admin):
    east, west = RegionFactory(), RegionFactory()
    admin.scope_regions.add(east)
    with pytest.raises(AccessDenied):
        services.staff_set_scope(actor=admin, user=admin, scope_all=False, regions=[east, west], departments=[])
    assert list(admin.scope_regions.all()) == [east]
    services.staff_set_scope(actor=admin, user=admin, scope_all=False, regions=[], departments=[])
    assert not admin.scope_regions.exists()


def test_admin_may_give_someone_else_scope_all_and_a_manager_may_give_it_to_the_admin(admin, manager, make_user):
    clerk = make_user("archivist")
    services.staff_set_scope(actor=admin, user=clerk, scope_all=True, regions=[], departments=[])
    assert User.objects.get(pk=clerk.pk).scope_all
    services.staff_set_scope(actor=manager, user=admin, scope_all=True, regions=[], departments=[])
    assert User.objects.get(pk=admin.pk).scope_all
    assert events("staff.scope_changed").count() == 2


def test_a_new_scope_takes_effect_on_the_instance(manager, make_user):
    from kefu.core import access

    east = RegionFactory()
    user = make_user("supervisor")
    assert access.user_region_ids(user) == set()
    services.staff_set_scope(actor=manager, user=user, scope_all=False, regions=[east], departments=[])
    assert access.user_region_ids(user) == {east.pk}


# --- deactivate / reactivate / password ----------------------------------------------


def test_deactivate_keeps_the_row_and_audits(manager, make_user):
    user = make_user("agent")
    services.staff_deactivate(actor=manager, user=user)
    user.refresh_from_db()
    assert not user.is_active
    assert events("staff.deactivated").get().changes == {"is_active": [True, False]}
    with pytest.raises(InvalidState):
        services.staff_deactivate(actor=manager, user=user)
    services.staff_reactivate(actor=manager, user=user)
    assert User.objects.get(pk=user.pk).is_active
    assert events("staff.reactivated").count() == 1


def test_nobody_deactivates_themselves(manager):
    with pytest.raises(InvalidState) as caught:
        services.staff_deactivate(actor=manager, user=manager)
    assert "自己" in caught.value.message
    assert User.objects.get(pk=manager.pk).is_active
    assert not events("staff.deactivated").exists()


def test_agents_may_not_deactivate_staff(make_user):
    agent, other = make_user("agent"), make_user("agent")
    with pytest.raises(AccessDenied):
        services.staff_deactivate(actor=agent, user=other)
    assert User.objects.get(pk=other.pk).is_active


def test_set_password_is_audited_without_the_password(manager, make_user):
    user = make_user("agent")
    services.staff_set_password(actor=manager, user=user, password=NEW_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    event = events("staff.password_set").get()
    dumped = json.dumps([event.data, event.changes], ensure_ascii=False)
    assert NEW_PASSWORD not in dumped and "pbkdf2" not in dumped and user.password not in dumped


def test_weak_password_is_refused(manager, make_user):
    user = make_user("agent")
    with pytest.raises(ValidationFailed) as caught:
        services.staff_set_password(actor=manager, user=user, password="12345678")
    assert caught.value.details["field"] == "password"
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    assert not events("staff.password_set").exists()


# --- role permissions ---------------------------------------------------------------


def agent_perms():
    return sorted(
        f"{a}.{c}"
        for a, c in Group.objects.get(name="agent").permissions.values_list("content_type__app_label", "codename")
    )


def test_role_permissions_are_replaced_and_audited(manager):
    before = agent_perms()
    wanted = [*[p for p in before if p != "core.view_calendarday"], "core.export_data"]
    services.role_set_permissions(actor=manager, role_code="agent", permissions=wanted)
    assert agent_perms() == sorted(wanted)
    event = events("role.permissions_changed").get()
    assert event.object_type == "auth.group" and event.object_repr == "客服专员"
    assert event.data == {"added": ["core.export_data"], "removed": ["core.view_calendarday"]}
    assert event.changes["permissions"] == [before, sorted(wanted)]


@pytest.mark.parametrize("perm", ["auth.add_group", "contenttypes.view_contenttype", "core.no_such_thing", "nodot"])
def test_only_permissions_of_kefu_apps_may_be_granted(manager, perm):
    before = agent_perms()
    with pytest.raises(ValidationFailed) as caught:
        services.role_set_permissions(actor=manager, role_code="agent", permissions=[*before, perm])
    assert caught.value.details["field"] == "permissions"
    assert agent_perms() == before
    assert not events("role.permissions_changed").exists()


def test_unknown_role_is_not_found(manager):
    with pytest.raises(NotFound):
        services.role_set_permissions(actor=manager, role_code="wizard", permissions=[])


def test_nobody_adds_permissions_to_a_role_they_hold(admin):
    with pytest.raises(AccessDenied):
        services.role_set_permissions(
            actor=admin, role_code="admin", permissions=["core.reveal_pii", "core.manage_organisation"]
        )
    assert not Group.objects.get(name="admin").permissions.filter(codename="reveal_pii").exists()
    assert not events("role.permissions_changed").exists()


def test_admin_edits_other_roles(admin):
    services.role_set_permissions(actor=admin, role_code="finance", permissions=["core.view_user"])
    perms = Group.objects.get(name="finance").permissions.values_list("codename", flat=True)
    assert list(perms) == ["view_user"]


def test_agents_may_not_edit_role_permissions(make_user):
    agent = make_user("agent")
    before = agent_perms()
    with pytest.raises(AccessDenied):
        services.role_set_permissions(actor=agent, role_code="agent", permissions=[*before, "core.reveal_pii"])
    assert agent_perms() == before


def test_staff_of_a_deactivated_department_can_still_be_edited(manager, make_user):
    # given a member of staff whose department was closed after they joined
    closed = DepartmentFactory()
    member = make_user("agent", department=closed)
    Department.objects.filter(pk=closed.pk).update(is_active=False)
    services.staff_update(
        actor=manager, user=member, values={"title": "退休", "department": closed}, expected_version=1
    )
    assert User.objects.get(pk=member.pk).title == "退休"
