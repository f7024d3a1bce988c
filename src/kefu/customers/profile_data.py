"""What each industry profile configures in the customer archive, from the seed documents.

Classes, credit grades, information sources (信息来源), product categories, tags and
profile custom fields, plus the local colour the demo generator needs (cities, area
codes, street names, organisation name parts). Everything is keyed by a stable code so
that loading a profile again, or a second profile on top, only adds what is missing.

Rows with the same code are shared between profiles (A/B/C, the credit grades, 展会 …):
the first profile loaded names them, later ones do not rename what people may have
edited. Codes differ where the wording differs (老客户介绍 vs 老客户转介绍)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.customers.choices import FieldType


@dataclass(frozen=True)
class ClassSpec:
    code: str
    name: str
    description: str
    visits_per_month: int


@dataclass(frozen=True)
class GradeSpec:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class SourceSpec:
    code: str
    name: str


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    field_type: str = FieldType.TEXT
    choices: tuple[str, ...] = ()
    applies_to: str = ""  # "" = persons and organisations, else a CustomerKind value


@dataclass(frozen=True)
class City:
    """A city the profile's customers live in: name, district codes (GB/T 2260, for
    resident ID numbers), its city-level code (valid for every birth year in
    python-stdnum's table, the fallback for older people), phone area code, districts."""

    name: str
    area_codes: tuple[str, ...]
    city_code: str
    phone_area: str
    districts: tuple[str, ...]


@dataclass(frozen=True)
class ArchiveProfile:
    """The archive configuration of one industry profile."""

    classes: tuple[ClassSpec, ...]
    grades: tuple[GradeSpec, ...]
    sources: tuple[SourceSpec, ...]
    categories: tuple[CategorySpec, ...]
    fields: tuple[FieldSpec, ...]
    tags: tuple[str, ...]
    # Demo data: region code → cities; the share of organisations; which regions hold
    # the organisations (empty = any region).
    cities: dict[str, tuple[City, ...]] = field(default_factory=dict)
    organisation_share: float = 0.0
    organisation_regions: tuple[str, ...] = ()
    points: bool = False


# Seed 002 (用户资料分类细则): A 每月最少跟踪一次, B 每月两次, C 最少三次 — C is the class
# the work was not done right for, so it is visited most. Seed 004's "备注abc类" for
# clinic patients is the same marking, so the clinic uses these classes too.
CLASSES = (
    ClassSpec("A", "A类", "重点管理用户：重大用户，资料齐全，有实质工作结果；区域经理为第一责任人", 1),
    ClassSpec("B", "B类", "资料齐全，工作完成，效果一般；努力使其上升为A类", 2),
    ClassSpec("C", "C类", "资料不全，工作未完成；加强后续服务，修复关系并适时升级为B类", 3),
)

# Seed 000: 用户信用调查、信用度评定、分级管理.
GRADES = (
    GradeSpec("AAA", "AAA", "信用极好：履约及时，长期合作无不良记录"),
    GradeSpec("AA", "AA", "信用优良：偶有延迟，能主动沟通解决"),
    GradeSpec("A", "A", "信用较好：基本按约履行"),
    GradeSpec("B", "B", "信用一般：有拖欠或违约记录，需关注"),
    GradeSpec("C", "C", "信用较差：多次拖欠或违约，交易前需审批"),
)

# Seed 004's tobacco customer-manager text grades retailers 伙伴型/合作型/一般型/潜在竞争型
# as a *dynamic evaluation* next to the A/B/C follow-up class; a customer has one class
# (which drives the visit cadence), so this second dimension is kept as tags.
RELATIONSHIP_TAGS = ("伙伴型", "合作型", "一般型", "潜在竞争型")

_XIAN = City(
    "西安",
    ("610113", "610112", "610103", "610104", "610102"),
    "610100",
    "029",
    ("雁塔区", "未央区", "碑林区", "莲湖区", "新城区"),
)
_BAOJI = City("宝鸡", ("610302", "610303"), "610300", "0917", ("渭滨区", "金台区"))
_LANZHOU = City("兰州", ("620102", "620103"), "620100", "0931", ("城关区", "七里河区"))
_XINING = City("西宁", ("630102",), "630100", "0971", ("城东区",))
_URUMQI = City("乌鲁木齐", ("650102", "650103"), "650100", "0991", ("天山区", "沙依巴克区"))
_BEIJING = City(
    "北京", ("110101", "110102", "110105", "110108"), "110100", "010", ("东城区", "西城区", "朝阳区", "海淀区")
)
_TIANJIN = City("天津", ("120101", "120103"), "120100", "022", ("和平区", "河西区"))
_SHIJIAZHUANG = City("石家庄", ("130102", "130104"), "130100", "0311", ("长安区", "桥西区"))
_HOHHOT = City("呼和浩特", ("150102",), "150100", "0471", ("新城区",))
_ZHENGZHOU = City("郑州", ("410102", "410105"), "410100", "0371", ("中原区", "金水区"))
_WUHAN = City("武汉", ("420102", "420106"), "420100", "027", ("江岸区", "武昌区"))
_CHANGSHA = City("长沙", ("430102", "430104"), "430100", "0731", ("芙蓉区", "岳麓区"))
_HANGZHOU_EAST = City("杭州", ("330102", "330104"), "330100", "0571", ("上城区", "江干区"))
_HANGZHOU_WEST = City("杭州", ("330106",), "330100", "0571", ("西湖区",))
_NANJING_1 = City("南京", ("320106", "320102"), "320100", "025", ("鼓楼区", "玄武区"))
_NANJING_2 = City("南京", ("320104",), "320100", "025", ("秦淮区",))
_SHANGHAI = City("上海", ("310101", "310104"), "310100", "021", ("黄浦区", "徐汇区"))
_GUANGZHOU = City("广州", ("440106", "440104"), "440100", "020", ("天河区", "越秀区"))
_CHENGDU = City("成都", ("510104", "510107", "510108"), "510100", "028", ("锦江区", "武侯区", "成华区"))
_LESHAN = City("乐山", ("511102",), "511100", "0833", ("市中区",))
_MIANYANG = City("绵阳", ("510703",), "510700", "0816", ("涪城区",))
_KUNMING = City("昆明", ("530102",), "530100", "0871", ("五华区",))
_GUIYANG = City("贵阳", ("520102",), "520100", "0851", ("南明区",))


HEALTH_CHECK = ArchiveProfile(
    classes=CLASSES,
    grades=GRADES,
    sources=(
        SourceSpec("group-check", "单位团检"),
        SourceSpec("self-booking", "个人预约"),
        SourceSpec("insurer", "保险公司"),
        SourceSpec("hospital-referral", "医院转介"),
    ),
    categories=(
        CategorySpec("check-employment", "入职体检"),
        CategorySpec("check-annual", "年度体检"),
        CategorySpec("check-premium", "高端套餐", "含肿瘤筛查、心脑血管专项"),
    ),
    fields=(
        FieldSpec("member_card_no", "会员卡号"),
        FieldSpec("employer", "工作单位", applies_to="person"),
    ),
    tags=("VIP", "复查提醒", "慢病关注", "团检联系人"),
    cities={
        "city-east": (_HANGZHOU_EAST,),
        "city-west": (_HANGZHOU_WEST,),
        "corporate": (_HANGZHOU_EAST, _HANGZHOU_WEST),
    },
    organisation_share=0.15,
    organisation_regions=("corporate",),
    points=True,
)

DECORATION = ArchiveProfile(
    classes=CLASSES,
    grades=GRADES,
    sources=(
        SourceSpec("old-customer-intro", "老客户介绍"),
        SourceSpec("community-promo", "小区推广"),
        SourceSpec("online", "网络"),
        SourceSpec("exhibition", "展会"),
        SourceSpec("deco-association", "装协推荐"),
    ),
    categories=(
        CategorySpec("deco-home", "家装"),
        CategorySpec("deco-commercial", "工装"),
        CategorySpec("deco-soft", "软装"),
    ),
    fields=(
        FieldSpec("contract_date", "合同日期", FieldType.DATE),
        FieldSpec("start_date", "开工日期", FieldType.DATE),
        FieldSpec("finish_date", "竣工日期", FieldType.DATE),
        FieldSpec("foreman", "工长"),
        FieldSpec("designer", "设计师"),
        FieldSpec("site_address", "工程地址"),
    ),
    tags=("在建工程", "已竣工", "保修期内", "有过投诉", "二次装修意向"),
    cities={"north": (_XIAN,), "south": (_XIAN,), "hq": (_XIAN,)},
    organisation_share=0.08,
)

MANUFACTURING = ArchiveProfile(
    classes=CLASSES,
    grades=GRADES,
    sources=(
        SourceSpec("tender", "招投标"),
        SourceSpec("agent", "代理商"),
        SourceSpec("old-customer", "老客户"),
        SourceSpec("exhibition", "展会"),
    ),
    # Seed 002 第五条: 一类信息 计重收费设备, 二类信息 超限设备, 三类 通常衡器产品.
    categories=(
        CategorySpec("class-1", "一类 计重收费设备", "高速公路计重收费系统、动态汽车衡"),
        CategorySpec("class-2", "二类 超限设备", "超限检测站称重设备、不停车预检系统"),
        CategorySpec("class-3", "三类 通常衡器", "汽车衡、轨道衡、台秤等通用衡器"),
    ),
    fields=(
        FieldSpec("equipment_model", "设备型号"),
        FieldSpec("install_date", "安装日期", FieldType.DATE),
        FieldSpec(
            "unit_nature",
            "使用单位性质",
            FieldType.CHOICE,
            choices=("政府机关", "事业单位", "国有企业", "民营企业", "个体工商户"),
        ),
    ),
    tags=("重大用户", "质保期内", "有更新需求", "潜在项目", "节日慰问"),
    cities={
        "northwest": (_XIAN, _BAOJI, _LANZHOU, _XINING, _URUMQI),
        "north": (_BEIJING, _TIANJIN, _SHIJIAZHUANG, _HOHHOT),
        "central": (_ZHENGZHOU, _WUHAN, _CHANGSHA),
    },
    organisation_share=0.85,
)

RETAIL = ArchiveProfile(
    classes=CLASSES,
    grades=GRADES,
    sources=(
        SourceSpec("store", "门店"),
        SourceSpec("online-mall", "线上商城"),
        SourceSpec("phone-order", "电话订购"),
        SourceSpec("member-referral", "会员推荐"),
    ),
    categories=(
        CategorySpec("retail-appliance", "家电"),
        CategorySpec("retail-apparel", "服装"),
        CategorySpec("retail-food", "食品"),
        CategorySpec("retail-card", "会员卡"),
    ),
    fields=(
        FieldSpec("member_level", "会员等级", FieldType.CHOICE, choices=("普通", "银卡", "金卡")),
        FieldSpec("member_card_no", "会员卡号"),
    ),
    tags=("大宗顾客", "送货上门", "有过投诉", "节日礼品"),
    cities={
        "store-1": (_NANJING_1,),
        "store-2": (_NANJING_2,),
        "online": (_NANJING_1, _SHANGHAI, _HANGZHOU_EAST, _GUANGZHOU, _BEIJING),
    },
    organisation_share=0.05,
    points=True,
)

CLINIC = ArchiveProfile(
    classes=CLASSES,
    grades=GRADES,
    sources=(
        SourceSpec("meituan-dianping", "美团/大众点评"),
        SourceSpec("friend-intro", "朋友介绍"),
        SourceSpec("douyin", "抖音"),
        SourceSpec("walk-in-consult", "到院咨询"),
        SourceSpec("old-customer-referral", "老客户转介绍"),
    ),
    categories=(
        CategorySpec("clinic-skin", "皮肤美容"),
        CategorySpec("clinic-injection", "注射微整"),
        CategorySpec("clinic-surgery", "手术整形"),
        CategorySpec("clinic-dental", "口腔"),
    ),
    fields=(
        FieldSpec("consultant", "咨询师"),
        FieldSpec("treatment_items", "治疗项目"),
        FieldSpec("hidden_needs", "隐性需求"),
    ),
    tags=(*RELATIONSHIP_TAGS, "术后回访", "二次开发", "VIP", "有过投诉"),
    cities={
        "local": (_CHENGDU,),
        "province": (_MIANYANG, _LESHAN),
        "other": (_XIAN, _KUNMING, _GUIYANG),
    },
    organisation_share=0.0,
    points=True,
)

ARCHIVE_PROFILES: dict[str, ArchiveProfile] = {
    "health_check": HEALTH_CHECK,
    "decoration": DECORATION,
    "manufacturing": MANUFACTURING,
    "retail": RETAIL,
    "clinic": CLINIC,
}
