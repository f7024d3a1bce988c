"""Realistic demo customers for an industry profile (`kefu init --profile X --demo`).

`generate_customers` is a deterministic, database-free generator (fixed seed): Chinese
person names with the polyphonic surnames the search demo needs (单 曾 解 仇 区),
organisations with valid unified social credit codes, valid resident ID numbers, unique
mobile numbers, the profile's regions, classes, grades, sources, categories, tags,
custom-field values and points. `demo_customers_load` writes them in a handful of bulk
queries; the benchmark in `bench/` reuses the generator for a million rows."""

from __future__ import annotations

import datetime
import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc

from kefu.customers.choices import ConsentChannel, CustomerKind, Lifecycle
from kefu.customers.numbering import take_archive_numbers
from kefu.customers.pinyin import name_initials
from kefu.customers.profile_data import ARCHIVE_PROFILES, ArchiveProfile, City
from kefu.customers.search import build_search_text
from kefu.customers.validation import phone_digits

DEMO_COUNT = 200
# Marks the creation entry of every demo customer on the timeline, per profile: what
# makes a second `kefu init --demo` of the same profile add nothing.
DEMO_MARKER = "demo_profile"

# Weighted common surnames (about the real order of frequency), the polyphonic ones the
# search has to find by every reading, and a few two-character surnames.
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 72), ("李", 70), ("张", 66), ("刘", 53), ("陈", 45), ("杨", 31), ("黄", 24), ("赵", 22), ("吴", 20),
    ("周", 20), ("徐", 16), ("孙", 15), ("马", 15), ("朱", 14), ("胡", 13), ("郭", 12), ("何", 12), ("高", 11),
    ("林", 11), ("罗", 10), ("郑", 10), ("梁", 9), ("谢", 8), ("宋", 8), ("唐", 8), ("许", 7), ("韩", 7), ("冯", 7),
    ("邓", 7), ("曹", 7), ("彭", 6), ("肖", 6), ("田", 6), ("董", 6), ("袁", 5), ("潘", 5), ("于", 5), ("蒋", 5),
    ("蔡", 5), ("余", 5), ("杜", 5), ("叶", 5), ("程", 5), ("苏", 4), ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4),
    ("沈", 4), ("姚", 4), ("卢", 4), ("姜", 4), ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3),
    ("金", 3), ("石", 3), ("廖", 3), ("贾", 3), ("夏", 3), ("韦", 3), ("方", 3), ("白", 3), ("邹", 3), ("孟", 3),
    ("熊", 3), ("秦", 3), ("邱", 3), ("江", 3), ("尹", 2), ("薛", 2), ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2),
    ("史", 2), ("陶", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2),
    ("曾", 8), ("单", 6), ("解", 6), ("仇", 5), ("区", 5), ("欧阳", 2), ("司马", 1), ("上官", 1), ("诸葛", 1),
)  # fmt: skip
MALE_GIVEN = (
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇",
    "浩", "建国", "建军", "志强", "志明", "国强", "国华", "海波", "海涛", "晓东", "晓明", "文博", "俊杰", "子轩",
    "浩然", "宇航", "天佑", "建平", "永刚", "卫东", "红军", "立新", "振华", "德明", "家豪", "思远", "嘉伟", "世杰",
)  # fmt: skip
FEMALE_GIVEN = (
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "颖", "琳", "洁", "秀英", "桂英",
    "秀兰", "玉兰", "丽娟", "海燕", "晓燕", "晓梅", "小红", "雅琴", "美玲", "梦琪", "雨涵", "欣怡", "诗涵", "思琪",
    "佳怡", "紫涵", "淑华", "春梅", "红梅", "丹丹", "婉清", "雅婷", "晓雯", "文静", "彩霞", "凤英", "月华",
)  # fmt: skip
# The first few demo customers of every profile, so that the search demo has something
# to find by each reading of a polyphonic surname (`zs`, `sdf`/`ddf`, `zgq`/`cgq` …).
ANCHOR_NAMES = (
    ("张三", "男"),
    ("单丽娟", "女"),
    ("曾国强", "男"),
    ("解晓梅", "女"),
    ("仇建平", "男"),
    ("区志强", "男"),
)

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157",
    "158", "159", "166", "170", "173", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "191", "198", "199",
)  # fmt: skip
# A bijection on 8-digit numbers (the multiplier is coprime with 10**8): the n-th mobile
# number generated gets a distinct suffix, whatever prefix it draws, so numbers never repeat.
_PHONE_MULTIPLIER = 7_654_321
_PHONE_SPACE = 100_000_000
_PROFILE_SLOTS = ("decoration", "health_check", "manufacturing", "retail", "clinic")
_SLOT_SIZE = 18_000_000  # numbers per profile: more than any benchmark generates

