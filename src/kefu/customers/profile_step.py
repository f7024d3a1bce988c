"""The customer archive's part of loading an industry profile (`kefu init --profile X`).

Registered with `kefu.profiles.services.register_profile_step`; runs inside the profile
load's transaction. A system loader, not a user action: it creates the missing
configuration rows (by code/key, so a second run adds nothing and never renames or
reactivates what a manager has edited) and, with `--demo`, the demo customers."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.customers.demo import DEMO_COUNT, demo_customers_load
from kefu.customers.models import Tag
from kefu.customers.profile_data import ARCHIVE_PROFILES, ArchiveProfile
from kefu.customers.services.config import archive_settings_seed


def archive_config_load(spec: ArchiveProfile) -> dict[str, int]:
    """Create the profile's classes, grades, sources, categories, custom fields and
    tags that do not exist yet (by code/key, ignoring case, through the settings
    service, audited as the system). Returns how many of each were created."""
    created = archive_settings_seed(
        classes=spec.classes,
        grades=spec.grades,
        sources=spec.sources,
        categories=spec.categories,
        fields=spec.fields,
    )
    created["tags"] = 0
    for name in spec.tags:
        _tag, new = Tag.objects.get_or_create(name=name)
        created["tags"] += new
    return created


def load_customers_profile(profile, demo: bool, result) -> None:
    """Profile step: the archive configuration, and ≥ 200 demo customers with `demo`."""
    spec = ARCHIVE_PROFILES.get(profile.code)
    if spec is None:
        return
    created = archive_config_load(spec)
    if any(created.values()):
        result.notes.append(
            _("客户档案：新增 %(classes)d 个分类、%(grades)d 个信用等级、%(sources)d 个信息来源、") % created
            + _("%(categories)d 个产品类别、%(fields)d 个自定义字段、%(tags)d 个标签。") % created
        )
    if demo:
        count = demo_customers_load(profile.code, count=DEMO_COUNT)
        if count:
            result.notes.append(_("客户档案：已生成 %(count)d 个演示客户。") % {"count": count})
