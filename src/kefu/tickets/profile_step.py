"""The tickets' part of loading an industry profile: kinds, categories, SLA policies,
the escalation chain and the settings row — only what is missing (by code / name), so a
second run adds nothing and never overwrites what a manager changed — and, with
`--demo`, a year of demo tickets in every state."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.utils.translation import gettext as _

from kefu.tickets.models import EscalationRule, SlaPolicy, TicketCategory, TicketKind, TicketSettings
from kefu.tickets.profile_data import PROFILES, TicketProfile


def _kinds(spec: TicketProfile) -> tuple[dict[str, TicketKind], int]:
    kinds, created = {}, 0
    for order, k in enumerate(spec.kinds):
        kind, new = TicketKind.objects.get_or_create(
            code=k.code,
            defaults={
                "name": k.name,
                "prefix": k.prefix,
                "requires_customer": k.requires_customer,
                "requires_routing": k.requires_routing,
                "requires_confirmation": k.requires_confirmation,
                "allows_refund": k.allows_refund,
                "counts_against_staff": k.counts_against_staff,
                "fields": [dict(f) for f in k.fields],
                "sort_order": order * 10,
            },
        )
        kinds[k.code], created = kind, created + new
    return kinds, created


def _category(
    name: str, parent: TicketCategory | None, kind: TicketKind | None, order: int
) -> tuple[TicketCategory, bool]:
    existing = TicketCategory.objects.filter(parent=parent, name=name).first()
    if existing is not None:
        return existing, False
    path = f"{parent.path} › {name}" if parent else name
    return TicketCategory.objects.create(parent=parent, name=name, kind=kind, path=path, sort_order=order), True


def _categories(spec: TicketProfile, kinds: dict[str, TicketKind]) -> tuple[dict[str, TicketCategory], int]:
    by_name, created = {}, 0
    for kind_code, tree in spec.categories.items():
        kind = kinds.get(kind_code) if kind_code else None
        for order, (top, children) in enumerate(tree.items()):
            parent, new = _category(top, None, kind, order * 10)
            by_name[top], created = parent, created + new
            for child_order, child in enumerate(children):
                node, new = _category(child, parent, kind, child_order * 10)
                by_name.setdefault(child, node)
                created += new
    return by_name, created


def ticket_config_load(spec: TicketProfile) -> dict[str, int]:
    """Create what the profile declares and does not exist yet. Returns counts."""
    TicketSettings.objects.get_or_create(pk=1)
    kinds, kinds_created = _kinds(spec)
    categories, categories_created = _categories(spec, kinds)
    policies_created = 0
    for p in spec.policies:
        if SlaPolicy.objects.filter(name=p.name).exists():
            continue
        SlaPolicy.objects.create(
            name=p.name,
            kind=kinds.get(p.kind) if p.kind else None,
            severity=p.severity,
            category=categories.get(p.category) if p.category else None,
            response_minutes=p.response_minutes,
            resolve_minutes=p.resolve_minutes,
        )
        policies_created += 1
    rules_created = 0
    for level, role, after in spec.escalation:
        group = Group.objects.filter(name=role).first()
        if group is None or EscalationRule.objects.filter(level=level).exists():
            continue
        EscalationRule.objects.create(level=level, role=group, after_minutes=after)
        rules_created += 1
    return {
        "kinds": kinds_created,
        "categories": categories_created,
        "policies": policies_created,
        "rules": rules_created,
    }


def load_tickets_profile(profile, demo: bool, result) -> None:
    spec = PROFILES.get(profile.code)
    if spec is None:
        return
    created = ticket_config_load(spec)
    if any(created.values()):
        result.notes.append(
            _("工单：新增 %(kinds)d 个类型、%(categories)d 个分类、%(policies)d 条时限规则、%(rules)d 级升级规则。")
            % created
        )
    if demo:
        from kefu.tickets.demo import demo_tickets_load

        count = demo_tickets_load(profile.code)
        if count:
            result.notes.append(_("工单：已生成 %(count)d 张演示工单。") % {"count": count})
