"""What a manager configures for return visits (回访配置): the rules that plan visits,
the questionnaires they ask, and one-off campaign lists. Import the services from here.

Modules: `rules` (create, edit, pause, resume), `questionnaires` (create, retire; new
versions through `kefu.visits.questionnaires.questionnaire_publish`), `campaigns` (a
filtered archive list turned into visits with one INSERT … SELECT).

Concurrency: rules carry no `version`; an edit form sends back the row's `updated_at`
(`expected_updated_at`) and a row saved in between is a 409, checked under the row lock
(the same helpers as the ticket configuration)."""

from kefu.visits.services.config.campaigns import (
    ADD_CAMPAIGN,
    MAX_CUSTOMERS,
    CampaignPreview,
    campaign_create,
    campaign_customers,
    campaign_preview,
    clean_campaign_filters,
    filters_as_params,
)
from kefu.visits.services.config.questionnaires import (
    questionnaire_create,
    questionnaire_publish,
    questionnaire_set_active,
)
from kefu.visits.services.config.rules import (
    MANAGE,
    MAX_OFFSET_DAYS,
    MAX_OFFSETS,
    RULE_FIELDS,
    clean_offsets,
    date_field_choices,
    visit_rule_create,
    visit_rule_pause,
    visit_rule_resume,
    visit_rule_update,
)

__all__ = [
    "ADD_CAMPAIGN",
    "MANAGE",
    "MAX_CUSTOMERS",
    "MAX_OFFSETS",
    "MAX_OFFSET_DAYS",
    "RULE_FIELDS",
    "CampaignPreview",
    "campaign_create",
    "campaign_customers",
    "campaign_preview",
    "clean_campaign_filters",
    "clean_offsets",
    "date_field_choices",
    "filters_as_params",
    "questionnaire_create",
    "questionnaire_publish",
    "questionnaire_set_active",
    "visit_rule_create",
    "visit_rule_pause",
    "visit_rule_resume",
    "visit_rule_update",
]
