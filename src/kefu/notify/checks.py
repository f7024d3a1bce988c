"""System checks: a mistyped gateway path is reported by `kefu check` and at start-up,
not by the first message that fails to go out."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from kefu.notify.gateways import GATEWAY_SETTINGS, load_gateway


@checks.register()
def gateways_importable(app_configs=None, **kwargs):
    problems = []
    for channel, setting in GATEWAY_SETTINGS.items():
        try:
            load_gateway(channel)
        except ImproperlyConfigured as exc:
            problems.append(checks.Error(str(exc), hint=f"check the {setting} setting", id="notify.E001"))
    return problems
