"""Runs every row of every `rows_*.py` as every role."""

import importlib
import json
import pkgutil
from types import SimpleNamespace

import pytest

from kefu.core.roles import ROLES_BY_CODE
from kefu.core.tokens import token_create
from tests.factories import DepartmentFactory, RegionFactory
from tests.permissions import matrix


def _all_rows():
    package = importlib.import_module("tests.permissions")
    rows = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("rows_"):
            rows.extend(importlib.import_module(f"tests.permissions.{info.name}").ROWS)
    return rows


ROWS = _all_rows()


@pytest.fixture
def world(make_user):
    region = RegionFactory(code="matrix-east", name="东区")
    department = DepartmentFactory(code="matrix-service", name="客服部", kind="service")
    return SimpleNamespace(region=region, department=department, make_user=make_user)


def _request(client, row, world, headers):
    url = row.url(world)
    method = getattr(client, row.method)
    if row.data is None:
        return method(url, **headers)
    payload = row.data(world)
    if row.api:
        return method(url, data=json.dumps(payload), content_type="application/json", **headers)
    return method(url, data=payload, **headers)


def test_matrix_has_rows():
    assert len(ROWS) >= 10, "each area must contribute rows"


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
@pytest.mark.parametrize("role", [*matrix.ALL_ROLES, None], ids=lambda r: r or "anonymous")
def test_permission_matrix(client, world, make_user, row, role):
    headers = {}
    if role is not None:
        user = make_user(
            role,
            username=f"matrix-{role}",
            scope_all=ROLES_BY_CODE[role].scope_all,
            department=world.department,
            region=world.region,
        )
        if row.api:
            _token, raw = token_create(user=user, name="matrix")
            headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        else:
            client.force_login(user)

    response = _request(client, row, world, headers)

    if role is None:
        if row.api:
            assert response.status_code == 401, response.content[:300]
            assert response.json()["code"] == "unauthenticated"
        else:
            assert response.status_code == 302 and "/login/" in response["Location"]
    elif role in row.allowed:
        assert response.status_code < 400, (role, response.status_code, response.content[:300])
    else:
        assert response.status_code in row.denied_status, (role, response.status_code, response.content[:300])
        if row.api:
            assert response.json()["code"] in {"permission_denied", "not_found"}
