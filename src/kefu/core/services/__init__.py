"""Core write services, one module per area (org, calendar, approvals)."""
