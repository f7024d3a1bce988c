from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("个人")
    ORGANISATION = "organisation", _("单位")


class Lifecycle(models.TextChoices):
    POTENTIAL = "potential", _("潜在")
    ACTIVE = "active", _("活跃")
    LOST = "lost", _("流失")


class ConsentChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")
    PAPER = "paper", _("纸质")
    ONSITE = "onsite", _("现场")


class FieldType(models.TextChoices):
    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    CHOICE = "choice", _("单选")
    BOOLEAN = "boolean", _("是/否")
    STAFF = "staff", _("员工")
