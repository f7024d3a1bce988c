"""The roles of PRODUCT.md §1, seeded as groups with their default permissions. A
manager may change a role's permissions in the UI; `roles_seed` only adds what is
missing, so it is safe to re-run and never takes away what a manager granted."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

EVERYONE = [
    "core.view_department",
    "core.view_region",
    "core.view_user",
    "core.view_calendarday",
]


@dataclass(frozen=True)
class RoleDef:
    code: str
    name: str
    description: str
    permissions: list[str] = field(default_factory=list)
    # Whether new staff given this role see every region and department by default.
    scope_all: bool = False


ROLES: list[RoleDef] = [
    RoleDef(
        "manager",
        _("客服部经理"),
        _("部门内一切事务；制定标准、规则、时限与回访频次；考核员工；查看全部档案"),
        [
            *EVERYONE,
            "core.manage_organisation",
            "core.view_audit",
            "core.manage_calendar",
            "core.manage_approvals",
            "core.view_approvalrequest",
            "core.reveal_pii",
            "core.export_data",
        ],
        scope_all=True,
    ),
    RoleDef(
        "supervisor",
        _("主管"),
        _("管理班组队列；督办投诉；评定报表；查看本班组工作"),
        [*EVERYONE, "core.view_approvalrequest", "core.reveal_pii"],
    ),
    RoleDef("agent", _("客服专员"), _("登记工单、回访、维护档案；电话号码默认脱敏"), [*EVERYONE]),
    RoleDef(
        "account_manager",
        _("客户经理"),
        _("负责片区客户；填写拜访报告；执行 A/B/C 类跟踪"),
        [*EVERYONE, "core.reveal_pii"],
    ),
    RoleDef("quality_officer", _("质量管理员"), _("质量检查、异常记录、质量异常日报"), [*EVERYONE]),
    RoleDef(
        "archivist",
        _("档案管理员"),
        _("客户档案、信用等级、借阅登记与导出"),
        [*EVERYONE, "core.reveal_pii", "core.export_data"],
        scope_all=True,
    ),
    RoleDef(
        "department_staff",
        _("业务部门人员"),
        _("仅查看派给本部门的工单与告知单；记录处理过程与证据"),
        [*EVERYONE],
    ),
    RoleDef("finance", _("财务"), _("审批退款与补偿"), [*EVERYONE, "core.view_approvalrequest"]),
    RoleDef(
        "director",
        _("总经理"),
        _("审批退款、招待与处罚；查看全部报表"),
        [*EVERYONE, "core.view_audit", "core.view_approvalrequest", "core.reveal_pii", "core.export_data"],
        scope_all=True,
    ),
    RoleDef(
        "admin",
        _("系统管理员"),
        _("用户、角色与系统配置；默认不接触客户数据"),
        [*EVERYONE, "core.manage_organisation", "core.view_audit", "core.manage_calendar", "core.manage_approvals"],
    ),
]

ROLES_BY_CODE = {role.code: role for role in ROLES}

# Later modules add their permissions to roles here (module code → {role: [perms]}),
# through `register_role_permissions`, so that `roles_seed` grants them too.
_EXTRA: dict[str, list[str]] = {}


def register_role_permissions(grants: dict[str, list[str]]) -> None:
    for role, perms in grants.items():
        _EXTRA.setdefault(role, []).extend(perms)


def role_permissions(code: str) -> list[str]:
    return [*ROLES_BY_CODE[code].permissions, *_EXTRA.get(code, [])]


def role_name(code: str) -> str:
    role = ROLES_BY_CODE.get(code)
    return str(role.name) if role else code


def _permission_objects(dotted: list[str]) -> list[Permission]:
    wanted = {tuple(p.split(".", 1)) for p in dotted}
    found = Permission.objects.filter(content_type__app_label__in={a for a, _ in wanted}).select_related("content_type")
    by_key = {(p.content_type.app_label, p.codename): p for p in found}
    missing = wanted - by_key.keys()
    if missing:
        raise LookupError(f"unknown permissions: {sorted('.'.join(m) for m in missing)}")
    return [by_key[k] for k in wanted]


@transaction.atomic
def roles_seed() -> list[Group]:
    """Create the role groups and grant their default permissions (adds only)."""
    groups = []
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role.code)
        group.permissions.add(*_permission_objects(role_permissions(role.code)))
        groups.append(group)
    return groups
