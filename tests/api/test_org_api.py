"""The organisation API: departments, regions, staff; errors as JSON with stable codes."""

import json

import pytest

from kefu.core.models import AuditEvent, Department, Region, User
from kefu.core.tokens import token_create
from tests.factories import DepartmentFactory, RegionFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Ke-fu-2024-new!"


class Api:
    def __init__(self, client, user):
        self.client = client
        _token, raw = token_create(user=user, name="test")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def post(self, path, body):
        return self.client.post(
            f"/api/v1{path}", data=json.dumps(body), content_type="application/json", **self.headers
        )

    def patch(self, path, body):
        return self.client.patch(
            f"/api/v1{path}", data=json.dumps(body), content_type="application/json", **self.headers
        )


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)


@pytest.fixture
def api(as_user, manager):
    return as_user(manager)


# --- departments --------------------------------------------------------------------


def test_department_list_pages_with_a_cursor(api):
    for i in range(5):
        DepartmentFactory(code=f"d{i}", sort_order=i)
    first = api.get("/departments", limit=3).json()
    assert [d["code"] for d in first["items"]] == ["d0", "d1", "d2"] and first["next_cursor"]
    second = api.get("/departments", limit=3, cursor=first["next_cursor"]).json()
    assert [d["code"] for d in second["items"]] == ["d3", "d4"] and second["next_cursor"] is None


