"""Login, logout, throttling, the dashboard, the menu, language switching."""

import pytest
from django.urls import reverse

from kefu.core.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_page_is_chinese_by_default(client):
    response = client.get("/login/")
    assert "登录您的账号" in response.content.decode()


def test_login_and_logout(client, make_user):
    make_user("agent", username="zhang")
    response = client.post("/login/", {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_login_is_throttled_after_repeated_failures(client, make_user, settings):
    make_user("agent", username="zhang")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "zhang", "password": "wrong-password"})
    response = client.post("/login/", {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert client.get("/").status_code != 200


def test_dashboard_shows_real_counts(manager_client, make_user):
    make_user("agent")
    make_user("agent", is_active=False)
    response = manager_client.get("/")
    counters = {str(c["label"]): c["value"] for c in response.context["counters"]}
    assert counters["在岗员工"] == 2  # manager + the active agent


def test_menu_shows_only_what_the_role_may_use(client, make_user):
    agent = make_user("agent")
    client.force_login(agent)
    labels = [str(item.label) for section in client.get("/").context["kefu_menu"] for item in section["items"]]
    assert "审计日志" not in labels
    boss = make_user("manager", scope_all=True)
    client.force_login(boss)
    labels = [str(item.label) for section in client.get("/").context["kefu_menu"] for item in section["items"]]
    assert "审计日志" in labels


def test_every_menu_item_leads_to_a_working_page(client, make_user):
    boss = make_user("manager", scope_all=True)
    client.force_login(boss)
    menu = client.get("/").context["kefu_menu"]
    assert menu
    for section in menu:
        for item in section["items"]:
            assert client.get(item.url).status_code == 200, item.url_name


def test_switch_to_english_and_back(client, make_user):
    client.force_login(make_user("manager", scope_all=True))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Dashboard" in client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "工作台" in client.get("/").content.decode()


def test_pages_send_a_content_security_policy(manager_client):
    policy = manager_client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy


def test_audit_page_lists_and_filters_events(manager_client, manager):
    from django.db import transaction

    from kefu.core.audit import audit_record

    with transaction.atomic():
        audit_record(code="department.created", actor=manager, object_type="core.department", object_id=1)
        audit_record(code="staff.updated", actor=manager, object_type="core.user", object_id=2)
    body = manager_client.get("/audit/?code=department").content.decode()
    assert "department.created" in body and "staff.updated" not in body
    assert manager_client.get("/audit/?date_from=2026-02-01&date_to=2026-01-01").status_code == 200
    assert manager_client.get("/audit/?cursor=garbage").status_code == 200


def test_audit_page_offers_no_way_to_change_events(manager_client, manager):
    from django.db import transaction

    from kefu.core.audit import audit_record

    with transaction.atomic():
        event = audit_record(code="department.created", actor=manager)
    assert manager_client.post("/audit/", {"code": "x"}).status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).code == "department.created"
    # The page adds no form that writes: its POST forms are only the shell's (language, logout).
    post_forms = manager_client.get("/audit/").content.decode().count('method="post"')
    assert post_forms == manager_client.get("/").content.decode().count('method="post"')


def test_audit_page_query_count_is_constant(manager_client, manager, django_assert_max_num_queries):
    from django.db import transaction

    from kefu.core.audit import audit_record

    with transaction.atomic():
        for i in range(40):
            audit_record(code=f"x.e{i}", actor=manager)
    with django_assert_max_num_queries(12):
        manager_client.get("/audit/")


def test_chinese_is_the_default_even_for_an_english_browser(client, make_user):
    client.force_login(make_user("manager", scope_all=True))
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "工作台" in response.content.decode()
    assert response["Content-Language"] == "zh-hans"
