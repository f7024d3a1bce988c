"""Rows for the ticket configuration pages: only `tickets.manage_ticket_settings`
(客服部经理, 系统管理员) may open them or write through them."""

from django.urls import reverse

from tests.permissions.matrix import Row, roles

SETTINGS = roles("manager", "admin")


def _kind(w):
    from kefu.tickets.models import TicketKind

    return TicketKind.objects.get_or_create(code="matrix", defaults={"name": "矩阵类型", "prefix": "MX"})[0]


def _category(w):
    from kefu.tickets.models import TicketCategory

    return TicketCategory.objects.get_or_create(parent=None, name="矩阵分类", defaults={"path": "矩阵分类"})[0]


def _policy(w):
    from kefu.tickets.models import SlaPolicy

    return SlaPolicy.objects.get_or_create(name="矩阵规则", defaults={"response_minutes": 60, "resolve_minutes": 600})[
        0
    ]


def _rule(w):
    from django.contrib.auth.models import Group

    from kefu.tickets.models import EscalationRule

    group = Group.objects.get(name="supervisor")
    return EscalationRule.objects.get_or_create(level=1, defaults={"role": group, "after_minutes": 0})[0]


def _url(name, *args):
    return reverse(f"tickets:{name}", args=args)


def _edit(section, obj):
    return lambda w: _url("settings_edit", section, obj(w).pk)


ROWS = [
    # pages
    Row("tickets-settings", lambda w: _url("settings"), SETTINGS),
    Row("tickets-settings-general-page", lambda w: _url("settings_general"), SETTINGS),
    Row(
        "tickets-settings-preview",
        lambda w: _url("settings_preview") + "?response_minutes=60&resolve_minutes=600",
        SETTINGS,
    ),
    *(
        Row(f"tickets-settings-create-page-{section}", lambda w, s=section: _url("settings_create", s), SETTINGS)
        for section in ("kinds", "categories", "policies", "rules")
    ),
    Row("tickets-settings-edit-page-kinds", _edit("kinds", _kind), SETTINGS),
    Row("tickets-settings-edit-page-categories", _edit("categories", _category), SETTINGS),
    Row("tickets-settings-edit-page-policies", _edit("policies", _policy), SETTINGS),
    Row("tickets-settings-edit-page-rules", _edit("rules", _rule), SETTINGS),
    # writes
    Row(
        "tickets-settings-create-category",
        lambda w: _url("settings_create", "categories"),
        SETTINGS,
        method="post",
        data=lambda w: {"name": "矩阵新分类", "sort_order": 0},
    ),
    Row(
        "tickets-settings-edit-policy",
        _edit("policies", _policy),
        SETTINGS,
        method="post",
        data=lambda w: {"name": "矩阵规则", "response_minutes": 30, "resolve_minutes": 600},
    ),
    Row(
        "tickets-settings-general",
        lambda w: _url("settings_general"),
        SETTINGS,
        method="post",
        data=lambda w: {
            "failed_attempts_limit": 3,
            "warn_percent": 70,
            "complaints_per_month_limit": 3,
            "default_response_minutes": 240,
            "default_resolve_minutes": 1350,
            "slip_minutes": 900,
            "attachment_max_mb": 20,
        },
    ),
    Row(
        "tickets-settings-deactivate",
        lambda w: _url("settings_deactivate", "categories", _category(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
    Row(
        "tickets-settings-reactivate",
        lambda w: _url("settings_reactivate", "rules", _rule(w).pk),
        SETTINGS,
        method="post",
        data=lambda w: {},
    ),
]
