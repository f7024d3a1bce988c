"""Access control, one mechanism for selectors, HTML views and API endpoints alike.

A user may do `perm` on an object when
1. one of their roles (groups) grants the Django permission `perm`,
2. the object lies in their scope: its region is one of theirs, or its department is,
   or they own it — unless they see everything (`scope_all`, or superuser),
3. and, if an object rule is registered for `perm` in `OBJECT_RULES` (the `rules`
   library), that rule holds.

Selectors call `restrict(queryset, user, perm)`; views and endpoints call
`require(user, perm, obj)`. An object outside the scope is reported as not found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import rules
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core.errors import AccessDenied, NotFound

if TYPE_CHECKING:
    from kefu.core.models import User

# Object-level rules on top of role and scope, e.g. "may not approve own request".
OBJECT_RULES = rules.RuleSet()


@dataclass(frozen=True)
class ScopeFields:
    """Which lookups on a model say where a row belongs. A model without any is not
    scoped: a permission alone grants all of it. `reach(user)` adds rows reached another
    way (a ticket is also visible to the departments it was routed to)."""

    region: str | None = None
    department: str | None = None
    owner: str | None = None
    reach: Callable[[User], Q] | None = None

    @property
    def scoped(self) -> bool:
        return bool(self.region or self.department or self.owner or self.reach)


def sees_everything(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or getattr(user, "scope_all", False)))


def has_perm(user, perm: str) -> bool:
    """The role check alone (no object)."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def user_region_ids(user: User) -> set[int]:
    cache = getattr(user, "_kefu_region_ids", None)
    if cache is None:
        cache = set(user.scope_regions.values_list("pk", flat=True))
        if user.region_id:
            cache.add(user.region_id)
        user._kefu_region_ids = cache
    return cache


def user_department_ids(user: User) -> set[int]:
    cache = getattr(user, "_kefu_department_ids", None)
    if cache is None:
        cache = set(user.scope_departments.values_list("pk", flat=True))
        if user.department_id:
            cache.add(user.department_id)
        user._kefu_department_ids = cache
    return cache


def scope_q(user: User, fields: ScopeFields) -> Q:
    """The rows of a model with these scope fields that `user` may see."""
    if not fields.scoped or sees_everything(user):
        return Q()
    q = Q(pk__in=[])
    if fields.region:
        q |= Q(**{f"{fields.region}__in": user_region_ids(user)})
    if fields.department:
        q |= Q(**{f"{fields.department}__in": user_department_ids(user)})
    if fields.owner:
        q |= Q(**{fields.owner: user.pk})
    if fields.reach:
        q |= fields.reach(user)
    return q


def _scope_fields(model: type[Model]) -> ScopeFields:
    return getattr(model, "scope_fields", ScopeFields())


def restrict(queryset: QuerySet, user, perm: str) -> QuerySet:
    """`queryset` narrowed to what `user` may `perm`: nothing without the role."""
    if not has_perm(user, perm):
        return queryset.none()
    return queryset.filter(scope_q(user, _scope_fields(queryset.model)))


def _own_column(obj: Model, lookup: str | None):
    """The value of `lookup` read off the loaded row when it names one of its own columns
    (`region` → `region_id`, `pk`); None for a path through a relation."""
    if not lookup or "__" in lookup:
        return None
    if lookup == "pk":
        return obj.pk
    return getattr(obj, obj._meta.get_field(lookup).attname, None)


def _in_scope_by_own_columns(user, obj: Model, fields: ScopeFields) -> bool:
    """True when the row's own region, department or owner column puts it in `user`'s
    scope — decided without a query. False only means "ask the database" (a path through
    a relation, a `reach`)."""
    region = _own_column(obj, fields.region)
    if region is not None and region in user_region_ids(user):
        return True
    department = _own_column(obj, fields.department)
    if department is not None and department in user_department_ids(user):
        return True
    return _own_column(obj, fields.owner) == user.pk


def in_scope(user, obj: Model) -> bool:
    """Whether `obj`, as loaded, lies in `user`'s scope. Its own columns answer most
    checks (a ticket registered on a customer of the agent's region) without the EXISTS
    query, which is a fifth of a ticket create's time; the rest ask the database with the
    same rule `restrict` applies to lists."""
    fields = _scope_fields(type(obj))
    if not fields.scoped or sees_everything(user):
        return True
    if obj.pk is not None and _in_scope_by_own_columns(user, obj, fields):
        return True
    return type(obj)._default_manager.filter(scope_q(user, fields), pk=obj.pk).exists()


def can(user, perm: str, obj: Model | None = None) -> bool:
    if not has_perm(user, perm):
        return False
    if obj is None:
        return True
    if not in_scope(user, obj):
        return False
    if OBJECT_RULES.rule_exists(perm):
        return OBJECT_RULES.test_rule(perm, user, obj)
    return True


def require(user, perm: str, obj: Model | None = None) -> None:
    """Raise unless `user` may `perm` (on `obj`). Out of scope reads as not found, so the
    existence of a row is not revealed."""
    if not has_perm(user, perm):
        raise AccessDenied(_("您没有执行此操作的权限。"))
    if obj is None:
        return
    if not in_scope(user, obj):
        raise NotFound(_("对象不存在或不在您的可见范围内。"))
    if OBJECT_RULES.rule_exists(perm) and not OBJECT_RULES.test_rule(perm, user, obj):
        raise AccessDenied(_("您没有执行此操作的权限。"))
