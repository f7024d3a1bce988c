"""The tickets REST API (/api/v1/tickets…): create, list, read, update, one POST per
transition, history, slips, comments, attachments, refunds and penalties.

Reads go through `kefu.tickets.selectors` (scoped: a ticket out of sight is a 404),
writes through the ticket services, which refuse with a `KefuError` that `kefu.api`
turns into JSON with a stable `code`. Phone numbers are masked unless the caller holds
`core.reveal_pii`."""

from kefu.tickets.api import actions, records, tickets, workflow  # noqa: F401  (they register on the router)
from kefu.tickets.api.router import router

__all__ = ["router"]
