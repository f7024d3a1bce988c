"""Notifications: the in-app inbox and the outbox of email/SMS messages. Every message
carries an idempotency key, unique in its table, so a retried job never sends twice."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message in a user's in-app inbox (the bell)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    category = models.CharField(_("类别"), max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email", _("邮件")
    SMS = "sms", _("短信")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    RECORDED = "recorded", _("已记录（未配置网关）")
    FAILED = "failed", _("发送失败")


class OutboxMessage(models.Model):
    """An email or SMS to send. Written in the transaction that decides to send it;
    delivered after commit by a job through the configured gateway."""

    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    to = models.CharField(_("收件人"), max_length=200)
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING, db_index=True
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    gateway = models.CharField(_("网关"), max_length=120, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        permissions = [("view_outbox", _("查看外发消息记录"))]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to}: {self.subject or self.body[:30]}"
