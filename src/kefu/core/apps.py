from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("组织与基础")

    def ready(self) -> None:
        from kefu.core import configcache, menu
        from kefu.core.models import CalendarDay, CalendarYear, WorkingHours

        menu.register()
        configcache.watch(WorkingHours, CalendarDay, CalendarYear)
