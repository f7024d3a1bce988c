from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kefu.customers"
    label = "customers"
    verbose_name = _("客户档案")

    def ready(self) -> None:
        from kefu.customers import menu
        from kefu.customers.profile_step import load_customers_profile
        from kefu.profiles.services import register_profile_step

        menu.register()
        register_profile_step(load_customers_profile)
