"""Loading an industry profile: `kefu init --profile NAME [--demo]`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import transaction

from kefu.core.audit import audit_record
from kefu.core.errors import ValidationFailed
from kefu.core.models import Department, Region, SiteConfig, User
from kefu.core.roles import ROLES_BY_CODE, roles_seed
from kefu.profiles.definitions import DEMO_PASSWORD, PROFILES, Profile


@dataclass
class LoadResult:
    profile: Profile
    departments_created: int = 0
    regions_created: int = 0
    staff_created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# Later modules add what they configure for a profile: fn(profile, demo, result).
# They run in registration order, inside the same transaction as the rest.
_STEPS: list[Callable[[Profile, bool, LoadResult], None]] = []


def register_profile_step(step: Callable[[Profile, bool, LoadResult], None]) -> None:
    if step not in _STEPS:
        _STEPS.append(step)


def _load_organisation(profile: Profile, result: LoadResult) -> dict[str, Department]:
    departments = {}
    for order, spec in enumerate(profile.departments):
        dept, created = Department.objects.get_or_create(
            code=spec.code, defaults={"name": spec.name, "kind": spec.kind, "sort_order": order * 10}
        )
        departments[spec.code] = dept
        result.departments_created += created
    for order, (code, name) in enumerate(profile.regions):
        _region, created = Region.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order * 10})
        result.regions_created += created
    return departments


def _load_demo_staff(profile: Profile, result: LoadResult) -> None:
    groups = {g.name: g for g in Group.objects.all()}
    regions = {r.code: r for r in Region.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    for spec in profile.demo_staff:
        if User.objects.filter(username=spec.username).exists():
            continue  # never reset a demo user someone has been working with
        user = User(
            username=spec.username,
            display_name=spec.display_name,
            title=spec.title,
            department=departments.get(spec.department) if spec.department else None,
            region=regions.get(spec.region) if spec.region else None,
            scope_all=any(ROLES_BY_CODE[r].scope_all for r in spec.roles),
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.add(*[groups[r] for r in spec.roles])
        if spec.scope_regions:
            user.scope_regions.add(*[regions[c] for c in spec.scope_regions])
        result.staff_created.append(spec.username)


def _load_policies(result: LoadResult) -> None:
    from django.utils import timezone

    from kefu.core.services.approvals import approval_policies_seed
    from kefu.core.services.calendar import calendar_seed
    from kefu.core.workcal import missing_years

    calendar_seed(missing_only=True)
    this_year = timezone.localdate().year
    if missing := missing_years([this_year, this_year + 1]):
        years = "、".join(str(y) for y in missing)
        result.notes.append(f"chinese-calendar 暂无 {years} 年的节假日数据：请在「工作日历」中补充或确认。")
    approval_policies_seed()


def profile_load(*, code: str, demo: bool = False, actor=None) -> LoadResult:
    """Set up (or extend) the installation with profile `code`. Safe to run again:
    existing departments, regions and users are kept as they are."""
    profile = PROFILES.get(code)
    if profile is None:
        raise ValidationFailed(f"未知的行业模板：{code}（可选：{', '.join(PROFILES)}）", details={"field": "profile"})
    result = LoadResult(profile=profile)
    with transaction.atomic():
        roles_seed()
        _load_organisation(profile, result)
        _load_policies(result)
        if demo:
            _load_demo_staff(profile, result)
        for step in _STEPS:
            step(profile, demo, result)
        config = SiteConfig.objects.select_for_update().order_by("pk").first() or SiteConfig()
        config.company_name = config.company_name or profile.company_name
        config.profile = profile.code
        if profile.code not in config.profiles_loaded:
            config.profiles_loaded = [*config.profiles_loaded, profile.code]
        config.version = (config.version or 0) + (1 if config.pk else 0)
        config.save()
        audit_record(
            code="profile.loaded",
            obj=config,
            actor=actor,
            data={
                "profile": profile.code,
                "demo": demo,
                "departments_created": result.departments_created,
                "regions_created": result.regions_created,
                "staff_created": result.staff_created,
            },
        )
    return result


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, name, roles) of the demo users present, for `make run` to print."""
    profile_users = {s.username for p in PROFILES.values() for s in p.demo_staff}
    users = User.objects.filter(username__in=profile_users, is_active=True).prefetch_related("groups")
    return [
        (u.username, u.display_name, "、".join(str(ROLES_BY_CODE[g.name].name) for g in u.groups.all()))
        for u in users.order_by("pk")
    ]


__all__ = ["DEMO_PASSWORD", "LoadResult", "demo_logins", "profile_load", "register_profile_step"]
