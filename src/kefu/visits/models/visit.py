"""One return visit (回访) of one customer: planned by a rule, a campaign or by hand,
worked by an agent or account manager, its answers kept with the questionnaire version
they answered."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.access import ScopeFields, user_department_ids, user_region_ids
from kefu.core.models.base import VersionedModel
from kefu.visits.choices import Outcome, VisitChannel, VisitStatus

USER = settings.AUTH_USER_MODEL
VIEW_REGION = "visits.view_region_visits"


def _team_or_region(user) -> Q:
    # An agent sees their own list and their team's unassigned visits; supervisors and
    # account managers also their region's (issue 5: "an agent sees only their list;
    # an account manager their region").
    q = Q(assignee__isnull=True, team_id__in=user_department_ids(user))
    if user.has_perm(VIEW_REGION):
        q |= Q(region_id__in=user_region_ids(user))
    return q


class Visit(VersionedModel):
    # The keys the planner writes for millions of rows at once (customer, rule, campaign,
    # assignee, team, region, questionnaire version) have no database constraint on
    # PostgreSQL: it checked each key of each new row at COMMIT, locking every customer
    # row, and that was half of planning a million customers (bench/README.md, "Visits'
    # keys without database constraints, and a week planned ahead"). What they point to
    # is never deleted by Kefu — customers are merged or lost, users deactivated, rules
    # paused — and every delete made through Django still meets PROTECT. The keys people
    # set one visit at a time (ticket, created ticket, done by) keep theirs.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    rule = models.ForeignKey(
        "visits.VisitRule",
        verbose_name=_("回访规则"),
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    campaign = models.ForeignKey(
        "visits.Campaign",
        verbose_name=_("回访活动"),
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    # What the visit is about: the ticket to confirm, or the event that caused it.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    # The period or event occurrence it covers, e.g. "2026-11#2", "ticket:17:c1",
    # "service:2026-11-02:+7"; unique per rule and customer, so planning twice plans once.
    period_key = models.CharField(max_length=60)
    visit_type = models.CharField(_("回访类型"), max_length=40)
    due_date = models.DateField(_("计划日期"))
    call_back_at = models.DateTimeField(_("约定回拨时间"), null=True, blank=True)
    assignee = models.ForeignKey(
        USER,
        verbose_name=_("回访人"),
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    team = models.ForeignKey(
        "core.Department",
        verbose_name=_("班组"),
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        "core.Region",
        verbose_name=_("片区"),
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=16, choices=VisitStatus.choices, default=VisitStatus.PLANNED)
    channel = models.CharField(_("回访方式"), max_length=16, choices=VisitChannel.choices, default=VisitChannel.PHONE)
    attempts = models.PositiveSmallIntegerField(_("拨打次数"), default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    retry_working_days = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, blank=True)
    questionnaire_version = models.ForeignKey(
        "visits.QuestionnaireVersion",
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answers = models.JSONField(_("答卷"), default=dict, blank=True)
    # Read off the answers for statistics (the first 1–5 score and NPS question).
    satisfaction = models.PositiveSmallIntegerField(
        _("满意度"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(_("推荐度"), null=True, blank=True, validators=[MaxValueValidator(10)])
    notes = models.TextField(_("回访记录"), blank=True)
    next_action = models.CharField(_("后续安排"), max_length=200, blank=True)
    # The clinic funnel (seed 004): visits → arrivals (到院) → deals (成交).
    arrived = models.BooleanField(_("已到院/到店"), default=False)
    deal = models.BooleanField(_("已成交"), default=False)
    deal_amount = models.DecimalField(_("成交金额"), max_digits=12, decimal_places=2, null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        USER, null=True, blank=True, db_index=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("由回访创建的工单"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ScopeFields(owner="assignee", reach=_team_or_region)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        permissions = [
            ("view_region_visits", _("查看本片区全部回访")),
            ("record_visit", _("记录回访结果")),
            ("reassign_visit", _("改派回访")),
            ("export_visit", _("导出回访记录")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "customer", "period_key"],
                condition=Q(rule__isnull=False),
                name="visits_once_per_rule_period",
            ),
            models.UniqueConstraint(
                fields=["campaign", "customer"], condition=Q(campaign__isnull=False), name="visits_once_per_campaign"
            ),
        ]
        # Planning writes millions of rows: a planned visit enters 7 index entries, not
        # the 19 Django's defaults gave (a single-column index per foreign key). The
        # foreign keys are indexed by the composites they lead (customer, rule,
        # assignee, region; campaign by its unique constraint) or, when mostly null,
        # by partial indexes on their non-null rows; questionnaire versions are never
        # deleted, so nothing looks visits up by them.
        indexes = [
            models.Index(fields=["assignee", "status", "due_date", "id"]),
            models.Index(fields=["region", "status", "due_date", "id"]),
            models.Index(fields=["status", "due_date", "id"]),
            models.Index(fields=["customer", "done_at"]),
            models.Index(fields=["rule", "status"]),
            # The visits worked to an end in a period, with what the staff statistics count
            # them by and the scope columns: read from the index alone (a year at 5M
            # visits is 2M rows; a table lookup each took SQLite 33 s, now 1.3 s).
            models.Index(
                fields=["done_at", "done_by", "status", "region", "assignee", "team"],
                name="visits_done_stats",
                condition=Q(done_at__isnull=False),
            ),
            models.Index(
                fields=["team", "status", "due_date", "id"], name="visits_team_queue", condition=Q(team__isnull=False)
            ),
            models.Index(fields=["ticket"], name="visits_ticket", condition=Q(ticket__isnull=False)),
            models.Index(
                fields=["created_ticket"], name="visits_created_ticket", condition=Q(created_ticket__isnull=False)
            ),
            models.Index(fields=["done_by"], name="visits_done_by", condition=Q(done_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.visit_type} {self.due_date:%Y-%m-%d}"
