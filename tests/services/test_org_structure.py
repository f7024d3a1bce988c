"""Services of departments and regions: validation, versions, audit, deactivation rules."""

import pytest

from kefu.core.errors import AccessDenied, Conflict, InvalidState, ValidationFailed
from kefu.core.models import AuditEvent, Department, Region
from kefu.core.services import org as services
from tests.factories import DepartmentFactory, RegionFactory

pytestmark = pytest.mark.django_db


def events(code):
    return AuditEvent.objects.filter(code=code)


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="sysadmin")


# --- departments --------------------------------------------------------------------


def test_manager_creates_a_department_and_it_is_audited(manager):
    # given a parent department and a head
    parent = DepartmentFactory(code="hq", name="总部")
    # when
    department = services.department_create(
        actor=manager, code="repair", name="维修部", kind="other", parent=parent, head=manager, phone="010-1234"
    )
    # then
    department.refresh_from_db()
    assert (department.name, department.parent, department.head, department.version) == ("维修部", parent, manager, 1)
    event = events("department.created").get()
    assert event.actor == manager and event.object_id == str(department.pk)
    assert event.data["code"] == "repair" and event.data["parent"] == parent.pk


def test_admin_may_manage_departments_too(make_user):
    admin = make_user("admin")
    department = services.department_create(actor=admin, code="design", name="设计部")
    assert Department.objects.filter(pk=department.pk).exists()


@pytest.mark.parametrize("role", ["agent", "supervisor", "director", "archivist"])
def test_only_organisation_managers_may_create_departments(make_user, role):
    actor = make_user(role, scope_all=True)
    with pytest.raises(AccessDenied):
        services.department_create(actor=actor, code="x", name="某部")
    assert not Department.objects.filter(code="x").exists()
    assert not events("department.created").exists()


def test_duplicate_department_code_is_refused_with_the_field(manager):
    DepartmentFactory(code="service", name="客服部")
    with pytest.raises(ValidationFailed) as caught:
        services.department_create(actor=manager, code="service", name="另一个客服部")
    assert caught.value.details["field"] == "code"
    assert "客服部" in caught.value.message
    assert Department.objects.filter(code="service").count() == 1
    assert not events("department.created").exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"code": "", "name": "某部"}, "code"),
        ({"code": "bad code!", "name": "某部"}, "code"),
        ({"code": "ok", "name": "  "}, "name"),
        ({"code": "ok", "name": "某部", "kind": "nonsense"}, "kind"),
    ],
)
def test_invalid_department_input_is_refused_per_field(manager, values, field):
    with pytest.raises(ValidationFailed) as caught:
        services.department_create(actor=manager, **values)
    assert caught.value.details["field"] == field
    assert not Department.objects.exists()
    assert not events("department.created").exists()


def test_update_changes_fields_bumps_version_and_audits_before_after(manager):
    department = DepartmentFactory(code="sales", name="销售部")
    changes = services.department_update(
        actor=manager, department=department, values={"name": "销售一部", "phone": "123"}, expected_version=1
    )
    department.refresh_from_db()
    assert changes == {"name": ("销售部", "销售一部"), "phone": ("", "123")}
    assert (department.name, department.version) == ("销售一部", 2)
    assert events("department.updated").get().changes == {"name": ["销售部", "销售一部"], "phone": ["", "123"]}


def test_stale_version_is_a_conflict_and_changes_nothing(manager):
    department = DepartmentFactory(code="sales", name="销售部")
    services.department_update(actor=manager, department=department, values={"name": "A"}, expected_version=1)
    stale = Department.objects.get(pk=department.pk)
    with pytest.raises(Conflict) as caught:
        services.department_update(actor=manager, department=stale, values={"name": "B"}, expected_version=1)
    assert caught.value.message == "该记录已被他人修改，请刷新后重试。"
    assert Department.objects.get(pk=department.pk).name == "A"
    assert events("department.updated").count() == 1


def test_duplicate_code_on_update_is_refused(manager):
    DepartmentFactory(code="a", name="甲")
    other = DepartmentFactory(code="b", name="乙")
    with pytest.raises(ValidationFailed) as caught:
        services.department_update(actor=manager, department=other, values={"code": "a"}, expected_version=1)
    assert caught.value.details["field"] == "code"
    assert Department.objects.get(pk=other.pk).code == "b"
    assert not events("department.updated").exists()


def test_a_department_cannot_be_its_own_ancestor(manager):
    # given 总部 → 工程部 → 一队
    top = DepartmentFactory(code="top")
    middle = DepartmentFactory(code="middle", parent=top)
    leaf = DepartmentFactory(code="leaf", parent=middle)
    # when 总部 is put under itself or under its grandchild
    for new_parent in (top, leaf):
        with pytest.raises(ValidationFailed) as caught:
            services.department_update(actor=manager, department=top, values={"parent": new_parent}, expected_version=1)
        # then
        assert caught.value.details["field"] == "parent"
    assert Department.objects.get(pk=top.pk).parent is None
    assert not events("department.updated").exists()


def test_a_department_can_move_under_a_sibling(manager):
    top = DepartmentFactory(code="top")
    a = DepartmentFactory(code="a", parent=top)
    b = DepartmentFactory(code="b", parent=top)
    services.department_update(actor=manager, department=b, values={"parent": a}, expected_version=1)
    assert Department.objects.get(pk=b.pk).parent == a


