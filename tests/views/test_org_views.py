"""The 组织管理 pages: lists, forms, buttons shown only to those who may use them,
concurrent edits, masking of staff phone numbers."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from kefu.core.models import AuditEvent, Department, Region, User
from tests.factories import DepartmentFactory, RegionFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Ke-fu-2024-new!"
CONFLICT = "该记录已被他人修改，请刷新后重试。"


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="sysadmin")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def login(client, user):
    client.force_login(user)
    return client


# --- departments --------------------------------------------------------------------


def test_department_list_in_tree_order_with_kind_head_and_staff_count(manager_client, manager, make_user):
    top = DepartmentFactory(code="hq", name="总部", kind="service", head=manager, sort_order=1)
    DepartmentFactory(code="a-first", name="甲部", sort_order=0)
    DepartmentFactory(code="child", name="总部下属", parent=top)
    make_user("agent", department=top)
    make_user("agent", department=top, is_active=False)

    response = manager_client.get(reverse("org:department_list"))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(d.code, depth) for d, depth in rows] == [("a-first", 0), ("hq", 0), ("child", 1)]
    hq = rows[1][0]
    assert hq.staff_count == 1
    html = response.content.decode()
    assert "客服部门" in html and str(manager) in html
    assert reverse("org:department_create") in html


def test_agents_see_the_department_list_without_change_buttons(client, make_user):
    department = DepartmentFactory(code="repair", name="维修部")
    response = login(client, make_user("agent")).get(reverse("org:department_list"))
    html = response.content.decode()
    assert response.status_code == 200 and "维修部" in html
    assert reverse("org:department_create") not in html
    assert reverse("org:department_edit", args=[department.pk]) not in html
    assert reverse("org:department_deactivate", args=[department.pk]) not in html


def test_create_department_through_the_form(manager_client):
    parent = DepartmentFactory(code="hq")
    response = manager_client.post(
        reverse("org:department_create"),
        {"code": "repair", "name": "维修部", "kind": "other", "parent": parent.pk, "sort_order": 0},
    )
    assert response.status_code == 302
    assert Department.objects.get(code="repair").parent == parent


def test_duplicate_department_code_shows_on_the_field_and_creates_nothing(manager_client):
    DepartmentFactory(code="repair", name="维修部")
    response = manager_client.post(
        reverse("org:department_create"), {"code": "repair", "name": "维修二部", "kind": "other", "sort_order": 0}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert Department.objects.count() == 1
    assert not AuditEvent.objects.filter(code="department.created").exists()


def test_agents_get_403_on_department_create_and_nothing_is_created(client, make_user):
    c = login(client, make_user("agent"))
    assert c.get(reverse("org:department_create")).status_code == 403
    response = c.post(reverse("org:department_create"), {"code": "x", "name": "x", "kind": "other", "sort_order": 0})
    assert response.status_code == 403
    assert not Department.objects.exists()


def test_concurrent_department_edit_shows_the_conflict_and_keeps_input(manager_client, manager):
    department = DepartmentFactory(code="sales", name="销售部")
    url = reverse("org:department_edit", args=[department.pk])
    form_version = manager_client.get(url).context["form"].initial["version"]
    # somebody else saves first
    from kefu.core.services.org import department_update

    department_update(actor=manager, department=department, values={"name": "销售一部"}, expected_version=1)

    response = manager_client.post(
        url, {"code": "sales", "name": "我的名字", "kind": "other", "sort_order": 0, "version": form_version}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert CONFLICT in html and 'value="我的名字"' in html
    assert Department.objects.get(pk=department.pk).name == "销售一部"


def test_deactivating_a_department_with_staff_shows_why(manager_client, make_user):
    department = DepartmentFactory(code="repair", name="维修部")
    make_user("agent", department=department)
    response = manager_client.post(reverse("org:department_deactivate", args=[department.pk]), follow=True)
    assert "1 名在职员工" in response.content.decode()
    assert Department.objects.get(pk=department.pk).is_active


def test_deactivate_and_reactivate_department(manager_client):
    department = DepartmentFactory(code="old")
    manager_client.post(reverse("org:department_deactivate", args=[department.pk]), {"version": 1})
    assert not Department.objects.get(pk=department.pk).is_active
    manager_client.post(reverse("org:department_reactivate", args=[department.pk]), {"version": 2})
    assert Department.objects.get(pk=department.pk).is_active


def test_deactivate_is_post_only(manager_client):
    department = DepartmentFactory()
    assert manager_client.get(reverse("org:department_deactivate", args=[department.pk])).status_code == 405
    assert Department.objects.get(pk=department.pk).is_active


# --- regions ------------------------------------------------------------------------


def test_region_pages(admin_client):
    response = admin_client.post(reverse("org:region_create"), {"code": "east", "name": "东区", "sort_order": 0})
    assert response.status_code == 302
    region = Region.objects.get(code="east")
    RegionFactory(code="east-1", name="东一片", parent=region)
    listing = admin_client.get(reverse("org:region_list"))
    assert [(r.code, depth) for r, depth in listing.context["rows"]] == [("east", 0), ("east-1", 1)]
    response = admin_client.post(
        reverse("org:region_edit", args=[region.pk]), {"code": "east", "name": "东片区", "sort_order": 0, "version": 1}
    )
    assert response.status_code == 302
    assert Region.objects.get(pk=region.pk).name == "东片区"


def test_region_edit_refuses_a_cycle_on_the_parent_field(admin_client):
    top = RegionFactory(code="north")
    child = RegionFactory(code="north-1", parent=top)
    response = admin_client.post(
        reverse("org:region_edit", args=[top.pk]),
        {"code": "north", "name": "北区", "parent": child.pk, "sort_order": 0, "version": 1},
    )
    assert response.status_code == 200 and response.context["form"].errors["parent"]
    assert Region.objects.get(pk=top.pk).parent is None


# --- staff list ---------------------------------------------------------------------


def test_staff_list_has_a_constant_number_of_queries(manager_client, make_user, django_assert_max_num_queries):
    departments = [DepartmentFactory() for _ in range(3)]
    regions = [RegionFactory() for _ in range(3)]
    for i in range(30):
        make_user("agent", "supervisor", department=departments[i % 3], region=regions[i % 3], phone="13800000000")
    with django_assert_max_num_queries(14):
        response = manager_client.get(reverse("org:staff_list"))
    assert response.status_code == 200
    assert len(response.context["page"].items) == 31


def test_staff_phone_is_masked_unless_the_viewer_may_reveal(client, make_user):
    region = RegionFactory()
    make_user("agent", username="li", region=region, phone="13812345678")
    agent = make_user("agent", region=region)
    html = login(client, agent).get(reverse("org:staff_list")).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    boss = make_user("manager", scope_all=True)
    html = login(client, boss).get(reverse("org:staff_list")).content.decode()
    assert "13812345678" in html


def test_staff_list_is_scoped_for_agents(client, make_user):
    east, west = RegionFactory(), RegionFactory()
    agent = make_user("agent", region=east)
    make_user("agent", username="neighbour", region=east)
    make_user("agent", username="stranger", region=west)
    names = {u.username for u in login(client, agent).get(reverse("org:staff_list")).context["page"].items}
    assert names == {agent.username, "neighbour"}


def test_staff_list_filters_and_keyset_pages(manager_client, make_user):
    sales = DepartmentFactory()
    for i in range(55):
        make_user("agent", username=f"clerk{i:02d}", department=sales)
    make_user("supervisor", username="zz-boss")
    first = manager_client.get(reverse("org:staff_list"), {"department": sales.pk})
    page = first.context["page"]
    assert len(page.items) == 50 and page.has_more
    assert "cursor=" in first.content.decode()
    second = manager_client.get(reverse("org:staff_list"), {"department": sales.pk, "cursor": page.next_cursor})
    assert [u.username for u in second.context["page"].items] == [f"clerk{i}" for i in range(50, 55)]
    roles = manager_client.get(reverse("org:staff_list"), {"role": "supervisor"}).context["page"].items
    assert [u.username for u in roles] == ["zz-boss"]
    assert manager_client.get(reverse("org:staff_list"), {"cursor": "garbage"}).status_code == 200


def test_staff_list_shows_create_only_to_managers(client, make_user, manager_client):
    assert reverse("org:staff_create") in manager_client.get(reverse("org:staff_list")).content.decode()
    html = login(client, make_user("supervisor")).get(reverse("org:staff_list")).content.decode()
    assert reverse("org:staff_create") not in html


# --- staff forms --------------------------------------------------------------------


def test_create_staff_with_roles_and_initial_password(manager_client):
    department = DepartmentFactory()
    form = manager_client.get(reverse("org:staff_create")).content.decode()
    assert "客服专员" in form and "客户经理" in form  # roles as Chinese checkboxes
    response = manager_client.post(
        reverse("org:staff_create"),
        {
            "username": "zhangsan",
            "display_name": "张三",
            "department": department.pk,
            "roles": ["agent", "account_manager"],
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    user = User.objects.get(username="zhangsan")
    assert response.status_code == 302 and response["Location"] == reverse("org:staff_detail", args=[user.pk])
    assert user.check_password(NEW_PASSWORD)
    assert sorted(user.groups.values_list("name", flat=True)) == ["account_manager", "agent"]


@pytest.mark.parametrize(
    ("password1", "password2", "field"), [(NEW_PASSWORD, "other-Pass-99", "password2"), ("123", "123", "password1")]
)
def test_bad_initial_password_is_shown_and_nothing_is_created(manager_client, password1, password2, field):
    response = manager_client.post(
        reverse("org:staff_create"),
        {
            "username": "zhangsan",
            "display_name": "张三",
            "roles": ["agent"],
            "password1": password1,
            "password2": password2,
        },
    )
    assert response.status_code == 200 and response.context["form"].errors[field]
    assert not User.objects.filter(username="zhangsan").exists()
    assert not AuditEvent.objects.filter(code="staff.created").exists()


def test_concurrent_staff_edit_shows_the_conflict_and_keeps_input(manager_client, manager, make_user):
    member = make_user("agent", display_name="王五")
    url = reverse("org:staff_edit", args=[member.pk])
    assert manager_client.get(url).status_code == 200
    from kefu.core.services.org import staff_update

    staff_update(actor=manager, user=member, values={"title": "组长"}, expected_version=1)
    response = manager_client.post(url, {"display_name": "王五改", "title": "话务员", "version": 1})
    html = response.content.decode()
    assert response.status_code == 200 and CONFLICT in html
    assert 'value="王五改"' in html and 'value="话务员"' in html
    assert User.objects.get(pk=member.pk).display_name == "王五"


def test_staff_edit_saves(manager_client, make_user):
    member = make_user("agent", display_name="王五")
    response = manager_client.post(
        reverse("org:staff_edit", args=[member.pk]), {"display_name": "王五", "title": "组长", "version": 1}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).title == "组长"


def test_an_editor_without_reveal_sees_no_full_phone_and_blank_keeps_it(admin_client, make_user):
    member = make_user("agent", phone="13812345678")
    url = reverse("org:staff_edit", args=[member.pk])
    html = admin_client.get(url).content.decode()
    assert "13812345678" not in html and "138****5678" in html
    admin_client.post(url, {"display_name": member.display_name, "phone": "", "version": 1})
    assert User.objects.get(pk=member.pk).phone == "13812345678"
    admin_client.post(url, {"display_name": member.display_name, "phone": "13900000000", "version": 1})
    assert User.objects.get(pk=member.pk).phone == "13900000000"


def test_staff_detail_phone_masked_for_agents_and_out_of_scope_is_404(client, make_user):
    east = RegionFactory()
    agent = make_user("agent", region=east)
    colleague = make_user("agent", region=east, phone="13812345678")
    stranger = make_user("agent", region=RegionFactory())
    login(client, agent)
    html = client.get(reverse("org:staff_detail", args=[colleague.pk])).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert reverse("org:staff_edit", args=[colleague.pk]) not in html
    assert client.get(reverse("org:staff_detail", args=[stranger.pk])).status_code == 404


def test_roles_page_sets_roles(manager_client, make_user):
    member = make_user("agent")
    url = reverse("org:staff_roles", args=[member.pk])
    html = manager_client.get(url).content.decode()
    assert "质量管理员" in html and "系统管理员" in html
    response = manager_client.post(url, {"roles": ["quality_officer"], "version": 1})
    assert response.status_code == 302
    assert list(member.groups.values_list("name", flat=True)) == ["quality_officer"]


def test_scope_page_sets_scope(manager_client, make_user):
    member = make_user("supervisor")
    east = RegionFactory()
    sales = DepartmentFactory()
    url = reverse("org:staff_scope", args=[member.pk])
    assert manager_client.get(url).status_code == 200
    response = manager_client.post(url, {"regions": [east.pk], "departments": [sales.pk], "version": 1})
    assert response.status_code == 302
    assert list(member.scope_regions.all()) == [east] and list(member.scope_departments.all()) == [sales]


def test_admin_cannot_give_themselves_scope_all_through_the_page(admin_client, admin):
    response = admin_client.post(reverse("org:staff_scope", args=[admin.pk]), {"scope_all": "on", "version": 1})
    assert response.status_code == 200
    assert "不能扩大自己的权限" in response.content.decode()
    assert not User.objects.get(pk=admin.pk).scope_all
    assert not AuditEvent.objects.filter(code="staff.scope_changed").exists()


def test_reset_password(manager_client, make_user):
    member = make_user("agent")
    url = reverse("org:staff_password", args=[member.pk])
    response = manager_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).check_password(NEW_PASSWORD)


def test_deactivate_and_reactivate_staff(manager_client, make_user, client):
    member = make_user("agent")
    manager_client.post(reverse("org:staff_deactivate", args=[member.pk]))
    assert not User.objects.get(pk=member.pk).is_active
    manager_client.post(reverse("org:staff_reactivate", args=[member.pk]))
    assert User.objects.get(pk=member.pk).is_active


def test_a_deactivated_user_cannot_sign_in(manager, make_user, client):
    from kefu.core.services.org import staff_deactivate
    from tests.conftest import PASSWORD

    member = make_user("agent", username="leaver")
    staff_deactivate(actor=manager, user=member)
    response = client.post(reverse("login"), {"username": "leaver", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_own_detail_page_has_no_deactivate_button(manager_client, manager):
    html = manager_client.get(reverse("org:staff_detail", args=[manager.pk])).content.decode()
    assert reverse("org:staff_deactivate", args=[manager.pk]) not in html
    manager_client.post(reverse("org:staff_deactivate", args=[manager.pk]))
    assert User.objects.get(pk=manager.pk).is_active


@pytest.mark.parametrize(
    "name", ["staff_edit", "staff_roles", "staff_scope", "staff_password", "staff_deactivate", "staff_reactivate"]
)
def test_staff_changes_are_refused_to_supervisors(client, make_user, name):
    region = RegionFactory()
    member = make_user("agent", region=region, is_active=name != "staff_reactivate")
    c = login(client, make_user("supervisor", region=region))
    response = c.post(
        reverse(f"org:{name}", args=[member.pk]),
        {
            "display_name": "x",
            "roles": ["manager"],
            "scope_all": "on",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 403
    fresh = User.objects.get(pk=member.pk)
    assert fresh.version == 1 and fresh.is_active == (name != "staff_reactivate") and not fresh.scope_all
    assert not AuditEvent.objects.filter(code__startswith="staff.").exists()


# --- roles --------------------------------------------------------------------------


def test_role_list_shows_chinese_names_descriptions_and_members(client, make_user):
    make_user("agent")
    c = login(client, make_user("finance"))
    response = c.get(reverse("org:role_list"))
    html = response.content.decode()
    assert "客服部经理" in html and "审批退款与补偿" in html
    agent_row = next(r for r in response.context["roles"] if r.name == "agent")
    assert agent_row.member_count == 1
    assert reverse("org:role_permissions", args=["agent"]) not in html


def test_role_permission_editor_groups_by_app_and_saves(manager_client):
    url = reverse("org:role_permissions", args=["agent"])
    response = manager_client.get(url)
    html = response.content.decode()
    assert "组织与基础" in html and "查看部门" in html and 'value="core.view_department" checked' in html
    assert 'value="auth.' not in html
    current = sorted(response.context["selected"])
    manager_client.post(url, {"permissions": [*current, "core.export_data"]})
    assert Group.objects.get(name="agent").permissions.filter(codename="export_data").exists()


def test_role_permission_editor_is_403_for_agents(client, make_user):
    c = login(client, make_user("agent"))
    url = reverse("org:role_permissions", args=["agent"])
    assert c.get(url).status_code == 403
    assert c.post(url, {"permissions": ["core.reveal_pii"]}).status_code == 403
    assert not Group.objects.get(name="agent").permissions.filter(codename="reveal_pii").exists()


def test_admin_cannot_add_to_their_own_role_through_the_editor(admin_client):
    url = reverse("org:role_permissions", args=["admin"])
    current = sorted(admin_client.get(url).context["selected"])
    response = admin_client.post(url, {"permissions": [*current, "core.reveal_pii"]})
    assert response.status_code == 200 and "不能扩大自己的权限" in response.content.decode()
    assert not Group.objects.get(name="admin").permissions.filter(codename="reveal_pii").exists()
