"""The permissions of a role (a group). Only Kefu's own permissions are granted here,
and nobody adds permissions to a role they hold themselves."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record
from kefu.core.errors import NotFound
from kefu.core.roles import role_name
from kefu.core.selectors.org import kefu_app_labels
from kefu.core.services.org.common import own_access_refused, refuse, require_manager


def _dotted(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def role_set_permissions(*, actor, role_code: str, permissions: Iterable[str]) -> list[str]:
    """Replace the Kefu permissions of a role (dotted `app.codename`). Permissions of
    other apps are neither granted nor touched. Nobody adds permissions to a role they
    hold themselves. Audited with before/after."""
    require_manager(actor)
    group = Group.objects.filter(name=role_code).first()
    if group is None:
        raise NotFound(_("角色「%(code)s」不存在。") % {"code": role_code})
    labels = kefu_app_labels()
    wanted = set(permissions)
    malformed = sorted(p for p in wanted if "." not in p or p.split(".", 1)[0] not in labels)
    if malformed:
        raise refuse(
            _("只能授予本系统的权限：%(perms)s 无效。") % {"perms": "、".join(malformed)},
            "permissions",
            invalid=malformed,
        )
    found = list(
        Permission.objects.filter(content_type__app_label__in=labels)
        .select_related("content_type")
        .order_by("content_type__app_label", "codename")
    )
    by_dotted = {_dotted(p): p for p in found}
    unknown = sorted(wanted - by_dotted.keys())
    if unknown:
        raise refuse(_("未知权限：%(perms)s。") % {"perms": "、".join(unknown)}, "permissions", invalid=unknown)
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        current = list(group.permissions.filter(content_type__app_label__in=labels).select_related("content_type"))
        before = sorted(_dotted(p) for p in current)
        after = sorted(wanted)
        if before == after:
            return after
        added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
        if added and not actor.is_superuser and actor.groups.filter(pk=group.pk).exists():
            raise own_access_refused()
        group.permissions.remove(*[p for p in current if _dotted(p) in removed])
        group.permissions.add(*[by_dotted[p] for p in added])
        audit_record(
            code="role.permissions_changed",
            obj=group,
            actor=actor,
            object_repr=role_name(group.name),
            changes={"permissions": (before, after)},
            data={"added": added, "removed": removed},
        )
    return after
