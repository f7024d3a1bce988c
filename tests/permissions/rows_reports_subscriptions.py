"""Rows for scheduled reports: managing subscriptions needs reports.manage_subscriptions
(manager, director); one's own deliveries need reports.view_reports; somebody else's
delivery is not found for everybody who may view reports (403 for the rest)."""

from django.urls import reverse
from django.utils import timezone

from kefu.reports.models import ReportDelivery, ReportSubscription
from tests.factories import UserFactory
from tests.permissions.matrix import Row, roles

MANAGERS = roles("manager", "director")
VIEWERS = roles("manager", "director", "supervisor", "quality_officer", "account_manager")
NOBODY = frozenset()


def _subscription(world) -> ReportSubscription:
    return ReportSubscription.objects.create(report_key="complaints", frequency="monthly", role="supervisor")


def _someone_elses_delivery(world) -> ReportDelivery:
    owner = UserFactory(username="matrix-report-owner")
    return ReportDelivery.objects.create(
        recipient=owner,
        report_key="complaints",
        title="投诉统计报表",
        period_key="2026-10",
        period_label="2026年10月",
        delivered_at=timezone.now(),
        file_name="投诉统计报表_2026-10.xlsx",
        content=b"PK",
    )


ROWS = [
    Row("reports-subscriptions", lambda w: reverse("reports:subscriptions"), MANAGERS),
    Row(
        "reports-subscription-create",
        lambda w: reverse("reports:subscriptions"),
        MANAGERS,
        method="post",
        data=lambda w: {"report_key": "complaints", "frequency": "monthly", "role": "supervisor"},
    ),
    Row(
        "reports-subscription-delete",
        lambda w: reverse("reports:subscription_delete", args=[_subscription(w).pk]),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "reports-subscription-pause",
        lambda w: reverse("reports:subscription_pause", args=[_subscription(w).pk]),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "reports-subscription-resume",
        lambda w: reverse("reports:subscription_resume", args=[_subscription(w).pk]),
        MANAGERS,
        method="post",
        data=lambda w: {},
    ),
    Row("reports-my-deliveries", lambda w: reverse("reports:my_deliveries"), VIEWERS),
    Row(
        "reports-delivery-download-other",
        lambda w: reverse("reports:delivery_download", args=[_someone_elses_delivery(w).pk]),
        NOBODY,
        denied_status=(403, 404),
    ),
]
