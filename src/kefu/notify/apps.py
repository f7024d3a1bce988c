from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "kefu.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        from kefu.notify import checks, menu  # noqa: F401 (checks registers on import)

        menu.register()
