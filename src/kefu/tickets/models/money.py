"""Refunds and compensation (退款/补偿) and penalty proposals (处罚建议), both decided
through the approvals engine."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.tickets.choices import PenaltyStatus, RefundKind, RefundStatus

USER = settings.AUTH_USER_MODEL


class RefundRequest(models.Model):
    """Money or goods owed to the customer on a ticket. Until the last approval the
    customer may not be told and the ticket may not be resolved with it (seed 004:
    退款及赔偿方案需院长参与商定，并且财务确定后才能回复顾客)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(_("类型"), max_length=16, choices=RefundKind.choices, default=RefundKind.REFUND)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    reason = models.TextField(_("理由"))
    status = models.CharField(_("状态"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    approval = models.ForeignKey(
        "core.ApprovalRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    # When the customer was told the outcome (only possible once approved).
    customer_told_at = models.DateTimeField(_("已告知客户"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("退款/补偿申请")
        verbose_name_plural = _("退款/补偿申请")
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="pending"), name="tickets_one_pending_refund")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ¥{self.amount}"


class Payout(models.Model):
    """The one payout order finance executes for an approved refund: one per refund,
    enforced by the database however many times anybody clicks."""

    refund = models.OneToOneField(RefundRequest, on_delete=models.PROTECT, related_name="payout")
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    paid_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("付款单")
        verbose_name_plural = _("付款单")

    def __str__(self) -> str:
        return f"¥{self.amount}"


class PenaltyProposal(models.Model):
    """A proposed penalty for whoever was responsible (seed 001 处罚建议; seed 003 the
    third complaint against an agent in a month). `month` is set on the ones the
    discipline rule raises, one per staff member and month."""

    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="penalties"
    )
    staff = models.ForeignKey(
        USER, verbose_name=_("责任人"), null=True, blank=True, on_delete=models.PROTECT, related_name="penalties"
    )
    responsible_party = models.CharField(_("责任方"), max_length=120, blank=True)
    amount = models.DecimalField(_("处罚金额"), max_digits=12, decimal_places=2, null=True, blank=True)
    reason = models.TextField(_("理由"))
    status = models.CharField(_("状态"), max_length=16, choices=PenaltyStatus.choices, default=PenaltyStatus.SUGGESTED)
    month = models.DateField(_("月份"), null=True, blank=True)
    complaint_count = models.PositiveSmallIntegerField(_("当月被投诉次数"), null=True, blank=True)
    approval = models.ForeignKey(
        "core.ApprovalRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("处罚建议")
        verbose_name_plural = _("处罚建议")
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "month"], condition=Q(month__isnull=False), name="tickets_one_discipline_flag"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff or self.responsible_party}: {self.get_status_display()}"
