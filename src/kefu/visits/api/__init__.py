"""The return-visits REST API (/api/v1/visits, /visit-rules, /questionnaires): the
call list and its statistics, one visit with its questionnaire, recording an outcome
(idempotent), rescheduling, bulk reassignment, planning by hand; the rules and
questionnaires, read by everyone who works visits and changed by whoever configures them.

Reads go through `kefu.visits.selectors` (scoped: an agent sees only their own visits,
supervisors and account managers their region's, managers all; out of sight is a 404),
writes through the visit services, which refuse with a `KefuError` that `kefu.api` turns
into JSON with a stable `code`. The customer's phone is masked unless the caller holds
`core.reveal_pii`."""

from kefu.visits.api import actions, config, config_edit, visits  # noqa: F401  (they register on the router)
from kefu.visits.api.router import router

__all__ = ["router"]
