"""The five industry profiles, from the five seed documents."""

from __future__ import annotations

from dataclasses import dataclass, field

SERVICE = "service"
OTHER = "other"

# One demo password for every demo login; printed by `make run`. Demo data only.
DEMO_PASSWORD = "kefu-demo-2026"


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    kind: str = OTHER


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None = None
    region: str | None = None
    title: str = ""
    scope_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    company_name: str
    departments: tuple[DepartmentSpec, ...]
    regions: tuple[tuple[str, str], ...]
    demo_staff: tuple[StaffSpec, ...] = field(default=())


def _staff(service: str, worker_dept: str, regions: tuple[str, ...], titles: dict[str, str]) -> tuple[StaffSpec, ...]:
    """The demo login of each role of PRODUCT.md §1, placed in this profile's units."""
    first, second = regions[0], regions[1 % len(regions)]
    return (
        StaffSpec("manager", "王经理", ("manager",), service, None, titles.get("manager", "客服部经理")),
        StaffSpec("supervisor", "李主管", ("supervisor",), service, first, titles.get("supervisor", "客服主管")),
        StaffSpec("agent", "张晓燕", ("agent",), service, first, titles.get("agent", "客服专员")),
        StaffSpec("agent2", "陈静", ("agent",), service, second, titles.get("agent", "客服专员")),
        StaffSpec(
            "account",
            "刘客户经理",
            ("account_manager",),
            service,
            first,
            titles.get("account_manager", "客户经理"),
            scope_regions=(first,),
        ),
        StaffSpec("quality", "赵质检", ("quality_officer",), service, None, "质量管理员"),
        StaffSpec("archivist", "孙档案", ("archivist",), service, None, "档案管理员"),
        StaffSpec("dept", "周工", ("department_staff",), worker_dept, None, titles.get("department_staff", "部门专员")),
        StaffSpec("finance", "吴会计", ("finance",), "finance", None, "财务"),
        StaffSpec("director", "郑总", ("director",), None, None, titles.get("director", "总经理")),
        StaffSpec("admin", "系统管理员", ("admin",), None, None, "系统管理员"),
    )


HEALTH_CHECK = Profile(
    code="health_check",
    name="体检中心",
    company_name="康宁健康体检中心",
    departments=(
        DepartmentSpec("service", "用户服务部", SERVICE),
        DepartmentSpec("front-desk", "前台接待", SERVICE),
        DepartmentSpec("retention", "用户维系中心", SERVICE),
        DepartmentSpec("internal-med", "内科"),
        DepartmentSpec("surgery", "外科"),
        DepartmentSpec("lab", "检验科"),
        DepartmentSpec("imaging", "影像科"),
        DepartmentSpec("ultrasound", "超声科"),
        DepartmentSpec("report", "报告中心"),
        DepartmentSpec("finance", "财务部"),
    ),
    regions=(("city-east", "城东片区"), ("city-west", "城西片区"), ("corporate", "团体客户")),
    demo_staff=_staff(
        "service", "lab", ("city-east", "city-west"), {"manager": "用户维系中心经理", "supervisor": "前台接待主管"}
    ),
)

DECORATION = Profile(
    code="decoration",
    name="装饰公司",
    company_name="华美装饰工程有限公司",
    departments=(
        DepartmentSpec("service", "客服部", SERVICE),
        DepartmentSpec("design", "设计部"),
        DepartmentSpec("engineering", "工程部"),
        DepartmentSpec("repair", "维修部"),
        DepartmentSpec("material", "材料部"),
        DepartmentSpec("marketing", "市场部"),
        DepartmentSpec("finance", "财务部"),
    ),
    regions=(("north", "城北分公司"), ("south", "城南分公司"), ("hq", "集团总部")),
    demo_staff=_staff(
        "service",
        "engineering",
        ("north", "south"),
        {"manager": "客服部经理", "supervisor": "客服主管", "agent": "客服专员", "department_staff": "工程监理"},
    ),
)

MANUFACTURING = Profile(
    code="manufacturing",
    name="衡器企业",
    company_name="四维衡器有限公司",
    departments=(
        DepartmentSpec("service", "客服部", SERVICE),
        DepartmentSpec("sales", "销售部"),
        DepartmentSpec("tech", "技术部"),
        DepartmentSpec("after-sales", "售后服务部"),
        DepartmentSpec("production", "生产部"),
        DepartmentSpec("finance", "财务部"),
    ),
    regions=(("northwest", "西北区"), ("north", "华北区"), ("central", "华中区")),
    demo_staff=_staff(
        "service",
        "after-sales",
        ("northwest", "north"),
        {"account_manager": "区域经理", "department_staff": "售后工程师"},
    ),
)

RETAIL = Profile(
    code="retail",
    name="商场 / 零售集团",
    company_name="新世纪商贸集团",
    departments=(
        DepartmentSpec("service", "客服部", SERVICE),
        DepartmentSpec("call-center", "呼叫中心", SERVICE),
        DepartmentSpec("sales", "销售部"),
        DepartmentSpec("logistics", "物流配送部"),
        DepartmentSpec("membership", "会员中心"),
        DepartmentSpec("finance", "财务部"),
    ),
    regions=(("store-1", "一号店"), ("store-2", "二号店"), ("online", "线上商城")),
    demo_staff=_staff("service", "logistics", ("store-1", "store-2"), {"supervisor": "客服部主管", "agent": "话务员"}),
)

CLINIC = Profile(
    code="clinic",
    name="医院 / 医美机构",
    company_name="美莱医疗美容医院",
    departments=(
        DepartmentSpec("service", "客服部", SERVICE),
        DepartmentSpec("consulting", "现场咨询"),
        DepartmentSpec("medical", "医务部"),
        DepartmentSpec("nursing", "护理部"),
        DepartmentSpec("marketing", "市场部"),
        DepartmentSpec("finance", "财务部"),
    ),
    regions=(("local", "本市"), ("province", "省内"), ("other", "省外")),
    demo_staff=_staff(
        "service",
        "consulting",
        ("local", "province"),
        {"manager": "客服中心经理", "agent": "回访专员", "department_staff": "现场咨询师", "director": "院长"},
    ),
)

PROFILES: dict[str, Profile] = {p.code: p for p in (HEALTH_CHECK, DECORATION, MANUFACTURING, RETAIL, CLINIC)}
DEFAULT_PROFILE = "decoration"
