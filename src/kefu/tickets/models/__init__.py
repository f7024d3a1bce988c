from kefu.tickets.models.archive import ArchiveJob
from kefu.tickets.models.attachment import Attachment
from kefu.tickets.models.config import (
    EscalationRule,
    SlaPolicy,
    TicketCategory,
    TicketKind,
    TicketNumberCounter,
    TicketSettings,
)
from kefu.tickets.models.money import Payout, PenaltyProposal, RefundRequest
from kefu.tickets.models.ticket import DeadlineExtension, Escalation, Ticket, TicketEvent, TicketRouting

__all__ = [
    "ArchiveJob",
    "Attachment",
    "DeadlineExtension",
    "Escalation",
    "EscalationRule",
    "Payout",
    "PenaltyProposal",
    "RefundRequest",
    "SlaPolicy",
    "Ticket",
    "TicketCategory",
    "TicketEvent",
    "TicketKind",
    "TicketNumberCounter",
    "TicketRouting",
    "TicketSettings",
]
