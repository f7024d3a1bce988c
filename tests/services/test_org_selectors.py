"""Selectors of the organisation: who sees which departments, regions and staff."""

import pytest

from kefu.core.models import User
from kefu.core.selectors import org as selectors
from tests.factories import DepartmentFactory, RegionFactory

pytestmark = pytest.mark.django_db


def test_everyone_with_the_role_sees_every_department_and_region_to_pick_from(make_user):
    # given an agent of the east region in the service department
    east, west = RegionFactory(code="east"), RegionFactory(code="west")
    service, repair = DepartmentFactory(code="service"), DepartmentFactory(code="repair")
    agent = make_user("agent", region=east, department=service)
    # then they can still pick the repair department and the west region
    assert set(selectors.department_list(agent)) == {service, repair}
    assert set(selectors.region_list(agent)) == {east, west}


def test_without_the_view_permission_nothing_is_listed(make_user):
    DepartmentFactory()
    RegionFactory()
    nobody = make_user()
    assert not selectors.department_list(nobody).exists()
    assert not selectors.region_list(nobody).exists()
    assert not selectors.staff_list(nobody).exists()
    assert selectors.role_list(nobody) == []


def test_department_filters_and_active_staff_count(make_user):
    service = DepartmentFactory(code="service", name="客服部", kind="service")
    DepartmentFactory(code="repair", name="维修部")
    DepartmentFactory(code="closed", name="旧部门", is_active=False)
    make_user("agent", department=service)
    make_user("agent", department=service, is_active=False)
    viewer = make_user("agent")
    assert selectors.department_list(viewer, {"q": "客服"}, staff_counts=True).get().staff_count == 1
    assert [d.code for d in selectors.department_list(viewer, {"kind": "service"})] == ["service"]
    assert [d.code for d in selectors.department_list(viewer, {"active": "0"})] == ["closed"]
    assert "closed" not in [d.code for d in selectors.department_list(viewer, {"active": True})]


def test_tree_order_puts_children_under_their_parent():
    top = DepartmentFactory(code="b-top", sort_order=1)
    other = DepartmentFactory(code="a-other", sort_order=2)
    child = DepartmentFactory(code="z-child", parent=top, sort_order=0)
    grandchild = DepartmentFactory(code="grand", parent=child)
    rows = selectors.as_tree(sorted([other, grandchild, child, top], key=lambda d: (d.sort_order, d.code)))
    assert [(d.code, depth) for d, depth in rows] == [("b-top", 0), ("z-child", 1), ("grand", 2), ("a-other", 0)]


def test_tree_treats_a_node_whose_parent_is_filtered_out_as_a_root():
    top = DepartmentFactory(code="top")
    child = DepartmentFactory(code="child", parent=top)
    assert selectors.as_tree([child]) == [(child, 0)]


def test_a_scoped_viewer_sees_staff_of_their_regions_and_departments_only(make_user):
    east, west = RegionFactory(), RegionFactory()
    sales = DepartmentFactory()
    viewer = make_user("supervisor", region=east)
    colleague = make_user("agent", region=east)
    in_sales = make_user("agent", department=sales)
    far = make_user("agent", region=west)
    visible = set(selectors.staff_list(viewer))
    assert visible == {viewer, colleague}
    viewer.scope_departments.add(sales)
    viewer = User.objects.get(pk=viewer.pk)
    assert set(selectors.staff_list(viewer)) == {viewer, colleague, in_sales}
    assert far not in set(selectors.staff_list(viewer))


def test_organisation_managers_see_all_staff_even_without_scope_all(make_user):
    # 系统管理员 has no customer scope, yet manages every account
    admin = make_user("admin", region=RegionFactory())
    far = make_user("agent", region=RegionFactory())
    assert not admin.scope_all
    assert far in set(selectors.staff_list(admin))


def test_staff_filters(make_user):
    east, sales = RegionFactory(), DepartmentFactory()
    boss = make_user("manager", scope_all=True)
    li = make_user("agent", username="lisi", display_name="李四", employee_no="K-9", region=east, phone="13900001111")
    wang = make_user("supervisor", username="wangwu", display_name="王五", department=sales)
    gone = make_user("agent", username="gone", is_active=False)
    assert list(selectors.staff_list(boss, {"q": "李"})) == [li]
    assert list(selectors.staff_list(boss, {"q": "k-9"})) == [li]
    assert list(selectors.staff_list(boss, {"q": "0000111"})) == [li]
    assert list(selectors.staff_list(boss, {"region": east})) == [li]
    assert list(selectors.staff_list(boss, {"department": sales.pk})) == [wang]
    assert list(selectors.staff_list(boss, {"role": "supervisor"})) == [wang]
    assert gone not in set(selectors.staff_list(boss, {"active": "1"}))
    assert list(selectors.staff_list(boss, {"active": False})) == [gone]


def test_partial_phone_search_needs_the_reveal_permission(make_user):
    # an agent sees masked numbers: a partial search would let them recover the digits
    region = RegionFactory()
    agent = make_user("agent", region=region)
    li = make_user("agent", region=region, phone="13900001111")
    assert list(selectors.staff_list(agent, {"q": "0000111"})) == []
    assert list(selectors.staff_list(agent, {"q": "13900001111"})) == [li]


def test_role_list_has_chinese_names_descriptions_and_active_member_counts(make_user):
    make_user("agent")
    make_user("agent")
    make_user("agent", is_active=False)
    viewer = make_user("finance")
    roles = {r.name: r for r in selectors.role_list(viewer)}
    assert roles["agent"].label == "客服专员" and roles["agent"].member_count == 2
    assert roles["admin"].description.startswith("用户、角色与系统配置")
    assert [r.name for r in selectors.role_list(viewer)][:2] == ["manager", "supervisor"]


def test_permission_catalogue_has_only_kefu_apps_with_chinese_labels(roles):
    catalogue = selectors.permission_catalogue()
    apps = {group["app"] for group in catalogue}
    assert "core" in apps and not apps & {"auth", "contenttypes", "sessions", "admin", "axes"}
    core = {p["code"]: p["label"] for p in catalogue[0]["permissions"]}
    assert core["core.view_department"] == "查看部门"
    assert core["core.change_user"] == "修改员工"
    assert core["core.manage_organisation"].startswith("管理组织")
    assert catalogue[0]["label"] == "组织与基础"
