"""The notify module's menu entry and the role grants it needs."""

from django.utils.translation import gettext_lazy as _

from kefu.core.navigation import NavItem, register_nav
from kefu.core.roles import register_role_permissions

# The outbox shows recipients' addresses (masked without `core.reveal_pii`) and what
# was sent to them: for the service manager, and the admin who configures gateways.
ROLE_GRANTS = {"manager": ["notify.view_outbox"], "admin": ["notify.view_outbox"]}

_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    register_nav(NavItem("system", _("外发消息"), "notify:outbox", perm="notify.view_outbox", order=20))
    register_role_permissions(ROLE_GRANTS)
