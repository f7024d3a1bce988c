from kefu.core.models.approvals import (
    ApprovalPolicy,
    ApprovalPolicyStep,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
)
from kefu.core.models.audit import AuditEvent
from kefu.core.models.calendar import CalendarDay, CalendarYear, DayKind, DaySource, WorkingHours
from kefu.core.models.idempotency import IdempotencyRecord
from kefu.core.models.org import Department, DepartmentKind, Region, User
from kefu.core.models.site import SiteConfig
from kefu.core.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "ApprovalPolicy",
    "ApprovalPolicyStep",
    "ApprovalRequest",
    "ApprovalStatus",
    "ApprovalStep",
    "AuditEvent",
    "CalendarDay",
    "CalendarYear",
    "DayKind",
    "DaySource",
    "Department",
    "DepartmentKind",
    "IdempotencyRecord",
    "Region",
    "SiteConfig",
    "User",
    "WorkingHours",
]
