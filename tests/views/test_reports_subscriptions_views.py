"""The scheduled-report pages: managing subscriptions (reports.manage_subscriptions),
one's own delivered reports, and their audited download (anybody else's is a 404)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.reports.models import Frequency, ReportDelivery, ReportSubscription

pytestmark = pytest.mark.django_db

GRANTS = {
    "manager": ["view_reports", "export_reports", "manage_subscriptions"],
    "supervisor": ["view_reports", "export_reports"],
    "account_manager": ["view_reports", "export_reports"],
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def people(roles, make_user):
    for role, codenames in GRANTS.items():
        roles[role].permissions.add(
            *Permission.objects.filter(content_type__app_label="reports", codename__in=codenames)
        )
    return {
        "manager": make_user("manager", username="mgr", scope_all=True),
        "supervisor": make_user("supervisor", username="sup"),
        "am": make_user("account_manager", username="am"),
        "am2": make_user("account_manager", username="am2"),
        "agent": make_user("agent", username="agent"),
    }


def _delivery(recipient, *, title="投诉统计报表", period_key="2026-10", content=b"PK\x03\x04 report") -> ReportDelivery:
    return ReportDelivery.objects.create(
        recipient=recipient,
        report_key="complaints",
        title=title,
        period_key=period_key,
        period_label=f"{period_key[:4]}年{int(period_key[5:])}月",
        delivered_at=timezone.now(),
        file_name=f"{title}_{period_key}.xlsx",
        content=content,
    )


# -- managing subscriptions


@pytest.mark.parametrize(("who", "status"), [("manager", 200), ("supervisor", 403), ("agent", 403)])
def test_subscriptions_page_needs_manage_subscriptions(client, people, who, status):
    client.force_login(people[who])
    assert client.get(reverse("reports:subscriptions")).status_code == status


def test_anonymous_is_sent_to_login(client, people):
    response = client.get(reverse("reports:subscriptions"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_manager_adds_a_subscription_through_the_form(client, people):
    client.force_login(people["manager"])

    response = client.post(
        reverse("reports:subscriptions"),
        {"report_key": "complaints", "frequency": Frequency.WEEKLY, "role": "account_manager", "by_email": "on"},
    )

    assert response.status_code == 302
    sub = ReportSubscription.objects.get()
    assert (sub.report_key, sub.frequency, sub.role, sub.by_email, sub.created_by) == (
        "complaints",
        "weekly",
        "account_manager",
        True,
        people["manager"],
    )
    page = client.get(reverse("reports:subscriptions"))
    assert "投诉统计报表" in page.content.decode()
    assert page.context["rows"][0]["recipients"] == 2  # am and am2


def test_a_person_can_be_chosen(client, people):
    client.force_login(people["manager"])

    client.post(
        reverse("reports:subscriptions"),
        {"report_key": "visits", "frequency": Frequency.MONTHLY, "user": people["supervisor"].pk},
    )

    assert ReportSubscription.objects.get().user == people["supervisor"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"report_key": "no-such-report", "frequency": "monthly", "role": "manager"}, "没有这个报表"),
        ({"report_key": "complaints", "frequency": "monthly"}, "二选一"),
        ({"report_key": "complaints", "frequency": "monthly", "role": "agent"}, "没有查看统计报表的权限"),
    ],
)
def test_a_refused_subscription_shows_the_reason(client, people, data, message):
    client.force_login(people["manager"])

    response = client.post(reverse("reports:subscriptions"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReportSubscription.objects.exists()


def test_a_duplicate_is_refused_on_the_page(client, people):
    client.force_login(people["manager"])
    data = {"report_key": "complaints", "frequency": "monthly", "role": "supervisor"}
    client.post(reverse("reports:subscriptions"), data)

    response = client.post(reverse("reports:subscriptions"), data)

    assert response.status_code == 400
    assert "已有相同的订阅" in response.content.decode()
    assert ReportSubscription.objects.count() == 1


def test_who_may_not_manage_cannot_post_either(client, people):
    client.force_login(people["supervisor"])

    response = client.post(
        reverse("reports:subscriptions"), {"report_key": "complaints", "frequency": "monthly", "role": "supervisor"}
    )

    assert response.status_code == 403
    assert not ReportSubscription.objects.exists()


def test_deleting_a_subscription(client, people):
    sub = ReportSubscription.objects.create(report_key="complaints", frequency="monthly", role="supervisor")
    url = reverse("reports:subscription_delete", args=[sub.pk])

    client.force_login(people["supervisor"])
    assert client.post(url).status_code == 403
    client.force_login(people["manager"])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302

    assert not ReportSubscription.objects.exists()
    assert AuditEvent.objects.filter(code="report.subscription.deleted", actor=people["manager"]).count() == 1
    assert client.post(url).status_code == 404


def test_pausing_and_resuming_from_the_list(client, people):
    sub = ReportSubscription.objects.create(report_key="complaints", frequency="monthly", role="supervisor")
    client.force_login(people["manager"])
    page = reverse("reports:subscriptions")
    assert 'data-testid="subscription-pause"' in client.get(page).content.decode()

    assert client.post(reverse("reports:subscription_pause", args=[sub.pk])).status_code == 302
    html = client.get(page).content.decode()
    assert 'data-testid="subscription-paused"' in html and 'data-testid="subscription-resume"' in html
    assert not ReportSubscription.objects.get(pk=sub.pk).is_active

    assert client.post(reverse("reports:subscription_resume", args=[sub.pk])).status_code == 302
    resumed = ReportSubscription.objects.get(pk=sub.pk)
    assert resumed.is_active and resumed.active_since is not None
    assert 'data-testid="subscription-paused"' not in client.get(page).content.decode()
    assert client.get(reverse("reports:subscription_pause", args=[sub.pk])).status_code == 405
    assert client.post(reverse("reports:subscription_pause", args=[sub.pk + 99])).status_code == 404


def test_the_list_costs_the_same_queries_for_many_subscriptions(client, people, make_user):
    client.force_login(people["manager"])
    url = reverse("reports:subscriptions")
    ReportSubscription.objects.create(report_key="complaints", frequency="monthly", role="supervisor")
    ReportSubscription.objects.create(report_key="visits", frequency="weekly", user=people["am"])
    client.get(url)  # warm the per-process caches (menu, site configuration)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    for i, key in enumerate(["repairs", "customers", "staff", "completed", "important"]):
        ReportSubscription.objects.create(report_key=key, frequency="monthly", role="account_manager")
        ReportSubscription.objects.create(report_key=key, frequency="monthly", user=people["am2"])
        make_user("account_manager", username=f"am-extra-{i}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200

    assert len(many.captured_queries) == len(few.captured_queries)


# -- one's own deliveries


def test_my_deliveries_lists_only_mine(client, people):
    _delivery(people["am"], title="我的投诉统计")
    _delivery(people["am2"], title="别人的回访统计")
    client.force_login(people["am"])

    response = client.get(reverse("reports:my_deliveries"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "我的投诉统计" in body and "别人的回访统计" not in body


def test_my_deliveries_needs_view_reports(client, people):
    client.force_login(people["agent"])
    assert client.get(reverse("reports:my_deliveries")).status_code == 403


def test_download_own_delivery_is_audited(client, people):
    delivery = _delivery(people["am"])
    client.force_login(people["am"])

    response = client.get(reverse("reports:delivery_download", args=[delivery.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response.content == b"PK\x03\x04 report"
    assert "attachment" in response["Content-Disposition"]
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    event = AuditEvent.objects.get(code="report.delivery.downloaded")
    assert (event.actor, event.object_id) == (people["am"], str(delivery.pk))


@pytest.mark.parametrize("who", ["am2", "manager", "supervisor"])
def test_somebody_elses_delivery_is_not_found(client, people, who):
    delivery = _delivery(people["am"])
    client.force_login(people[who])

    response = client.get(reverse("reports:delivery_download", args=[delivery.pk]))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(code="report.delivery.downloaded").exists()


def test_without_view_reports_no_download_even_of_ones_own(client, people):
    # Delivered while the agent held the permission; it has since been taken away.
    delivery = _delivery(people["agent"])
    client.force_login(people["agent"])

    assert client.get(reverse("reports:delivery_download", args=[delivery.pk])).status_code == 403
    assert not AuditEvent.objects.exists()
