from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "kefu.profiles"
    label = "profiles"
    verbose_name = _("行业模板")
