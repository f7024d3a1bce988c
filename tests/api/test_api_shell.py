"""The API shell: OpenAPI, Bearer tokens, /me, JSON errors with a stable code."""

import pytest
from django.core.management import call_command

from kefu.core.models import ApiToken, AuditEvent
from kefu.core.tokens import token_create, token_revoke

pytestmark = pytest.mark.django_db


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_openapi_document_is_public_and_lists_me(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert "/api/v1/me" in doc["paths"]
    me = doc["paths"]["/api/v1/me"]["get"]
    assert {"200", "401"} <= set(me["responses"])
    assert doc["components"]["securitySchemes"]


def test_me_with_a_token(make_user):
    user = make_user("agent", display_name="张晓燕")
    _token, raw = token_create(user=user, name="test")
    body = client_get("/api/v1/me", bearer(raw))
    assert body["username"] == user.username and body["display_name"] == "张晓燕"
    assert body["roles"] == ["agent"]
    assert "core.view_user" in body["permissions"] and "core.manage_organisation" not in body["permissions"]


def client_get(path, headers):
    from django.test import Client

    response = Client().get(path, **headers)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nonsense", "Token abc", "Bearer kefu_wrong"])
def test_missing_or_bad_token_is_401_with_code(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/v1/me", **extra)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_revoked_token_and_inactive_user_are_refused(client, make_user):
    user = make_user("agent")
    token, raw = token_create(user=user)
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 200
    token_revoke(token=token)
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401

    _t2, raw2 = token_create(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/api/v1/me", **bearer(raw2)).status_code == 401


def test_tokens_are_stored_hashed_and_audited(make_user):
    user = make_user("agent")
    token, raw = token_create(user=user, name="crm")
    assert raw not in token.key_hash and token.prefix == raw[:12]
    assert AuditEvent.objects.filter(code="token.created", object_id=str(token.pk)).exists()


def test_session_login_also_works_for_the_browser(manager_client):
    assert manager_client.get("/api/v1/me").status_code == 200


def test_unknown_path_is_json_404(client, make_user):
    _t, raw = token_create(user=make_user("agent"))
    response = client.get("/api/v1/no-such-thing", **bearer(raw))
    assert response.status_code == 404


def test_request_id_is_echoed(client):
    response = client.get("/api/v1/openapi.json", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    response = client.get("/api/v1/openapi.json", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces" and len(response["X-Request-ID"]) == 32


def test_token_command_creates_lists_and_revokes(make_user, capsys):
    user = make_user("agent", username="zhang")
    call_command("token", "zhang", "--name", "crm")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("kefu_")
    token = ApiToken.objects.get(user=user)
    call_command("token", "zhang", "--list")
    assert token.prefix in capsys.readouterr().out
    call_command("token", "zhang", "--revoke", str(token.pk))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_control_characters_in_any_json_body_are_a_422(client, make_user):
    # PostgreSQL refuses NUL in text: without the parser's check this was a 500.
    client.force_login(make_user("manager", scope_all=True))
    response = client.post(
        "/api/v1/customers", data='{"name": "张\\u0000三", "kind": "person"}', content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "控制字符" in response.json()["message"]


def test_sqlite_busy_is_a_503_with_retry_after(client, make_user, monkeypatch):
    from django.db import OperationalError

    from kefu.customers import selectors

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(selectors, "customer_list", locked)
    client.force_login(make_user("manager", scope_all=True))
    response = client.get("/api/v1/customers")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["code"] == "busy"
