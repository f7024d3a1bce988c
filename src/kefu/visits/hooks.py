"""How return visits plug in at start-up: role grants, and the ticket-resolved hook that
plans the customer-confirmation visit."""

ROLE_GRANTS = {
    "manager": [
        "visits.view_visit",
        "visits.view_region_visits",
        "visits.record_visit",
        "visits.reassign_visit",
        "visits.export_visit",
        "visits.add_visit",
        "visits.manage_visit_settings",
        "visits.view_visitrule",
        "visits.add_campaign",
    ],
    "supervisor": [
        "visits.view_visit",
        "visits.view_region_visits",
        "visits.record_visit",
        "visits.reassign_visit",
        "visits.export_visit",
        "visits.add_visit",
        "visits.view_visitrule",
        "visits.add_campaign",
    ],
    "agent": ["visits.view_visit", "visits.record_visit", "visits.add_visit"],
    "account_manager": ["visits.view_visit", "visits.view_region_visits", "visits.record_visit", "visits.add_visit"],
    "quality_officer": ["visits.view_visit", "visits.view_region_visits"],
    "director": ["visits.view_visit", "visits.view_region_visits", "visits.export_visit", "visits.view_visitrule"],
    "admin": ["visits.manage_visit_settings"],
}


def register() -> None:
    from kefu.core.roles import register_role_permissions
    from kefu.profiles.services import register_profile_step
    from kefu.tickets.hooks import register_resolved_hook
    from kefu.visits import nav
    from kefu.visits.profile_step import load_visits_profile
    from kefu.visits.services.events import plan_ticket_confirmation

    register_role_permissions(ROLE_GRANTS)
    nav.register()
    register_profile_step(load_visits_profile)
    register_resolved_hook(plan_ticket_confirmation)
