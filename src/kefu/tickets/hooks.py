"""How the tickets app plugs into the rest at start-up: role grants, menu, approval
handlers, the profile step — and the hook later modules use to learn that a ticket
was resolved (return visits schedule the customer-confirmation call from it)."""

from __future__ import annotations

from collections.abc import Callable

ResolvedHook = Callable[[object, object], None]
_RESOLVED_HOOKS: list[ResolvedHook] = []


def register_resolved_hook(hook: ResolvedHook) -> None:
    """`hook(ticket, actor)` runs inside the transaction that resolves a ticket."""
    if hook not in _RESOLVED_HOOKS:
        _RESOLVED_HOOKS.append(hook)


def run_resolved_hooks(ticket, actor) -> None:
    for hook in _RESOLVED_HOOKS:
        hook(ticket, actor)


def register() -> None:
    from kefu.core import configcache
    from kefu.core.roles import register_role_permissions
    from kefu.core.services.approvals import register_approval_handler
    from kefu.profiles.services import register_profile_step
    from kefu.tickets import menu, nav
    from kefu.tickets.models import EscalationRule, SlaPolicy, TicketSettings
    from kefu.tickets.profile_step import load_tickets_profile
    from kefu.tickets.services import discipline, refunds

    register_role_permissions(menu.ROLE_GRANTS)
    configcache.watch(TicketSettings, SlaPolicy, EscalationRule)
    nav.register()
    register_profile_step(load_tickets_profile)
    register_approval_handler(
        "refund",
        on_approved=refunds.on_refund_approved,
        on_rejected=refunds.on_refund_rejected,
        on_cancelled=refunds.on_refund_cancelled,
    )
    register_approval_handler(
        "penalty",
        on_approved=discipline.on_penalty_approved,
        on_rejected=discipline.on_penalty_rejected,
        on_cancelled=discipline.on_penalty_cancelled,
    )
