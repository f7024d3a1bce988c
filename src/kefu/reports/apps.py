from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_rollups(sender, using="default", apps=None, **kwargs) -> None:
    """After every migrate (and every flush between transactional tests): the ticket
    counters in place for this TIME_ZONE, or installed and counted again."""
    from kefu.reports.rollup import maintain, schema

    registry = apps or sender.apps
    present = []
    for spec in schema.SPECS:
        try:
            model = registry.get_model("reports", spec.model)
        except LookupError:
            continue  # migrated back before these counters existed
        if not set(spec.key_names) <= {field.name for field in model._meta.get_fields()}:
            continue  # migrated back before a key column the triggers write (reports 0005)
        present.append(spec)
    maintain.ensure_installed(using=using, specs=present)


class ReportsConfig(AppConfig):
    name = "kefu.reports"
    label = "reports"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        from kefu.reports import hooks

        hooks.register()
        post_migrate.connect(_ensure_rollups, sender=self, dispatch_uid="kefu.reports.rollups")
