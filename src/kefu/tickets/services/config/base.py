"""What the ticket configuration services share: the permission, the settings lock, and
(de)activation. The checks and the row lock every module's configuration shares are in
`kefu.core.services.config_rows`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from kefu.core import access
from kefu.core.services.config_rows import lock_row, save_row
from kefu.tickets.models import TicketSettings
from kefu.tickets.services.common import MANAGE_SETTINGS

MANAGE = MANAGE_SETTINGS
MAX_SORT_ORDER = 32767


def require_manager(actor) -> None:
    access.require(actor, MANAGE)


@contextmanager
def config_write(actor) -> Iterator[None]:
    """Permission, a transaction, and the settings row locked for it (see the module)."""
    require_manager(actor)
    with transaction.atomic():
        TicketSettings.objects.get_or_create(pk=1)
        TicketSettings.objects.select_for_update().get(pk=1)
        yield


def set_active(*, actor, obj, active: bool, audit: str, check=None):
    """(De)activate `obj`; `check(locked)` may refuse first, under the locks."""
    with config_write(actor):
        locked = lock_row(obj, None)
        if check is not None:
            check(locked)
        save_row(
            obj,
            locked,
            {"is_active": active},
            code=f"{audit}.{'reactivated' if active else 'deactivated'}",
            actor=actor,
        )
    return obj
