"""The customer archive (客户档案): a person or an organisation, with contacts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.access import ScopeFields
from kefu.core.models.base import VersionedModel
from kefu.customers.choices import ConsentChannel, CustomerKind, Lifecycle


class Customer(VersionedModel):
    """One archive. Region and owner (客户经理) decide who may see it; the archive
    number is never reused; a merged archive keeps existing with `merged_into` set."""

    kind = models.CharField(_("类型"), max_length=16, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    archive_no = models.CharField(_("档案编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    # Space-separated initials of every reading of the name (polyphonic surnames: 单 → d s c).
    # Shown, not searched (the search box reads `search_text`): no index to keep up.
    name_initials = models.CharField(_("拼音首字母"), max_length=200, blank=True)
    id_number = models.CharField(
        _("证件号码"), max_length=40, blank=True, help_text=_("个人：身份证号；单位：统一社会信用代码")
    )
    gender = models.CharField(_("性别"), max_length=8, blank=True)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # Owner, credit grade and source are looked up through their (key, id) indexes in
    # Meta.indexes; a key of their own would be another entry per row. The region keeps
    # its own: (region, class, id) cannot list a region — or the archives without one —
    # in id order, and SQLite's one-column index is (region, id).
    region = models.ForeignKey(
        "core.Region", verbose_name=_("片区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    customer_class = models.ForeignKey(
        "customers.CustomerClass", verbose_name=_("客户分类"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_key_account = models.BooleanField(_("大客户"), default=False)
    credit_grade = models.ForeignKey(
        "customers.CreditGrade",
        verbose_name=_("信用等级"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
    )
    source = models.ForeignKey(
        "customers.CustomerSource",
        verbose_name=_("信息来源"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
    )
    categories = models.ManyToManyField("customers.ProductCategory", verbose_name=_("产品类别"), blank=True)
    tags = models.ManyToManyField("customers.Tag", verbose_name=_("标签"), blank=True)
    lifecycle = models.CharField(_("生命周期"), max_length=16, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    marketing_consent = models.BooleanField(_("同意营销联系"), default=False)
    consent_at = models.DateTimeField(_("同意时间"), null=True, blank=True)
    consent_channel = models.CharField(_("同意渠道"), max_length=16, choices=ConsentChannel.choices, blank=True)
    points_balance = models.IntegerField(_("积分余额"), default=0)
    notes = models.TextField(_("备注"), blank=True)
    extra = models.JSONField(_("扩展字段"), default=dict, blank=True)
    # Lowercased name, every initials reading, contact phone digits and archive number:
    # what the search box matches (FTS5 trigram on SQLite, pg_trgm on PostgreSQL).
    search_text = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并至"),
        null=True,
        blank=True,
        db_index=False,  # set on few archives: the partial index below
        on_delete=models.PROTECT,
        related_name="merged_from",
    )

    scope_fields = ScopeFields(region="region", owner="owner")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("客户")
        verbose_name_plural = _("客户档案")
        permissions = [
            ("export_customer", _("导出客户档案")),
            ("import_customer", _("导入客户档案")),
            ("merge_customer", _("合并客户档案")),
            ("change_credit", _("调整信用等级")),
            ("lend_archive", _("登记档案借阅")),
        ]
        indexes = [
            models.Index(fields=["region", "customer_class", "id"]),
            models.Index(fields=["owner", "id"]),
            models.Index(fields=["lifecycle", "id"]),
            models.Index(fields=["credit_grade", "id"]),
            models.Index(fields=["source", "id"]),
            models.Index(fields=["is_key_account", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["created_at", "id"]),
            models.Index(fields=["id_number"]),
            models.Index(fields=["name"]),
            models.Index(fields=["merged_into"], name="customers_merged_into", condition=Q(merged_into__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.archive_no}）"


class Contact(models.Model):
    """A way to reach the customer; exactly one is primary."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("联系人"), max_length=60, blank=True)
    role = models.CharField(_("职务/关系"), max_length=60, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    # Digits only, for "any 4+ digits" search and duplicate detection.
    phone_digits = models.CharField(max_length=32, blank=True, db_index=True)
    wechat = models.CharField(_("微信"), max_length=60, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    is_primary = models.BooleanField(_("主要联系方式"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("联系方式")
        verbose_name_plural = _("联系方式")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="customers_one_primary_contact"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.phone
