"""Scheduled reports: who receives which report how often, and what was delivered
(once per subscription, recipient and period)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")


class ReportSubscription(models.Model):
    """A report sent every period to one person or to everyone holding a role; each
    recipient gets it computed over what they may see."""

    report_key = models.CharField(_("报表"), max_length=40)
    frequency = models.CharField(_("频率"), max_length=16, choices=Frequency.choices)
    role = models.CharField(_("角色"), max_length=40, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
    )
    by_email = models.BooleanField(_("同时发送邮件"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    # When a paused subscription was resumed: the periods that ended while it was paused
    # are not owed (without it, the created time decides what a missed run still owes).
    active_since = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["report_key", "id"]
        verbose_name = _("报表订阅")
        verbose_name_plural = _("报表订阅")
        permissions = [
            ("view_reports", _("查看统计报表")),
            ("export_reports", _("导出统计报表")),
            ("manage_subscriptions", _("管理报表订阅")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(role="")) | (Q(user__isnull=True) & ~Q(role="")),
                name="reports_subscription_user_xor_role",
            ),
            # The same report at the same frequency twice to one recipient would only
            # deliver the same file twice: one subscription per (report, frequency, target).
            models.UniqueConstraint(
                fields=["report_key", "frequency", "user"],
                condition=Q(user__isnull=False),
                name="reports_subscription_unique_user",
            ),
            models.UniqueConstraint(
                fields=["report_key", "frequency", "role"],
                condition=~Q(role=""),
                name="reports_subscription_unique_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_key} {self.frequency}"


class ReportDelivery(models.Model):
    """One rendered report handed to one recipient for one period — the unique key is
    what makes the periodic job deliver exactly once however often it runs.

    The report's key, title and period are copied here, and the subscription link is
    cleared rather than cascaded, so a recipient keeps what was delivered to them after
    a manager ends the subscription."""

    subscription = models.ForeignKey(
        ReportSubscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    report_key = models.CharField(_("报表"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    period_key = models.CharField(_("统计期间"), max_length=32)
    period_label = models.CharField(_("统计期间名称"), max_length=60)
    delivered_at = models.DateTimeField(_("送达时间"))
    file_name = models.CharField(max_length=200)
    content = models.BinaryField(_("报表文件"))

    class Meta:
        ordering = ["-delivered_at", "-id"]
        verbose_name = _("报表送达")
        verbose_name_plural = _("报表送达")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "recipient", "period_key"], name="reports_one_delivery_per_period"
            )
        ]
        indexes = [models.Index(fields=["recipient", "-delivered_at", "-id"], name="reports_delivery_inbox")]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient_id}"


# --------------------------------------------------------------------------- rollups


class TicketRollup(models.Model):
    """Counters of the tickets by registration month (the site's time zone), kind,
    region, category, responsible department, channel and severity — the complaint
    statistics' five dimensions — what the dashboards and the period reports read
    instead of scanning a million tickets (see `kefu.reports.rollup`).

    Written only by database triggers on the tickets table: every insert, update of a
    counted column and delete adds a row of +1 / −1 contributions ("deltas"), so
    concurrent writers never wait on a shared counter row and never deadlock; a
    periodic job folds each key's rows into one (`fresh=False`). Readers always SUM
    per key, so they are right before and after a fold. The keys are plain integers
    (0 = none), not foreign keys: a counter must never block or cascade a delete."""

    month = models.DateField()
    kind = models.IntegerField()
    region = models.IntegerField()
    category = models.IntegerField()
    department = models.IntegerField()
    channel = models.CharField(max_length=16, default="")
    severity = models.CharField(max_length=16, default="")
    fresh = models.BooleanField(default=True)
    n_count = models.BigIntegerField(default=0)
    n_resolved = models.BigIntegerField(default=0)
    n_open = models.BigIntegerField(default=0)
    sum_resolution = models.BigIntegerField(default=0)
    n_resolution = models.BigIntegerField(default=0)
    sum_response = models.BigIntegerField(default=0)
    n_response = models.BigIntegerField(default=0)
    n_sla_breached = models.BigIntegerField(default=0)
    n_reopened = models.BigIntegerField(default=0)
    sum_satisfaction = models.BigIntegerField(default=0)
    n_satisfaction = models.BigIntegerField(default=0)
    n_escalated = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["month", "kind"], name="reports_ticketrollup_month"),
            # The fold finds the keys written since the last one.
            models.Index(fields=["month"], name="reports_ticketrollup_fresh", condition=Q(fresh=True)),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} kind {self.kind}: {self.n_count}"


class VisitRollup(models.Model):
    """Counters of the visits by due month, region, rule, team, channel and visit type —
    kept like `TicketRollup` (triggers writing deltas, the periodic fold). The
    customer's class is not a key: it is the customer's, and changes without the visit."""

    month = models.DateField()
    region = models.IntegerField()
    rule = models.IntegerField()
    team = models.IntegerField()
    channel = models.CharField(max_length=16)
    visit_type = models.CharField(max_length=40)
    fresh = models.BooleanField(default=True)
    planned = models.BigIntegerField(default=0)
    finished = models.BigIntegerField(default=0)
    waiting = models.BigIntegerField(default=0)
    reached = models.BigIntegerField(default=0)
    sum_satisfaction = models.BigIntegerField(default=0)
    n_satisfaction = models.BigIntegerField(default=0)
    promoters = models.BigIntegerField(default=0)
    detractors = models.BigIntegerField(default=0)
    nps_answers = models.BigIntegerField(default=0)
    arrived = models.BigIntegerField(default=0)
    deals = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["month"], name="reports_visitrollup_month"),
            models.Index(fields=["month"], name="reports_visitrollup_fresh", condition=Q(fresh=True)),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} visits: {self.planned}"


class CustomerRollup(models.Model):
    """Counters of the live archives by opening month, class, region, source and
    lifecycle — kept like `TicketRollup`; "existing at the end of a period" is the sum
    over the months before its end."""

    month = models.DateField()
    customer_class = models.IntegerField()
    region = models.IntegerField()
    source = models.IntegerField()
    lifecycle = models.CharField(max_length=16)
    fresh = models.BooleanField(default=True)
    n = models.BigIntegerField(default=0)
    key_accounts = models.BigIntegerField(default=0)
    active = models.BigIntegerField(default=0)
    potential = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["month"], name="reports_customerrollup_month"),
            models.Index(fields=["month"], name="reports_customerrollup_fresh", condition=Q(fresh=True)),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} customers: {self.n}"


class RollupState(models.Model):
    """When a rollup was last rebuilt, and in which time zone its triggers bucket the
    months: readers use a rollup only when it was built for the time zone in force."""

    name = models.CharField(max_length=40, unique=True)
    time_zone = models.CharField(max_length=64)
    rebuilt_at = models.DateTimeField()
    folded_at = models.DateTimeField(null=True, blank=True)
    # SQLite only, inside one writing transaction: the row triggers for INSERT skip
    # while a bulk INSERT … SELECT runs, which then counts its rows in one statement
    # (`maintain.inserts_counted_after`). Never true once that transaction commits.
    paused = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"