STREETS = (
    "人民路", "解放路", "建设路", "和平路", "中山路", "长安路", "文化路", "朝阳路", "幸福路", "新华路", "光明路",
    "胜利路", "友谊路", "青年路", "科技路", "高新路", "东风路", "南环路", "北大街", "西大街", "工业园路", "滨河路",
)  # fmt: skip
COMMUNITIES = (
    "锦绣华庭", "阳光花园", "翠竹苑", "金色家园", "御景湾", "中央公园", "紫薇花园", "枫林绿洲", "曲江公馆",
    "绿地世纪城", "万科城", "保利香槟国际", "龙湖天街", "融创东方宸院", "华润二十四城", "碧桂园", "怡景湾",
)  # fmt: skip
BRAND_WORDS = (
    "恒通", "华鑫", "宏达", "永盛", "瑞丰", "金泰", "信诚", "鼎盛", "华信", "安泰", "天成", "润达", "中联",
    "东方", "长城", "新世纪", "远大", "恒瑞", "泰和", "启明", "聚源", "顺达", "众诚", "嘉禾", "汇丰源",
)  # fmt: skip
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class DemoContact:
    name: str
    role: str
    phone: str
    wechat: str = ""
    email: str = ""
    is_primary: bool = False


@dataclass
class DemoCustomer:
    """One generated customer, independent of any database row."""

    kind: str
    name: str
    region_code: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    contacts: list[DemoContact]
    id_number: str = ""
    gender: str = ""
    birthday: datetime.date | None = None
    address: str = ""
    owner_username: str | None = None
    class_code: str | None = None
    grade_code: str | None = None
    source_code: str | None = None
    category_codes: list[str] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    is_key_account: bool = False
    lifecycle: str = Lifecycle.ACTIVE
    marketing_consent: bool = False
    consent_channel: str = ""
    points: int = 0
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # (days after creation, title) of follow-up entries for the timeline.
    followups: list[tuple[int, str]] = field(default_factory=list)

    @property
    def phones(self) -> list[str]:
        return [c.phone for c in self.contacts if c.phone]


# --- identifiers -------------------------------------------------------------------


def resident_id(*, area_codes: Sequence[str], birthday: datetime.date, male: bool, seq: int) -> str:
    """A valid 18-digit resident ID number. python-stdnum only knows a district code
    from the year it was introduced, so older people fall back to the city's code."""
    order = (seq % 500) * 2 + (1 if male else 0)  # the 17th digit is odd for men
    for area in area_codes:
        body = f"{area}{birthday:%Y%m%d}{order:03d}"
        number = body + ric.calc_check_digit(body + "0")
        try:
            if ric.is_valid(number):
                return number
        except (KeyError, ValueError):  # python-stdnum 2.2 raises on some retired district codes
            continue
    raise ValueError(f"no valid area code among {area_codes} for {birthday}")


def _org_code(rng: random.Random, *, modern: bool) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    if modern:  # codes given since 2015 begin with MA
        body = "MA" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(6))
    else:
        body = f"{rng.randint(10_000_000, 99_999_999)}"
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, *, area: str, authority_type: str) -> str:
    """A valid unified social credit code: authority+type ("91" company, "11" 机关,
    "12" 事业单位), the registration area, the organisation code and the check character."""
    body = f"{authority_type}{area}{_org_code(rng, modern=authority_type == '91')}"
    return body + uscc.calc_check_digit(body)


def mobile_number(rng: random.Random, index: int) -> str:
    """The `index`-th demo mobile number: distinct indexes give distinct 8-digit suffixes
    (two affine bijections modulo 10**8 around a digit reversal, so that neighbours do
    not look alike), whatever prefix is drawn."""
    first = f"{(index * _PHONE_MULTIPLIER + 13_579_113) % _PHONE_SPACE:08d}"[::-1]
    suffix = (int(first) * 1_234_567 + 24_681_357) % _PHONE_SPACE
    return f"{rng.choice(MOBILE_PREFIXES)}{suffix:08d}"


# --- the generator -----------------------------------------------------------------


