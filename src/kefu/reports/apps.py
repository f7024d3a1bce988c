from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "kefu.reports"
    label = "reports"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        from kefu.reports import hooks

        hooks.register()