def test_unknown_fields_are_refused(manager):
    department = DepartmentFactory()
    with pytest.raises(ValidationFailed):
        services.department_update(
            actor=manager, department=department, values={"is_active": False}, expected_version=1
        )
    assert Department.objects.get(pk=department.pk).is_active


def test_deactivating_a_department_with_active_staff_is_refused(manager, make_user):
    department = DepartmentFactory(code="repair", name="维修部")
    make_user("department_staff", department=department)
    make_user("department_staff", department=department)
    with pytest.raises(InvalidState) as caught:
        services.department_deactivate(actor=manager, department=department)
    assert "2 名在职员工" in caught.value.message and "维修部" in caught.value.message
    assert Department.objects.get(pk=department.pk).is_active
    assert not events("department.deactivated").exists()


def test_deactivating_a_department_with_active_children_is_refused(manager):
    parent = DepartmentFactory(code="parent")
    DepartmentFactory(code="child", parent=parent)
    with pytest.raises(InvalidState):
        services.department_deactivate(actor=manager, department=parent)
    assert Department.objects.get(pk=parent.pk).is_active


def test_a_department_with_only_former_staff_is_deactivated_and_reactivated(manager, make_user):
    department = DepartmentFactory(code="old")
    make_user("agent", department=department, is_active=False)
    services.department_deactivate(actor=manager, department=department, expected_version=1)
    department.refresh_from_db()
    assert not department.is_active and department.version == 2
    assert events("department.deactivated").get().changes == {"is_active": [True, False]}
    with pytest.raises(InvalidState):
        services.department_deactivate(actor=manager, department=department)
    services.department_reactivate(actor=manager, department=department)
    assert Department.objects.get(pk=department.pk).is_active
    assert events("department.reactivated").count() == 1


def test_new_departments_and_staff_cannot_join_a_deactivated_parent(manager):
    closed = DepartmentFactory(code="closed", is_active=False)
    with pytest.raises(ValidationFailed) as caught:
        services.department_create(actor=manager, code="new", name="新部门", parent=closed)
    assert caught.value.details["field"] == "parent"


# --- regions ------------------------------------------------------------------------


def test_region_create_update_and_audit(manager):
    region = services.region_create(actor=manager, code="east", name="东区")
    assert events("region.created").get().data["code"] == "east"
    services.region_update(actor=manager, region=region, values={"name": "东片区"}, expected_version=1)
    region.refresh_from_db()
    assert (region.name, region.version) == ("东片区", 2)
    assert events("region.updated").get().changes == {"name": ["东区", "东片区"]}


def test_region_duplicate_code_and_stale_version(manager):
    RegionFactory(code="east", name="东区")
    with pytest.raises(ValidationFailed) as caught:
        services.region_create(actor=manager, code="east", name="东区二")
    assert caught.value.details["field"] == "code"
    assert Region.objects.count() == 1
    region = Region.objects.get()
    with pytest.raises(Conflict):
        services.region_update(actor=manager, region=region, values={"name": "x"}, expected_version=7)
    assert Region.objects.get().name == "东区"
    assert not events("region.created").exists() and not events("region.updated").exists()


def test_a_region_cannot_be_its_own_ancestor(manager):
    top = RegionFactory(code="north")
    child = RegionFactory(code="north-1", parent=top)
    with pytest.raises(ValidationFailed) as caught:
        services.region_update(actor=manager, region=top, values={"parent": child}, expected_version=1)
    assert caught.value.details["field"] == "parent"
    assert Region.objects.get(pk=top.pk).parent is None


def test_deactivating_a_region_with_active_staff_is_refused(manager, make_user):
    region = RegionFactory(code="west", name="西区")
    make_user("account_manager", region=region)
    with pytest.raises(InvalidState) as caught:
        services.region_deactivate(actor=manager, region=region)
    assert "1 名在职员工" in caught.value.message
    assert Region.objects.get(pk=region.pk).is_active
    assert not events("region.deactivated").exists()


def test_region_deactivate_and_reactivate(manager):
    region = RegionFactory(code="south")
    services.region_deactivate(actor=manager, region=region)
    assert not Region.objects.get(pk=region.pk).is_active
    services.region_reactivate(actor=manager, region=region)
    assert Region.objects.get(pk=region.pk).is_active
    assert events("region.deactivated").count() == 1 and events("region.reactivated").count() == 1


def test_agents_may_not_change_regions(make_user):
    agent = make_user("agent")
    region = RegionFactory(code="south")
    with pytest.raises(AccessDenied):
        services.region_update(actor=agent, region=region, values={"name": "x"}, expected_version=1)
    with pytest.raises(AccessDenied):
        services.region_deactivate(actor=agent, region=region)
    assert Region.objects.get(pk=region.pk).is_active
    assert not AuditEvent.objects.filter(code__startswith="region.").exists()


def test_a_head_deactivated_later_does_not_block_other_edits(manager, make_user):
    head = make_user("supervisor")
    department = DepartmentFactory(code="sales", name="销售部", head=head)
    services.staff_deactivate(actor=manager, user=head)
    services.department_update(
        actor=manager, department=department, values={"name": "销售一部", "head": head}, expected_version=1
    )
    assert Department.objects.get(pk=department.pk).name == "销售一部"
    with pytest.raises(ValidationFailed) as caught:
        services.department_update(
            actor=manager, department=DepartmentFactory(code="other"), values={"head": head}, expected_version=1
        )
    assert caught.value.details["field"] == "head"
