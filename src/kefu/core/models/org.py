"""The organisation: departments, regions (片区) and staff with their scope."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.access import ScopeFields
from kefu.core.models.base import VersionedModel


class DepartmentKind(models.TextChoices):
    SERVICE = "service", _("客服部门")
    OTHER = "other", _("业务部门")


class Department(VersionedModel):
    """A department: the service department(s) themselves, or another department that
    receives routed work (工程部, 设计部, 维修部, 医务部, 销售部…)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=16, choices=DepartmentKind.choices, default=DepartmentKind.OTHER)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    head = models.ForeignKey(
        "core.User",
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    # Departments and regions are reference data everyone picks from (routing a ticket to
    # the repair department): not scoped, the view permission alone decides.

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class Region(VersionedModel):
    """A 片区: the territory an account manager or a team is responsible for."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级片区"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("片区")
        verbose_name_plural = _("片区")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. Roles are groups (see `kefu.core.roles`); the scope is the set of
    regions and departments whose data they see, unless `scope_all`."""

    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    employee_no = models.CharField(_("工号"), max_length=32, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    title = models.CharField(_("职务"), max_length=60, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("所属片区"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    scope_all = models.BooleanField(_("可见全部数据"), default=False)
    scope_regions = models.ManyToManyField(Region, verbose_name=_("可见片区"), blank=True, related_name="+")
    scope_departments = models.ManyToManyField(Department, verbose_name=_("可见部门"), blank=True, related_name="+")
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    scope_fields = ScopeFields(department="department", region="region", owner="pk")

    class Meta(AbstractUser.Meta):
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        # Capabilities that belong to no single model live here, on the staff model.
        permissions = [
            ("manage_organisation", _("管理组织：部门、片区、员工、角色")),
            ("reveal_pii", _("查看完整手机号与证件号")),
            ("export_data", _("导出数据")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["employee_no"], condition=~models.Q(employee_no=""), name="core_user_employee_no_unique"
            )
        ]
        indexes = [models.Index(fields=["department", "is_active"]), models.Index(fields=["region", "is_active"])]

    def __str__(self) -> str:
        return self.display_name or self.username
