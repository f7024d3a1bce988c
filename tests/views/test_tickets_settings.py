"""The ticket configuration pages at /tickets/settings/: the overview with its deadline
preview, the forms of every section (the kind's extra-field rows included), the htmx
preview, (de)activation, stale forms and bad input shown in Chinese, never a 500."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.tickets.models import EscalationRule, SlaPolicy, TicketCategory, TicketKind, TicketSettings
from kefu.tickets.services import config as svc
from tests.factories_tickets import category, kind, make_ticket

pytestmark = pytest.mark.django_db

# A Friday, 17:00 in Shanghai: one working hour left today, the next working day is Monday.
FRIDAY_5PM = datetime.datetime(2026, 3, 6, 17, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def client_(client, ticket_world):
    client.force_login(ticket_world["manager"])
    return client


def _url(name, *args):
    return reverse(f"tickets:{name}", args=args)


def _kind_post(**values):
    data = {
        "code": "visit",
        "name": "上门回访",
        "prefix": "HF",
        "requires_customer": "on",
        "sort_order": 60,
        "fields-TOTAL_FORMS": "3",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "30",
        "fields-0-type": "text",
        "fields-1-type": "text",
        "fields-2-type": "text",
    }
    data.update(values)
    return data


def test_overview_shows_every_section_and_when_a_ticket_registered_now_is_due(
    client_, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(timezone, "now", lambda: FRIDAY_5PM)
    # One query per section and one read of the calendar, however many rows (14 today)
    with django_assert_max_num_queries(15):
        response = client_.get(_url("settings"))
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("kinds", "categories", "policies", "rules", "general"):
        assert f'data-testid="settings-{section}"' in html
    assert html.count('data-section="kinds"') == 5
    assert html.count('data-section="categories"') == TicketCategory.objects.count()
    # 投诉·重大: one working day (450 minutes) — an hour on Friday, the rest on Monday
    rows = {row["obj"].name: row for row in response.context["policies"]}
    major = rows["投诉·重大"]
    assert major["due"].resolve_due_at == datetime.datetime(2026, 3, 9, 17, 0, tzinfo=FRIDAY_5PM.tzinfo)
    assert major["resolve"] == "1 个工作日"
    assert "2026-03-09 17:00" in html
    assert rows["投诉·一般"]["resolve"] == "3 个工作日" and rows["投诉·重大"]["response"] == "30 分钟"
    assert 'data-testid="policy-default"' in html and "第 3 级" in html and "总经理" in html


def test_create_a_kind_with_extra_fields(client_):
    response = client_.post(
        _url("settings_create", "kinds"),
        _kind_post(
            **{
                "fields-0-key": "room",
                "fields-0-label": "房间",
                "fields-0-type": "choice",
                "fields-0-choices": "客厅、卧室",
                "fields-0-required": "on",
            }
        ),
    )
    assert response.status_code == 302 and response["Location"].endswith("#kinds")
    created = TicketKind.objects.get(code="visit")
    assert created.fields == [
        {"key": "room", "label": "房间", "type": "choice", "choices": ["客厅", "卧室"], "required": True}
    ]
    assert (created.requires_customer, created.requires_routing) == (True, False)
    assert AuditEvent.objects.filter(code="ticket_kind.created").count() == 1


def test_kind_errors_are_shown_in_chinese_and_nothing_is_created(client_):
    url = _url("settings_create", "kinds")
    response = client_.post(url, _kind_post(prefix="TS"))
    assert response.status_code == 200 and "编号前缀 TS 已被其他类型使用" in response.content.decode()
    response = client_.post(url, _kind_post(**{"fields-0-key": "room", "fields-0-type": "choice"}))
    assert "第 1 个附加字段请填写名称" in response.content.decode()
    assert not TicketKind.objects.filter(code="visit").exists()


def test_edit_keeps_untouched_fields_removes_deleted_ones_and_locks_the_used_prefix(client_, ticket_world):
    complaint = kind("complaint")
    make_ticket(ticket_world["agent"], region=ticket_world["north"])
    url = _url("settings_edit", "kinds", complaint.pk)
    page = client_.get(url)
    form = page.context["form"]
    assert form.fields["prefix"].disabled and form.fields["code"].disabled
    assert page.content.decode().count('data-testid="kind-field-row"') == 5  # two fields and three blank rows
    data = {
        "name": "客户投诉",
        "prefix": "XX",  # disabled: ignored
        "requires_customer": "on",
        "requires_routing": "on",
        "sort_order": 0,
        "stamp": form.initial["stamp"].isoformat(),
        "fields-TOTAL_FORMS": "5",
        "fields-INITIAL_FORMS": "2",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "30",
        "fields-0-key": "project_stage",
        "fields-0-label": "工程阶段",
        "fields-0-type": "choice",
        "fields-0-choices": "开工期、中期、尾期、完工后",
        "fields-1-key": "agency_reply",
        "fields-1-label": "需书面答复机构",
        "fields-1-type": "boolean",
        "fields-1-DELETE": "on",
        "fields-2-type": "text",
        "fields-3-key": "house_no",
        "fields-3-label": "门牌号",
        "fields-3-type": "text",
        "fields-4-type": "text",
    }
    response = client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint.refresh_from_db()
    assert (complaint.name, complaint.prefix, complaint.requires_confirmation) == ("客户投诉", "TS", False)
    assert [f["key"] for f in complaint.fields] == ["project_stage", "house_no"]


def test_stale_form_shows_the_conflict_and_saves_nothing(client_, ticket_world):
    rule = EscalationRule.objects.get(level=2)
    url = _url("settings_edit", "rules", rule.pk)
    page = client_.get(url)
    stamp = page.context["form"].initial["stamp"].isoformat()
    assert "level" not in page.context["form"].fields
    svc.escalation_rule_update(actor=ticket_world["manager"], rule=rule, values={"after_minutes": 300})
    response = client_.post(url, {"role": rule.role_id, "after_minutes": 200, "stamp": stamp})
    assert response.status_code == 200 and "该配置已被他人修改" in response.content.decode()
    assert EscalationRule.objects.get(pk=rule.pk).after_minutes == 300
    response = client_.post(url, {"role": rule.role_id, "after_minutes": 200, "stamp": "yesterday"})
    assert "页面已过期" in response.content.decode()
    assert EscalationRule.objects.get(pk=rule.pk).after_minutes == 300


def test_category_forms_preselect_the_parent_and_refuse_a_cycle(client_):
    quality, cracks = category("施工质量"), category("墙面开裂")
    page = client_.get(_url("settings_create", "categories") + f"?parent={quality.pk}")
    assert f'<option value="{quality.pk}" selected>' in page.content.decode()
    response = client_.post(_url("settings_create", "categories"), {"name": "地面空鼓", "parent": quality.pk})
    assert response.status_code == 302
    assert TicketCategory.objects.get(name="地面空鼓").path == "施工质量 › 地面空鼓"
    # Its own subtree is not offered as a parent, and posting one anyway is refused
    url = _url("settings_edit", "categories", quality.pk)
    parents = client_.get(url).context["form"].fields["parent"].queryset
    assert quality not in parents and cracks not in parents
    response = client_.post(url, {"name": "施工质量", "parent": cracks.pk, "kind": kind("complaint").pk})
    assert response.status_code == 200 and TicketCategory.objects.get(pk=quality.pk).parent_id is None
    response = client_.post(url, {"name": "工程质量", "parent": "", "kind": kind("complaint").pk, "sort_order": 0})
    assert response.status_code == 302
    assert TicketCategory.objects.get(pk=cracks.pk).path == "工程质量 › 墙面开裂"


def test_policy_form_previews_deadlines_as_the_minutes_are_typed(client_, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: FRIDAY_5PM)
    policy = SlaPolicy.objects.get(name="投诉·重大")
    page = client_.get(_url("settings_edit", "policies", policy.pk))
    html = page.content.decode()
    assert 'hx-get="/tickets/settings/preview/"' in html and "2026-03-09 17:00" in html
    response = client_.get(
        _url("settings_preview"), {"response_minutes": "60", "resolve_minutes": "900"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.context["preview"].resolve_due_at == datetime.datetime(2026, 3, 10, 17, 0, tzinfo=FRIDAY_5PM.tzinfo)
    for bad in ({"response_minutes": "x", "resolve_minutes": "1"}, {"response_minutes": "0"}, {}):
        response = client_.get(_url("settings_preview"), bad)
        assert response.status_code == 200 and 'data-testid="sla-preview-empty"' in response.content.decode()


def test_policy_create_shows_refusals(client_):
    url = _url("settings_create", "policies")
    response = client_.post(url, {"name": "快", "response_minutes": 500, "resolve_minutes": 100})
    assert response.status_code == 200 and "响应时限不能长于解决时限" in response.content.decode()
    response = client_.post(url, {"name": "快", "severity": "urgent", "response_minutes": 5, "resolve_minutes": 100})
    assert "已有条件相同的启用规则“紧急（任何类型）”" in response.content.decode()
    response = client_.post(url, {"name": "快", "severity": "major", "response_minutes": 5, "resolve_minutes": 100})
    assert response.status_code == 302
    assert SlaPolicy.objects.filter(name="快").count() == 1


def test_rule_create_and_general_settings(client_, ticket_world):
    director = ticket_world["director"].groups.get()
    assert client_.get(_url("settings_create", "rules")).context["form"].fields["level"].initial == 4
    response = client_.post(_url("settings_create", "rules"), {"level": 4, "role": director.pk, "after_minutes": 1000})
    assert response.status_code == 302 and EscalationRule.objects.filter(level=4).exists()
    url = _url("settings_general")
    stamp = client_.get(url).context["form"].initial["stamp"]
    values = {
        "failed_attempts_limit": 2,
        "warn_percent": 75,
        "complaints_per_month_limit": 3,
        "default_response_minutes": 240,
        "default_resolve_minutes": 1350,
        "slip_minutes": 900,
        "attachment_max_mb": 10,
    }
    response = client_.post(url, {**values, "warn_percent": 100, "stamp": stamp.isoformat()})
    assert response.status_code == 200 and TicketSettings.current().warn_percent == 80
    response = client_.post(url, {**values, "stamp": stamp.isoformat()})
    assert response.status_code == 302 and response["Location"].endswith("#general")
    current = TicketSettings.current()
    assert (current.failed_attempts_limit, current.warn_percent, current.attachment_max_mb) == (2, 75, 10)


def test_deactivate_and_reactivate_with_messages(client_):
    policy = SlaPolicy.objects.get(name="建议")
    response = client_.post(_url("settings_deactivate", "policies", policy.pk), follow=True)
    assert "已停用「建议」" in response.content.decode()
    assert not SlaPolicy.objects.get(pk=policy.pk).is_active
    client_.post(_url("settings_reactivate", "policies", policy.pk))
    assert SlaPolicy.objects.get(pk=policy.pk).is_active
    assert client_.get(_url("settings_deactivate", "policies", policy.pk)).status_code == 405
    # A refusal is shown, not a 500
    for code in ("repair", "inquiry", "return", "suggestion"):
        client_.post(_url("settings_deactivate", "kinds", kind(code).pk))
    response = client_.post(_url("settings_deactivate", "kinds", kind("complaint").pk), follow=True)
    assert "至少要保留一个启用的工单类型" in response.content.decode()
    assert kind("complaint").is_active


def test_unknown_sections_and_rows_are_404(client_):
    assert client_.get(_url("settings_create", "widgets")).status_code == 404
    assert client_.get(_url("settings_edit", "kinds", 999999)).status_code == 404
    assert client_.post(_url("settings_deactivate", "rules", 999999)).status_code == 404


def test_agents_cannot_open_the_settings(client, ticket_world):
    client.force_login(ticket_world["agent"])
    assert client.get(_url("settings")).status_code == 403
    response = client.post(_url("settings_create", "categories"), {"name": "越权"})
    assert response.status_code == 403 and not TicketCategory.objects.filter(name="越权").exists()
