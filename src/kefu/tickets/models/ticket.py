"""The ticket (工单), the slips that route it to departments (投诉告知单), its
event history, deadline extensions and escalations."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.access import ScopeFields, user_department_ids, user_region_ids
from kefu.core.models.base import VersionedModel
from kefu.tickets.choices import (
    OPEN_STATUSES,
    Channel,
    EscalationReason,
    ExtensionStatus,
    RoutingStatus,
    Severity,
    SlaState,
    TicketStatus,
)

USER = settings.AUTH_USER_MODEL


VIEW_REGION = "tickets.view_region_tickets"


def _region_or_routed(user) -> Q:
    """The service desk (holders of `view_region_tickets`) sees its regions' tickets;
    everybody sees what was routed to their departments. Department staff therefore see
    only their slips, even when a region is set on them."""
    q = Q(pk__in=[])
    if user.has_perm(VIEW_REGION):
        q |= Q(region_id__in=user_region_ids(user))
    department_ids = user_department_ids(user)
    if department_ids:
        # EXISTS, not a join: a ticket routed to two of the user's departments is still
        # listed once (no DISTINCT for keyset pages), and the probe uses the (ticket,
        # department) index, so due-ordered queues stop after a page.
        live = TicketRouting.objects.filter(ticket=OuterRef("pk"), department_id__in=list(department_ids))
        q |= Q(Exists(live.exclude(status=RoutingStatus.CANCELLED)))
    return q


class Ticket(VersionedModel):
    """One service request. Region (from the customer) and the assignee decide who at
    the service desk sees it; departments see it once it is routed to them (and only
    then). Status moves only through the services in `tickets.services.flow`."""

    number = models.CharField(_("工单编号"), max_length=32, unique=True)
    # Not auto_now_add: a ticket taken on paper or by an agency is registered with the
    # time of the call (and the demo/benchmarks create a past year).
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)
    # Kind, customer, category, region and assignee keep their own index: the lists they
    # filter are sorted by id, and on SQLite a one-column index is (column, id) — a
    # composite leading with them would sort every match (a category at 1M: 6 → 72 ms).
    # A key that is empty on most rows, or that only a composite index is asked by, has
    # no index of its own (tickets migration 0009, bench/README.md).
    kind = models.ForeignKey("tickets.TicketKind", verbose_name=_("工单类型"), on_delete=models.PROTECT)
    status = models.CharField(_("状态"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.REGISTERED)
    # Stored by the database from the status: the open queues read (is_open, due, id) in
    # due order and stop after a page. `status IN (…three…)` cannot be read in that order
    # from any index, so both databases fetched and sorted every open ticket per page.
    is_open = models.GeneratedField(
        expression=Q(status__in=OPEN_STATUSES), output_field=models.BooleanField(), db_persist=True
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系方式"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
    )
    # Who called when there is no archive (an inquiry from a stranger).
    caller_name = models.CharField(_("来电人"), max_length=60, blank=True)
    caller_phone = models.CharField(_("来电号码"), max_length=32, blank=True)
    channel = models.CharField(_("受理渠道"), max_length=16, choices=Channel.choices, default=Channel.PHONE)
    agency_name = models.CharField(_("转交机构"), max_length=60, blank=True, help_text=_("如 消协、装协"))
    agency_ref = models.CharField(_("机构编号"), max_length=60, blank=True)
    agency_deadline = models.DateField(_("机构要求答复日期"), null=True, blank=True)
    category = models.ForeignKey(
        "tickets.TicketCategory",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    severity = models.CharField(_("严重程度"), max_length=16, choices=Severity.choices, default=Severity.NORMAL)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("问题描述"))
    extra = models.JSONField(_("附加字段"), default=dict, blank=True)
    region = models.ForeignKey(
        "core.Region",
        verbose_name=_("片区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        USER,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A complaint about a staff member (seed 003: the third in a month flags a penalty).
    against_staff = models.ForeignKey(
        USER,
        verbose_name=_("被投诉员工"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="complaints_against",
    )
    related = models.ManyToManyField("self", verbose_name=_("相关工单"), blank=True, symmetrical=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入/重复于"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )

    # -- deadlines (working minutes from the policy, see tickets/sla.py)
    sla_policy = models.ForeignKey(
        "tickets.SlaPolicy", verbose_name=_("时限规则"), null=True, blank=True, on_delete=models.SET_NULL
    )
    sla_state = models.CharField(_("时限状态"), max_length=16, choices=SlaState.choices, default=SlaState.ON_TRACK)
    response_due_at = models.DateTimeField(_("响应期限"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("解决期限"), null=True, blank=True)
    # When the supervision job warns, and when it escalates next (None: nothing pending).
    warn_at = models.DateTimeField(null=True, blank=True)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("暂停计时于"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("首次响应"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)
    failed_attempts = models.PositiveSmallIntegerField(_("未解决处理次数"), default=0)
    # Each reopening starts a new cycle: deadlines, warnings and escalations anew.
    cycle = models.PositiveSmallIntegerField(_("处理轮次"), default=1)

    # -- outcome
    resolution = models.TextField(_("处理结果"), blank=True)
    cause_analysis = models.TextField(_("原因分析"), blank=True)
    responsible_party = models.CharField(_("责任方"), max_length=120, blank=True)
    responsible_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理完成"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, db_index=False, on_delete=models.SET_NULL, related_name="+"
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("满意度"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    confirmed_at = models.DateTimeField(_("回访确认"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重开次数"), default=0)
    # Working minutes (company calendar) from registration to the first response and to
    # the resolution, stored when they happen: reports average them and take percentiles
    # over a million tickets without walking the calendar per row.
    response_minutes = models.PositiveIntegerField(_("首次响应用时（工作分钟）"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("处理用时（工作分钟）"), null=True, blank=True)

    # -- 重要投诉档案
    is_important = models.BooleanField(_("重要投诉"), default=False)
    important_reason = models.CharField(_("列为重要投诉的原因"), max_length=200, blank=True)
    important_at = models.DateTimeField(null=True, blank=True)

    scope_fields = ScopeFields(owner="assignee", reach=_region_or_routed)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        permissions = [
            ("route_ticket", _("派单、改派与撤回告知单")),
            ("handle_ticket", _("接收告知单、记录处理与回复")),
            ("resolve_ticket", _("填写处理结果")),
            ("confirm_ticket", _("回访确认、重开与关闭工单")),
            ("supervise_ticket", _("督办、升级、批准延期")),
            ("export_ticket", _("导出工单")),
            ("mark_important", _("标记重要投诉")),
            ("request_refund", _("申请退款/补偿")),
            ("view_region_tickets", _("查看本片区工单")),
        ]
        indexes = [
            models.Index(fields=["status", "resolve_due_at", "id"]),
            # Partial on the flag, not a leading column: Django writes `WHERE "is_open"`,
            # which SQLite can only match to an index's own WHERE clause (as a leading
            # column it became a skip-scan plus a sort of every open ticket: 2 s at 1M).
            models.Index(fields=["resolve_due_at", "id"], name="tickets_open_due_at", condition=Q(is_open=True)),
            models.Index(fields=["region", "status", "resolve_due_at", "id"]),
            models.Index(fields=["assignee", "status", "resolve_due_at", "id"]),
            # Also what the period statistics read (reports.selectors.tickets): a year of
            # complaints' resolution minutes by dimension comes from the index alone,
            # where a lookup of each ticket's row cost seconds at 1M tickets.
            models.Index(
                fields=[
                    "kind",
                    "created_at",
                    "id",
                    "resolution_minutes",
                    "category",
                    "responsible_department",
                    "region",
                    "channel",
                    "severity",
                    "assignee",
                ],
                name="tickets_kind_created_stats",
            ),
            models.Index(fields=["created_at", "id"]),
            models.Index(fields=["customer", "created_at"]),
            models.Index(fields=["sla_state", "status"]),
            models.Index(fields=["category", "created_at"]),
            models.Index(fields=["against_staff", "created_at"]),
            models.Index(fields=["is_important", "created_at"]),
            models.Index(
                fields=["next_escalation_at"],
                name="tickets_next_escalation",
                condition=Q(next_escalation_at__isnull=False),
            ),
            models.Index(fields=["warn_at"], name="tickets_warn_at", condition=Q(warn_at__isnull=False)),
            # Keys empty on most tickets, looked up when the row they name is deleted or
            # merged (and the merged-from list): only the rows that have one.
            *(
                models.Index(fields=[key], name=f"tickets_{key}", condition=Q(**{f"{key}__isnull": False}))
                for key in ("contact", "merged_into", "responsible_department", "resolved_by")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class TicketRouting(models.Model):
    """A ticket routed to one responsible department: the 投诉告知单 (notification
    slip) it prints, the department's deadline, acceptance and reply."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="routings")
    department = models.ForeignKey("core.Department", verbose_name=_("责任部门"), on_delete=models.PROTECT)
    slip_no = models.CharField(_("告知单编号"), max_length=40, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=RoutingStatus.choices, default=RoutingStatus.SENT)
    instructions = models.TextField(_("处理要求"), blank=True)
    due_at = models.DateTimeField(_("回复期限"))
    routed_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    routed_at = models.DateTimeField(_("派单时间"))
    accepted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    reply = models.TextField(_("部门回复"), blank=True)
    replied_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("投诉告知单")
        verbose_name_plural = _("投诉告知单")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "department"],
                condition=~Q(status=RoutingStatus.CANCELLED),
                name="tickets_one_live_slip_per_department",
            )
        ]
        indexes = [
            models.Index(fields=["department", "status", "due_at", "id"]),
            models.Index(fields=["routed_at"]),
        ]

    def __str__(self) -> str:
        return self.slip_no


