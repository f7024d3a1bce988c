"""The installation itself: which company, which industry profile."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models.base import VersionedModel


class SiteConfig(VersionedModel):
    """One row: the company name printed on slips and reports, and the industry profile
    loaded last by `kefu init`."""

    company_name = models.CharField(_("公司名称"), max_length=120, default="")
    profile = models.CharField(_("行业模板"), max_length=40, blank=True)
    profiles_loaded = models.JSONField(_("已加载模板"), default=list, blank=True)

    class Meta:
        verbose_name = _("系统设置")
        verbose_name_plural = _("系统设置")

    def __str__(self) -> str:
        return self.company_name or "Kefu"

    @classmethod
    def current(cls) -> "SiteConfig":
        config = cls.objects.order_by("pk").first()
        return config if config is not None else cls(company_name="", profile="")