def test_bad_cursor_is_422(api):
    response = api.get("/departments", cursor="!!nonsense")
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_everyone_may_list_departments_but_not_create_them(as_user, make_user):
    DepartmentFactory(code="repair")
    agent = as_user(make_user("agent", region=RegionFactory()))
    assert [d["code"] for d in agent.get("/departments").json()["items"]] == ["repair"]
    response = agent.post("/departments", {"code": "x", "name": "某部"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Department.objects.filter(code="x").exists()
    assert not AuditEvent.objects.filter(code="department.created").exists()


def test_create_department(api, manager):
    parent = DepartmentFactory(code="hq")
    response = api.post(
        "/departments", {"code": "repair", "name": "维修部", "parent_id": parent.pk, "head_id": manager.pk}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "repair" and body["kind"] == "other" and body["parent_id"] == parent.pk
    assert body["version"] == 1 and body["head_id"] == manager.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "service", "name": "重复"}, "code"),
        ({"code": "new", "name": "新", "parent_id": 999999}, "parent_id"),
        ({"code": "bad code", "name": "新"}, "code"),
    ],
)
def test_create_department_errors_are_422_with_the_field(api, body, field):
    DepartmentFactory(code="service")
    response = api.post("/departments", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error" and response.json()["details"]["field"] == field
    assert Department.objects.count() == 1


def test_schema_errors_are_422(api):
    response = api.post("/departments", {"name": "没有编码"})
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_patch_department_with_version(api):
    department = DepartmentFactory(code="sales", name="销售部")
    response = api.patch(f"/departments/{department.pk}", {"version": 1, "name": "销售一部", "parent_id": None})
    assert response.status_code == 200 and response.json()["name"] == "销售一部" and response.json()["version"] == 2
    stale = api.patch(f"/departments/{department.pk}", {"version": 1, "name": "旧版本"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert Department.objects.get(pk=department.pk).name == "销售一部"


def test_patch_deactivate_with_staff_is_409_and_rolls_back_the_whole_patch(api, make_user):
    department = DepartmentFactory(code="repair", name="维修部")
    make_user("agent", department=department)
    response = api.patch(f"/departments/{department.pk}", {"version": 1, "name": "改名", "is_active": False})
    assert response.status_code == 409 and response.json()["code"] == "invalid_state"
    fresh = Department.objects.get(pk=department.pk)
    assert (fresh.name, fresh.is_active, fresh.version) == ("维修部", True, 1)
    assert not AuditEvent.objects.filter(code__startswith="department.").exists()


def test_patch_deactivate_and_reactivate(api):
    department = DepartmentFactory(code="old")
    assert api.patch(f"/departments/{department.pk}", {"version": 1, "is_active": False}).json()["is_active"] is False
    body = api.patch(f"/departments/{department.pk}", {"version": 2, "is_active": True}).json()
    assert body["is_active"] is True and body["version"] == 3


def test_patch_unknown_department_is_404(api):
    response = api.patch("/departments/999999", {"version": 1, "name": "x"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_patch_null_name_is_422(api):
    department = DepartmentFactory()
    response = api.patch(f"/departments/{department.pk}", {"version": 1, "name": None})
    assert response.status_code == 422


# --- regions ------------------------------------------------------------------------


def test_region_create_list_and_patch(api):
    response = api.post("/regions", {"code": "east", "name": "东区"})
    assert response.status_code == 201
    region_id = response.json()["id"]
    assert api.post("/regions", {"code": "east", "name": "东区"}).status_code == 422
    child = api.post("/regions", {"code": "east-1", "name": "东一", "parent_id": region_id}).json()
    assert [r["code"] for r in api.get("/regions").json()["items"]] == ["east", "east-1"]
    cycle = api.patch(f"/regions/{region_id}", {"version": 1, "parent_id": child["id"]})
    assert cycle.status_code == 422 and cycle.json()["details"]["field"] == "parent"
    assert api.patch(f"/regions/{region_id}", {"version": 1, "name": "东片区"}).json()["name"] == "东片区"
    assert api.patch(f"/regions/{region_id}", {"version": 1, "name": "x"}).status_code == 409
    assert Region.objects.get(pk=region_id).name == "东片区"


def test_agents_may_not_patch_regions(as_user, make_user):
    region = RegionFactory(code="east")
    response = as_user(make_user("agent")).patch(f"/regions/{region.pk}", {"version": 1, "name": "x"})
    assert response.status_code == 403
    assert Region.objects.get(pk=region.pk).name != "x"


# --- staff --------------------------------------------------------------------------


def test_staff_list_is_scoped_filtered_and_masks_phones(as_user, make_user):
    east, west = RegionFactory(), RegionFactory()
    agent = make_user("agent", username="me", region=east)
    make_user("agent", username="colleague", region=east, phone="13812345678")
    make_user("agent", username="stranger", region=west)
    body = as_user(agent).get("/staff").json()
    by_name = {u["username"]: u for u in body["items"]}
    assert set(by_name) == {"me", "colleague"}
    assert by_name["colleague"]["phone"] == "138****5678"
    assert "password" not in by_name["colleague"]
    assert [u["username"] for u in as_user(agent).get("/staff", q="coll").json()["items"]] == ["colleague"]


def test_staff_list_pages_and_managers_see_full_phones(api, make_user):
    for i in range(4):
        make_user("agent", username=f"clerk{i}", phone="13812345678")
    first = api.get("/staff", limit=2, role="agent").json()
    second = api.get("/staff", limit=2, role="agent", cursor=first["next_cursor"]).json()
    assert [u["username"] for u in first["items"] + second["items"]] == [f"clerk{i}" for i in range(4)]
    assert first["items"][0]["phone"] == "13812345678"


def test_staff_detail_out_of_scope_is_404(as_user, make_user):
    agent = make_user("agent", region=RegionFactory())
    stranger = make_user("agent", region=RegionFactory())
    response = as_user(agent).get(f"/staff/{stranger.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert as_user(agent).get(f"/staff/{agent.pk}").json()["username"] == agent.username


def test_create_staff(api):
    east = RegionFactory()
    response = api.post(
        "/staff",
        {
            "username": "zhangsan",
            "display_name": "张三",
            "password": NEW_PASSWORD,
            "roles": ["account_manager"],
            "region_id": east.pk,
            "scope_region_ids": [east.pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["roles"] == ["account_manager"] and body["scope_region_ids"] == [east.pk]
    assert "password" not in body
    assert User.objects.get(username="zhangsan").check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "manager"}, "username"),
        ({"password": "short"}, "password"),
        ({"roles": ["king"]}, "roles"),
        ({"department_id": 999999}, "department_id"),
        ({"scope_region_ids": [999999]}, "scope_region_ids"),
    ],
)
def test_create_staff_errors(api, overrides, field):
    body = {"username": "zhangsan", "display_name": "张三", "password": NEW_PASSWORD, "roles": ["agent"], **overrides}
    before = User.objects.count()
    response = api.post("/staff", body)
    assert response.status_code == 422 and response.json()["details"]["field"] == field
    assert User.objects.count() == before
    assert not AuditEvent.objects.filter(code="staff.created").exists()


def test_patch_staff_profile_roles_and_scope_in_one_request(api, make_user):
    member = make_user("agent")
    sales = DepartmentFactory()
    response = api.patch(
        f"/staff/{member.pk}",
        {
            "version": 1,
            "title": "组长",
            "department_id": sales.pk,
            "roles": ["supervisor"],
            "scope_department_ids": [sales.pk],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "组长" and body["roles"] == ["supervisor"] and body["scope_department_ids"] == [sales.pk]
    assert body["version"] == 4  # profile, roles, scope: one version each
    codes = set(AuditEvent.objects.values_list("code", flat=True))
    assert {"staff.updated", "staff.roles_changed", "staff.scope_changed"} <= codes


def test_patch_staff_stale_version_is_409_and_changes_nothing(api, make_user):
    member = make_user("agent")
    api.patch(f"/staff/{member.pk}", {"version": 1, "title": "一"})
    response = api.patch(f"/staff/{member.pk}", {"version": 1, "title": "二", "roles": ["manager"]})
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    fresh = User.objects.get(pk=member.pk)
    assert fresh.title == "一" and list(fresh.groups.values_list("name", flat=True)) == ["agent"]


def test_admin_cannot_patch_scope_all_onto_themselves(as_user, make_user):
    admin = make_user("admin")
    response = as_user(admin).patch(f"/staff/{admin.pk}", {"version": 1, "scope_all": True})
    assert response.status_code == 403
    assert not User.objects.get(pk=admin.pk).scope_all
    assert not AuditEvent.objects.filter(code="staff.scope_changed").exists()


def test_patch_deactivates_but_never_oneself(api, manager, make_user):
    member = make_user("agent")
    assert api.patch(f"/staff/{member.pk}", {"version": 1, "is_active": False}).json()["is_active"] is False
    response = api.patch(f"/staff/{manager.pk}", {"version": 1, "is_active": False})
    assert response.status_code == 409 and response.json()["code"] == "invalid_state"
    assert User.objects.get(pk=manager.pk).is_active


def test_agents_may_not_patch_staff(as_user, make_user):
    region = RegionFactory()
    agent = make_user("agent", region=region)
    colleague = make_user("agent", region=region)
    response = as_user(agent).patch(f"/staff/{colleague.pk}", {"version": 1, "title": "x"})
    assert response.status_code == 403
    assert User.objects.get(pk=colleague.pk).title == ""


def test_every_org_endpoint_documents_its_errors(api):
    schema = api.client.get("/api/v1/openapi.json").json()
    expected = {
        ("/api/v1/departments", "get"): {"401", "403", "422"},
        ("/api/v1/departments", "post"): {"401", "403", "422"},
        ("/api/v1/departments/{department_id}", "patch"): {"401", "403", "404", "409", "422"},
        ("/api/v1/regions", "post"): {"401", "403", "422"},
        ("/api/v1/regions/{region_id}", "patch"): {"401", "403", "404", "409", "422"},
        ("/api/v1/staff", "get"): {"401", "403", "422"},
        ("/api/v1/staff/{staff_id}", "get"): {"401", "403", "404"},
        ("/api/v1/staff", "post"): {"401", "403", "422"},
        ("/api/v1/staff/{staff_id}", "patch"): {"401", "403", "404", "409", "422"},
    }
    for (path, method), statuses in expected.items():
        documented = set(schema["paths"][path][method]["responses"])
        assert statuses <= documented, (path, method, documented)
