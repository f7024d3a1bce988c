"""The demo customer generator: deterministic (a fixed seed per profile), with no
database. `generate_customers` yields `DemoCustomer`s; `kefu.customers.demo.loading`
writes them."""

from __future__ import annotations

import datetime
import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from kefu.customers.choices import CustomerKind, Lifecycle
from kefu.customers.demo.identifiers import credit_code, mobile_number, resident_id
from kefu.customers.demo.vocabulary import (
    ANCHOR_NAMES,
    BRAND_WORDS,
    CLINIC_CONSULTANTS,
    CLINIC_HIDDEN_NEEDS,
    CLINIC_RELATIONSHIP,
    CLINIC_TREATMENTS,
    COMMUNITIES,
    CONSENT_CHANNELS,
    EXPRESSWAYS,
    FEMALE_GIVEN,
    FOLLOWUPS,
    MALE_GIVEN,
    MANUFACTURING_CATEGORY_BY_NATURE,
    MANUFACTURING_MODELS,
    NOTES,
    ORG_ROLES,
    ORG_TEMPLATES,
    STREETS,
    SURNAMES,
    TOLL_PLACES,
)
from kefu.customers.profile_data import ARCHIVE_PROFILES, ArchiveProfile, City

# Each profile draws its mobile and card numbers from its own range, so the demo data of
# two profiles never share one.
_PROFILE_SLOTS = ("decoration", "health_check", "manufacturing", "retail", "clinic")
_SLOT_SIZE = 18_000_000  # numbers per profile: more than any benchmark generates


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