class TicketEvent(models.Model):
    """What happened to a ticket, in order: transitions, handling records, comments.
    Append-only (the audit log holds the who-changed-what; this is the story told on
    the ticket page)."""

    # Looked up through (ticket, at, id) below; the routing, set on few events, partially.
    ticket = models.ForeignKey(Ticket, db_index=False, on_delete=models.CASCADE, related_name="events")
    code = models.CharField(max_length=40)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    routing = models.ForeignKey(
        TicketRouting, null=True, blank=True, db_index=False, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["ticket", "at", "id"]),
            models.Index(fields=["code", "at"]),
            models.Index(fields=["routing"], name="tickets_event_routing", condition=Q(routing__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.code}@{self.at:%Y-%m-%d %H:%M}"


class DeadlineExtension(models.Model):
    """A department asks for more time on its slip; a supervisor grants or refuses."""

    routing = models.ForeignKey(TicketRouting, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    until = models.DateTimeField(_("延期至"))
    reason = models.TextField(_("理由"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("批复意见"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["routing"], condition=Q(status="pending"), name="tickets_one_pending_extension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.routing} → {self.until:%Y-%m-%d %H:%M}"


class Escalation(models.Model):
    """A 督办 or an escalation. Automatic ones are unique per ticket, cycle and level, so
    the supervision job can run twice (or die halfway and rerun) and tell nobody twice."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField(_("级别"))
    cycle = models.PositiveSmallIntegerField(default=1)
    reason = models.CharField(_("原因"), max_length=20, choices=EscalationReason.choices)
    note = models.TextField(_("督办意见"), blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "cycle", "level"],
                condition=~Q(reason=EscalationReason.MANUAL),
                name="tickets_one_automatic_escalation_per_level",
            )
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.ticket} L{self.level}"
