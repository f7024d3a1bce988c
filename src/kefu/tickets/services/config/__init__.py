"""The ticket configuration a manager keeps (工单配置): kinds with their form fields and
flow options, the category tree, SLA policies, the escalation chain and the module's
settings row. Profiles seed them; these services change them. Rows are deactivated,
never deleted: tickets and their history point at them.

Concurrency: these models carry no `version`. An edit form sends back the row's
`updated_at` (`expected_updated_at`); a row saved in between is a 409, checked under
the row lock. Every write also queues on the settings row (`base.config_write`), because
some checks need the whole picture at once: two moves could otherwise close a cycle in
the category tree, two new top-level categories share a name (the unique constraint
does not cover a NULL parent), or two rule edits break the escalation order.

Modules: `base` (shared checks and locks), `kinds`, `categories`, `policies` (SLA
policies, escalation rules, settings). Import the services from here."""

from kefu.core.services.config_rows import MAX_MINUTES
from kefu.tickets.services.config.base import MANAGE
from kefu.tickets.services.config.categories import (
    PATH_SEP,
    category_tree_rows,
    ticket_category_create,
    ticket_category_set_active,
    ticket_category_update,
)
from kefu.tickets.services.config.kinds import (
    KIND_FLAGS,
    clean_kind_fields,
    kind_has_tickets,
    ticket_kind_create,
    ticket_kind_set_active,
    ticket_kind_update,
)
from kefu.tickets.services.config.policies import (
    MAX_ESCALATION_LEVEL,
    SETTINGS_FIELDS,
    escalation_rule_create,
    escalation_rule_set_active,
    escalation_rule_update,
    sla_policy_create,
    sla_policy_set_active,
    sla_policy_update,
    ticket_settings_update,
)

__all__ = [
    "KIND_FLAGS",
    "MANAGE",
    "MAX_ESCALATION_LEVEL",
    "MAX_MINUTES",
    "PATH_SEP",
    "SETTINGS_FIELDS",
    "category_tree_rows",
    "clean_kind_fields",
    "escalation_rule_create",
    "escalation_rule_set_active",
    "escalation_rule_update",
    "kind_has_tickets",
    "sla_policy_create",
    "sla_policy_set_active",
    "sla_policy_update",
    "ticket_category_create",
    "ticket_category_set_active",
    "ticket_category_update",
    "ticket_kind_create",
    "ticket_kind_set_active",
    "ticket_kind_update",
    "ticket_settings_update",
]