class _Names:
    """Person names: a weighted surname and a given name matching the gender."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = [s for s, _w in SURNAMES]
        self.weights = [w for _s, w in SURNAMES]

    def person(self, gender: str | None = None) -> tuple[str, str]:
        gender = gender or self.rng.choice(("男", "女"))
        surname = self.rng.choices(self.surnames, self.weights)[0]
        given = self.rng.choice(MALE_GIVEN if gender == "男" else FEMALE_GIVEN)
        return surname + given, gender


def _profile_slot(code: str) -> int:
    return _PROFILE_SLOTS.index(code) if code in _PROFILE_SLOTS else len(_PROFILE_SLOTS)


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _w in weighted], [w for _v, w in weighted])[0]


class _Generator:
    """The state of one run: the random stream, the number ranges already used."""

    def __init__(self, code: str, spec: ArchiveProfile, regions: Sequence[str], owners, seed: int, today):
        self.code, self.spec, self.regions, self.owners = code, spec, list(regions), owners or {}
        self.rng = random.Random(zlib.crc32(f"{code}:{seed}".encode()))
        self.names = _Names(self.rng)
        self.today = today
        self.now = timezone.now()
        self.phone_index = _profile_slot(code) * _SLOT_SIZE
        self.ids: set[str] = set()
        self.card_no = 0
        self.org_names: set[str] = set()
        self.unique = True

    # small helpers
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def phone(self) -> str:
        self.phone_index += 1
        return mobile_number(self.rng, self.phone_index)

    def city(self, region: str) -> City:
        return self.rng.choice(self.spec.cities.get(region) or next(iter(self.spec.cities.values())))

    def street_address(self, city: City) -> str:
        return f"{city.name}市{self.rng.choice(city.districts)}{self.rng.choice(STREETS)}{self.rng.randint(1, 399)}号"

    def home_address(self, city: City) -> str:
        return (
            f"{city.name}市{self.rng.choice(city.districts)}{self.rng.choice(COMMUNITIES)}"
            f"{self.rng.randint(1, 32)}栋{self.rng.randint(1, 4)}单元{self.rng.randint(1, 33)}{self.rng.randint(1, 4):02d}室"
        )

    def wechat(self) -> str:
        letters = "abcdefghjkmnpqrstuvwxyz"
        return "wxid_" + "".join(self.rng.choice(letters + "0123456789") for _ in range(10))

    # the customer
    def customer(self, index: int) -> DemoCustomer:
        rng = self.rng
        created_at = self.now - datetime.timedelta(seconds=rng.randint(3600, 730 * 86400))
        updated_at = min(self.now, created_at + datetime.timedelta(days=rng.choice((0, 0, 1, 7, 30, 90))))
        organisation = self.chance(self.spec.organisation_share) and index >= len(ANCHOR_NAMES)
        region = self.region(organisation)
        city = self.city(region)
        if organisation:
            customer = self.organisation(city, region, created_at, updated_at)
        else:
            customer = self.person(city, region, created_at, updated_at, index)
        self.classify(customer)
        self.profile_details(customer, city)
        return customer

    def region(self, organisation: bool) -> str:
        wanted = self.spec.organisation_regions
        if wanted:
            pool = [r for r in self.regions if (r in wanted) == organisation]
            if pool:
                return self.rng.choice(pool)
        return self.rng.choices(self.regions, [5, 4, 2, 1, 1, 1][: len(self.regions)])[0]

    def person(self, city: City, region: str, created_at, updated_at, index: int) -> DemoCustomer:
        rng = self.rng
        if index < len(ANCHOR_NAMES):
            name, gender = ANCHOR_NAMES[index]
        else:
            name, gender = self.names.person()
        birthday = datetime.date(rng.randint(1956, 2004), rng.randint(1, 12), rng.randint(1, 28))
        id_number = ""
        if self.chance(0.45):
            for attempt in range(5):
                candidate = resident_id(
                    area_codes=(rng.choice(city.area_codes), city.city_code, "110100"),
                    birthday=birthday,
                    male=gender == "男",
                    seq=rng.randint(0, 499) + attempt,
                )
                if candidate not in self.ids:  # kept unique always: a file must not repeat one
                    self.ids.add(candidate)
                    id_number = candidate
                    break
        contacts = [DemoContact(name=name, role="本人", phone=self.phone(), is_primary=True)]
        if self.chance(0.4):
            contacts[0].wechat = self.wechat()
        if self.chance(0.15):
            relative, _g = self.names.person()
            contacts.append(DemoContact(name=relative, role=rng.choice(("配偶", "子女", "父母")), phone=self.phone()))
        return DemoCustomer(
            kind=CustomerKind.PERSON,
            name=name,
            region_code=region,
            created_at=created_at,
            updated_at=updated_at,
            contacts=contacts,
            id_number=id_number,
            gender=gender,
            birthday=birthday if (id_number or self.chance(0.6)) else None,
            address=self.home_address(city),
        )

    def organisation(self, city: City, region: str, created_at, updated_at) -> DemoCustomer:
        rng = self.rng
        name, authority, nature = self.organisation_name(city)
        contacts = []
        for position in range(rng.choice((1, 1, 2, 3))):
            person, _g = self.names.person()
            role = rng.choice(ORG_ROLES.get(self.code, ORG_ROLES["default"]))
            contact = DemoContact(name=person, role=role, phone=self.phone(), is_primary=position == 0)
            if self.chance(0.3):
                contact.email = f"{rng.randint(10_000_000, 2_999_999_999)}@qq.com"
            contacts.append(contact)
        if self.chance(0.4):
            landline = f"{city.phone_area}-{rng.randint(2, 8)}{rng.randint(0, 9_999_999):07d}"
            contacts.append(DemoContact(name="", role="办公室电话", phone=landline))
        customer = DemoCustomer(
            kind=CustomerKind.ORGANISATION,
            name=name,
            region_code=region,
            created_at=created_at,
            updated_at=updated_at,
            contacts=contacts,
            id_number=self.credit_code(city, authority) if self.chance(0.9) else "",
            address=self.street_address(city),
        )
        customer.extra["_nature"] = nature
        return customer

    def credit_code(self, city: City, authority: str) -> str:
        while True:  # old-style numeric organisation codes do repeat in a million
            code = credit_code(self.rng, area=self.rng.choice(city.area_codes), authority_type=authority)
            if code not in self.ids:
                self.ids.add(code)
                return code

    def organisation_name(self, city: City) -> tuple[str, str, str]:
        rng = self.rng
        for _attempt in range(20 if self.unique else 1):
            template, authority, nature = _pick(rng, ORG_TEMPLATES.get(self.code, ORG_TEMPLATES["default"]))
            name = template.format(
                city=city.name,
                district=rng.choice(city.districts),
                brand=rng.choice(BRAND_WORDS),
                road=rng.choice(EXPRESSWAYS),
                n=rng.randint(1, 12),
                place=rng.choice(TOLL_PLACES),
            )
            if name not in self.org_names:
                break
        if self.unique:
            self.org_names.add(name)
        return name, authority, nature

    def classify(self, c: DemoCustomer) -> None:
        rng = self.rng
        c.lifecycle = _pick(rng, ((Lifecycle.POTENTIAL, 0.2), (Lifecycle.ACTIVE, 0.67), (Lifecycle.LOST, 0.13)))
        c.owner_username = self.owner(c.region_code)
        classes = [s.code for s in self.spec.classes]
        if c.lifecycle != Lifecycle.POTENTIAL or self.chance(0.5):
            c.class_code = rng.choices(classes, [20, 45, 35][: len(classes)])[0]
        grades = [g.code for g in self.spec.grades]
        if self.chance(0.75):
            c.grade_code = rng.choices(grades, [10, 22, 38, 20, 10][: len(grades)])[0]
        c.source_code = rng.choice(self.spec.sources).code if self.spec.sources else None
        c.is_key_account = self.chance(0.05) or (c.kind == CustomerKind.ORGANISATION and self.chance(0.04))
        if c.is_key_account:
            c.class_code = classes[0] if classes else c.class_code
        if c.lifecycle != Lifecycle.POTENTIAL and self.spec.categories:
            count = rng.choice((1, 1, 1, 2))
            c.category_codes = sorted({rng.choice(self.spec.categories).code for _ in range(count)})
        if self.spec.tags and self.chance(0.45):
            c.tag_names = sorted({rng.choice(self.spec.tags) for _ in range(rng.choice((1, 1, 2)))})
        if c.is_key_account and "重大用户" in self.spec.tags and "重大用户" not in c.tag_names:
            c.tag_names.append("重大用户")
        if self.chance(0.55):
            c.marketing_consent = True
            c.consent_channel = _pick(rng, CONSENT_CHANNELS.get(self.code, CONSENT_CHANNELS["default"]))
        if self.spec.points and c.lifecycle != Lifecycle.POTENTIAL and self.chance(0.7):
            c.points = rng.choice((100, 200, 500, 800)) * rng.randint(1, 40)
        if self.chance(0.25):
            c.notes = rng.choice(NOTES.get(self.code, NOTES["default"]))
        followups = FOLLOWUPS.get(self.code, FOLLOWUPS["default"])
        age_days = (self.now - c.created_at).days
        if age_days > 3 and self.chance(0.4):
            c.followups = [(rng.randint(1, min(age_days - 1, 120)), rng.choice(followups))]

    def owner(self, region: str) -> str | None:
        pool = self.owners.get(region) or [u for users in self.owners.values() for u in users]
        return self.rng.choice(pool) if pool else None

    def card_number(self, prefix: str) -> str:
        self.card_no += 1
        return f"{prefix}{_profile_slot(self.code) + 1}{self.card_no:07d}"

    def profile_details(self, c: DemoCustomer, city: City) -> None:
        """Custom-field values (and the category matching an organisation's kind)."""
        rng, code = self.rng, self.code
        nature = c.extra.pop("_nature", "")
        created = c.created_at.date()
        if code == "decoration":
            contract = created + datetime.timedelta(days=rng.randint(0, 20))
            if c.lifecycle == Lifecycle.POTENTIAL or contract > self.today:
                return
            start = contract + datetime.timedelta(days=rng.randint(7, 30))
            c.extra = {
                "contract_date": contract.isoformat(),
                "foreman": self.names.person("男")[0],
                "designer": self.names.person()[0],
                "site_address": self.home_address(city) if c.kind == CustomerKind.PERSON else c.address,
            }
            if start <= self.today:
                c.extra["start_date"] = start.isoformat()
                finish = start + datetime.timedelta(days=rng.randint(45, 120))
                if finish <= self.today:
                    c.extra["finish_date"] = finish.isoformat()
        elif code == "health_check":
            if c.lifecycle != Lifecycle.POTENTIAL and self.chance(0.7):
                c.extra["member_card_no"] = self.card_number("HC")
            if c.kind == CustomerKind.PERSON and self.chance(0.6):
                c.extra["employer"] = self.organisation_name(city)[0]
        elif code == "clinic":
            if c.lifecycle != Lifecycle.POTENTIAL:
                c.extra["consultant"] = rng.choice(CLINIC_CONSULTANTS)
                c.extra["treatment_items"] = "、".join(sorted(set(rng.sample(CLINIC_TREATMENTS, rng.randint(1, 3)))))
            if self.chance(0.5):
                c.extra["hidden_needs"] = rng.choice(CLINIC_HIDDEN_NEEDS)
            if self.chance(0.4):
                c.tag_names = sorted({*c.tag_names, _pick(rng, CLINIC_RELATIONSHIP)})
        elif code == "manufacturing":
            category = MANUFACTURING_CATEGORY_BY_NATURE.get(nature) or rng.choice(("class-1", "class-2", "class-3"))
            models = MANUFACTURING_MODELS[category]
            if c.kind == CustomerKind.PERSON:  # 个体: a weighbridge or a platform scale
                category, nature, models = "class-3", "个体工商户", ("SCS-60 地磅", "TCS-500 电子台秤")
            if c.lifecycle != Lifecycle.POTENTIAL:
                c.category_codes = sorted({category, *c.category_codes}) if self.chance(0.2) else [category]
                c.extra["equipment_model"] = rng.choice(models)
                install = created - datetime.timedelta(days=rng.randint(0, 1500))
                c.extra["install_date"] = install.isoformat()
            if nature and c.kind == CustomerKind.ORGANISATION:
                c.extra["unit_nature"] = nature
        elif code == "retail" and c.lifecycle != Lifecycle.POTENTIAL and c.kind == CustomerKind.PERSON:
            c.extra["member_level"] = _pick(rng, (("普通", 0.6), ("银卡", 0.28), ("金卡", 0.12)))
            c.extra["member_card_no"] = self.card_number("VIP")


# Organisation name templates per profile: (template, USCC authority+type, 使用单位性质).
EXPRESSWAYS = ("连霍高速", "京昆高速", "包茂高速", "福银高速", "京港澳高速", "沪陕高速", "青银高速", "二广高速")
TOLL_PLACES = ("东", "西", "南", "北", "新区", "开发区", "机场", "城区")
ORG_TEMPLATES: dict[str, tuple[tuple[tuple[str, str, str], float], ...]] = {
    "manufacturing": (
        (("{road}{city}{place}收费站", "12", "事业单位"), 0.2),
        (("{city}市公路管理局", "11", "政府机关"), 0.04),
        (("{city}市{district}交通运输局", "11", "政府机关"), 0.05),
        (("{city}{road}超限检测站", "12", "事业单位"), 0.1),
        (("{city}{brand}物流园有限公司", "91", "民营企业"), 0.12),
        (("{city}{brand}建材有限公司", "91", "民营企业"), 0.1),
        (("{city}{brand}矿业有限责任公司", "91", "国有企业"), 0.08),
        (("{city}{brand}粮油贸易有限公司", "91", "民营企业"), 0.08),
        (("{city}{brand}钢铁集团有限公司", "91", "国有企业"), 0.05),
        (("{city}{brand}混凝土有限公司", "91", "民营企业"), 0.08),
        (("{city}{brand}再生资源回收有限公司", "91", "民营企业"), 0.05),
        (("{city}{brand}港务有限公司", "91", "国有企业"), 0.05),
    ),
    "health_check": (
        (("{city}{brand}科技有限公司", "91", ""), 0.35),
        (("{city}市第{n}中学", "12", ""), 0.15),
        (("{city}{brand}商贸有限公司", "91", ""), 0.2),
        (("{city}市{district}人民政府", "11", ""), 0.1),
        (("{city}{brand}建设集团有限公司", "91", ""), 0.2),
    ),
    "default": (
        (("{city}{brand}餐饮管理有限公司", "91", ""), 0.3),
        (("{city}{brand}酒店有限公司", "91", ""), 0.2),
        (("{city}{brand}商贸有限公司", "91", ""), 0.3),
        (("{city}{brand}科技有限公司", "91", ""), 0.2),
    ),
}
ORG_ROLES = {
    "manufacturing": ("站长", "设备科科长", "采购经理", "办公室主任", "总经理", "计量员"),
    "health_check": ("人事经理", "工会主席", "行政主管", "办公室主任"),
    "default": ("总经理", "行政主管", "采购经理", "财务"),
}
MANUFACTURING_CATEGORY_BY_NATURE = {"事业单位": "class-1", "政府机关": "class-2"}
MANUFACTURING_MODELS = {
    "class-1": ("SW-JZ3000 动态计重收费系统", "SW-JZ2000 轴组式动态汽车衡", "SW-WIM10 弯板称重仪"),
    "class-2": ("SW-CX500 超限检测系统", "SW-YJ200 不停车预检系统", "SW-CX300 整车式超限检测仪"),
    "class-3": ("SCS-100 电子汽车衡", "SCS-150 电子汽车衡", "TGT-3 轨道衡", "TCS-500 电子台秤", "SCS-60 地磅"),
}
CLINIC_CONSULTANTS = ("林晓雯", "陈梦琪", "王雅婷", "刘思琪", "周婉清")
CLINIC_TREATMENTS = (
    "光子嫩肤",
    "水光针",
    "热玛吉",
    "玻尿酸填充",
    "肉毒素除皱",
    "双眼皮",
    "隆鼻",
    "吸脂",
    "牙齿美白",
    "隐形矫正",
)
CLINIC_HIDDEN_NEEDS = (
    "关注抗衰老，预算充足",
    "希望改善肤色，担心恢复期",
    "有婚期，想在三个月内见效",
    "考虑鼻部综合，先做注射体验",
    "对价格敏感，关注活动",
    "朋友做过效果好，有意向",
)
CLINIC_RELATIONSHIP = (("伙伴型", 0.15), ("合作型", 0.3), ("一般型", 0.45), ("潜在竞争型", 0.1))
CONSENT_CHANNELS = {
    "clinic": ((ConsentChannel.WECHAT, 0.6), (ConsentChannel.SMS, 0.3), (ConsentChannel.PAPER, 0.1)),
    "retail": ((ConsentChannel.SMS, 0.5), (ConsentChannel.WECHAT, 0.3), (ConsentChannel.ONSITE, 0.2)),
    "manufacturing": ((ConsentChannel.PHONE, 0.6), (ConsentChannel.EMAIL, 0.3), (ConsentChannel.PAPER, 0.1)),
    "default": ((ConsentChannel.PHONE, 0.4), (ConsentChannel.SMS, 0.3), (ConsentChannel.PAPER, 0.3)),
}
NOTES = {
    "decoration": (
        "业主要求周末施工需提前告知",
        "对环保材料要求较高",
        "老房翻新，需注意水电改造",
        "业主常年在外，由家属对接",
    ),
    "health_check": ("每年三月安排年度体检", "有高血压病史，报告需医生解读", "团检名单由人事统一提交"),
    "manufacturing": ("设备使用频繁，建议每季度巡检", "采购走招标流程，关注年底预算", "与区域经理保持每月联系"),
    "retail": ("偏好送货上门", "节日常购礼品卡", "对售后响应速度要求高"),
    "clinic": ("术后恢复良好，需按期复诊", "对疼痛敏感，操作前需充分沟通", "希望由固定咨询师跟进"),
    "default": ("重要客户，需定期回访",),
}
FOLLOWUPS = {
    "decoration": ("开工期回访：业主对进度满意", "工程中期回访：反映墙面有裂缝，已转工程部", "竣工回访：整体满意"),
    "health_check": ("体检报告已解读，建议三个月后复查", "回访：对前台接待满意", "提醒年度体检时间"),
    "manufacturing": ("区域经理上门走访，设备运行正常", "回访：计重数据偏差，已安排售后校准", "节日慰问"),
    "retail": ("送货后回访：商品完好", "会员活动邀请已发送", "回访：对退换货处理满意"),
    "clinic": ("术后第三天回访：恢复正常", "术后一个月回访：效果满意", "未成交顾客回访：仍在考虑"),
    "default": ("电话回访：客户满意",),
}


def generate_customers(
    code: str,
    count: int,
    *,
    regions: Sequence[str],
    owners: dict[str, list[str]] | None = None,
    seed: int = 2026,
    today: datetime.date | None = None,
    unique: bool = True,
    start: int = 0,
) -> Iterator[DemoCustomer]:
    """`count` customers for profile `code`, the same ones for the same arguments
    (except the dates, which are relative to now). `owners` maps a region code to the
    usernames that may own its customers. Mobile numbers are always unique; `unique`
    also keeps ID numbers and organisation names distinct (a benchmark generating
    millions turns it off: the name space is small and repeats are realistic there).
    `start` shifts the mobile-number and card-number ranges, for a second batch that
    must not reuse the first one's numbers."""
    spec = ARCHIVE_PROFILES[code]
    generator = _Generator(code, spec, regions, owners, seed, today or timezone.localdate())
    generator.unique = unique
    generator.phone_index += start
    generator.card_no += start
    for index in range(count):
        yield generator.customer(index)


# --- writing them ------------------------------------------------------------------


def demo_owners(region_codes: Sequence[str]) -> dict[str, list[str]]:
    """The demo account manager and agents responsible for each region (by their own
    region or their scope), so the customers a demo login sees are its own."""
    from kefu.core.models import User

    users = (
        User.objects.filter(username__in=("account", "agent", "agent2"), is_active=True)
        .select_related("region")
        .prefetch_related("scope_regions")
    )
    owners: dict[str, list[str]] = {code: [] for code in region_codes}
    for user in users:
        codes = {r.code for r in user.scope_regions.all()} | ({user.region.code} if user.region else set())
        for code in codes & set(region_codes):
            owners[code].append(user.username)
    return {code: sorted(names) for code, names in owners.items() if names}


def demo_customers_exist(code: str) -> bool:
    from kefu.customers.models import TimelineEntry

    return TimelineEntry.objects.filter(kind="customer.created", **{f"data__{DEMO_MARKER}": code}).exists()


def demo_customers_load(code: str, *, count: int = DEMO_COUNT) -> int:
    """Create `count` demo customers for profile `code` unless it already has them.
    Returns how many were created (0 on a second run)."""
    if demo_customers_exist(code):
        return 0
    from kefu.core.models import Region

    region_codes = [r for r in Region.objects.values_list("code", flat=True) if r in _region_codes(code)]
    rows = sorted(
        generate_customers(code, count, regions=region_codes, owners=demo_owners(region_codes)),
        key=lambda c: c.created_at,
    )
    with transaction.atomic():
        insert_customers(rows, marker=code)
    return len(rows)


def _region_codes(code: str) -> list[str]:
    from kefu.profiles.definitions import PROFILES

    return [c for c, _name in PROFILES[code].regions]


def insert_customers(rows: Sequence[DemoCustomer], *, marker: str | None = None) -> list[int]:
    """Write generated customers with their contacts, categories, tags, opening credit
    grade, points and timeline in one bulk query per table. Returns the new ids."""
    from kefu.core.models import Region, User
    from kefu.customers.models import (
        Contact,
        CreditChange,
        CreditGrade,
        Customer,
        CustomerClass,
        CustomerSource,
        PointsEntry,
        ProductCategory,
        Tag,
        TimelineEntry,
    )

    regions = {r.code: r.pk for r in Region.objects.all()}
    users = dict(User.objects.filter(username__in={r.owner_username for r in rows}).values_list("username", "pk"))
    classes = dict(CustomerClass.objects.values_list("code", "pk"))
    grades = dict(CreditGrade.objects.values_list("code", "pk"))
    sources = dict(CustomerSource.objects.values_list("code", "pk"))
    categories = dict(ProductCategory.objects.values_list("code", "pk"))
    tag_names = sorted({t for r in rows for t in r.tag_names})
    Tag.objects.bulk_create([Tag(name=n) for n in tag_names], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "pk"))

    numbers = take_archive_numbers(len(rows))
    customers = []
    for row, number in zip(rows, numbers, strict=True):
        customers.append(
            Customer(
                kind=row.kind,
                archive_no=number,
                name=row.name,
                id_number=row.id_number,
                gender=row.gender,
                birthday=row.birthday,
                address=row.address,
                region_id=regions.get(row.region_code),
                owner_id=users.get(row.owner_username),
                customer_class_id=classes.get(row.class_code),
                is_key_account=row.is_key_account,
                credit_grade_id=grades.get(row.grade_code),
                source_id=sources.get(row.source_code),
                lifecycle=row.lifecycle,
                marketing_consent=row.marketing_consent,
                consent_at=row.created_at if row.marketing_consent else None,
                consent_channel=row.consent_channel,
                points_balance=row.points,
                notes=row.notes,
                extra=row.extra,
                name_initials=" ".join(name_initials(row.name, person=row.kind == CustomerKind.PERSON))[:200],
                search_text=build_search_text(
                    name=row.name, person=row.kind == CustomerKind.PERSON, archive_no=number, phones=row.phones
                ),
            )
        )
    Customer.objects.bulk_create(customers, batch_size=500)
    ids = [c.pk for c in customers]
    # created_at/updated_at are auto fields bulk_create stamps with "now": spread them
    # over the past two years, as an archive kept for a while would be.
    for start in range(0, len(customers), 500):
        chunk = list(zip(customers[start : start + 500], rows[start : start + 500], strict=True))
        Customer.objects.filter(pk__in=[c.pk for c, _r in chunk]).update(
            created_at=Case(*[When(pk=c.pk, then=Value(r.created_at)) for c, r in chunk], output_field=DateTimeField()),
            updated_at=Case(*[When(pk=c.pk, then=Value(r.updated_at)) for c, r in chunk], output_field=DateTimeField()),
        )

    Contact.objects.bulk_create(
        [
            Contact(
                customer_id=c.pk,
                name=k.name,
                role=k.role,
                phone=k.phone,
                phone_digits=phone_digits(k.phone),
                wechat=k.wechat,
                email=k.email,
                is_primary=k.is_primary,
            )
            for c, r in zip(customers, rows, strict=True)
            for k in r.contacts
        ],
        batch_size=500,
    )
    Customer.categories.through.objects.bulk_create(
        [
            Customer.categories.through(customer_id=c.pk, productcategory_id=categories[code])
            for c, r in zip(customers, rows, strict=True)
            for code in r.category_codes
            if code in categories
        ],
        batch_size=500,
    )
    Customer.tags.through.objects.bulk_create(
        [
            Customer.tags.through(customer_id=c.pk, tag_id=tags[name])
            for c, r in zip(customers, rows, strict=True)
            for name in r.tag_names
        ],
        batch_size=500,
    )
    CreditChange.objects.bulk_create(
        [
            CreditChange(
                customer_id=c.pk,
                to_grade_id=c.credit_grade_id,
                reason=_("建档时评定"),
                effective_on=timezone.localtime(r.created_at).date(),
            )
            for c, r in zip(customers, rows, strict=True)
            if c.credit_grade_id
        ],
        batch_size=500,
    )
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(
                customer_id=c.pk,
                delta=r.points,
                balance_after=r.points,
                reason=_("期初积分"),
                key=f"opening:{c.archive_no}",
            )
            for c, r in zip(customers, rows, strict=True)
            if r.points
        ],
        batch_size=500,
    )
    entries = []
    for c, r in zip(customers, rows, strict=True):
        entries.append(
            TimelineEntry(
                customer_id=c.pk,
                at=r.created_at,
                kind="customer.created",
                title=_("建立档案"),
                data={DEMO_MARKER: marker} if marker else {},
            )
        )
        for days, title in r.followups:
            at = min(r.created_at + datetime.timedelta(days=days), timezone.now())
            entries.append(TimelineEntry(customer_id=c.pk, at=at, kind="customer.note", title=title))
    TimelineEntry.objects.bulk_create(entries, batch_size=500)
    return ids
