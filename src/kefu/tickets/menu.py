"""Tickets' role grants (PRODUCT.md §1)."""

BASE = ["tickets.view_ticket", "tickets.view_region_tickets", "tickets.add_ticket", "tickets.change_ticket"]

ROLE_GRANTS = {
    "manager": [
        *BASE,
        "tickets.route_ticket",
        "tickets.handle_ticket",
        "tickets.resolve_ticket",
        "tickets.confirm_ticket",
        "tickets.supervise_ticket",
        "tickets.export_ticket",
        "tickets.mark_important",
        "tickets.request_refund",
        "tickets.manage_ticket_settings",
        "tickets.view_penaltyproposal",
        "tickets.add_penaltyproposal",
    ],
    "supervisor": [
        *BASE,
        "tickets.route_ticket",
        "tickets.handle_ticket",
        "tickets.resolve_ticket",
        "tickets.confirm_ticket",
        "tickets.supervise_ticket",
        "tickets.export_ticket",
        "tickets.mark_important",
        "tickets.request_refund",
        "tickets.add_penaltyproposal",
    ],
    "agent": [
        *BASE,
        "tickets.route_ticket",
        "tickets.resolve_ticket",
        "tickets.confirm_ticket",
        "tickets.request_refund",
    ],
    "account_manager": [*BASE, "tickets.confirm_ticket"],
    # Department staff see only what was routed to their department (the scope does
    # that), and work its slips.
    "department_staff": ["tickets.view_ticket", "tickets.handle_ticket"],
    "quality_officer": ["tickets.view_ticket", "tickets.view_region_tickets"],
    "director": [
        "tickets.view_ticket",
        "tickets.view_region_tickets",
        "tickets.export_ticket",
        "tickets.supervise_ticket",
        "tickets.view_penaltyproposal",
    ],
    "admin": ["tickets.manage_ticket_settings"],
}
