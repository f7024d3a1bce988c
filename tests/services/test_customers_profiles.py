"""Each industry profile seeds its archive configuration and, with --demo, ≥ 200
realistic demo customers; loading again adds nothing."""

import datetime
from collections import Counter

import pytest
from django.db.models import Sum
from django.utils import timezone

from kefu.core.models import AuditEvent, Region, User
from kefu.customers.choices import CustomerKind, Lifecycle
from kefu.customers.demo import DEMO_COUNT, generate_customers, resident_id
from kefu.customers.fields import clean_extra
from kefu.customers.models import (
    Contact,
    CreditChange,
    CreditGrade,
    Customer,
    CustomerClass,
    CustomerSource,
    CustomField,
    PointsEntry,
    ProductCategory,
    Tag,
    TimelineEntry,
)
from kefu.customers.numbering import next_archive_no
from kefu.customers.profile_data import ARCHIVE_PROFILES
from kefu.customers.profile_step import load_customers_profile
from kefu.customers.selectors import CustomerFilters, customer_list
from kefu.customers.validation import MOBILE, clean_id_number, clean_phone
from kefu.profiles.definitions import PROFILES
from kefu.profiles.services import _STEPS, LoadResult, profile_load

pytestmark = pytest.mark.django_db

PROFILE_CODES = sorted(PROFILES)


@pytest.fixture(autouse=True)
def _registered():
    """The lead registers the step in the app; until then (and regardless) make sure it runs."""
    added = load_customers_profile not in _STEPS
    if added:
        _STEPS.append(load_customers_profile)
    yield
    if added:
        _STEPS.remove(load_customers_profile)


def search(user, q):
    return set(customer_list(user=user, filters=CustomerFilters(q=q)).values_list("name", flat=True))


@pytest.mark.parametrize("code", PROFILE_CODES)
def test_profile_seeds_its_archive_configuration(code):
    spec = ARCHIVE_PROFILES[code]

    result = profile_load(code=code)

    classes = {c.code: c.visits_per_month for c in CustomerClass.objects.all()}
    assert classes == {"A": 1, "B": 2, "C": 3}  # seed 002: C is the class visited most
    assert set(CreditGrade.objects.values_list("code", flat=True)) == {"AAA", "AA", "A", "B", "C"}
    assert all(g.description for g in CreditGrade.objects.all())
    assert set(CustomerSource.objects.values_list("name", flat=True)) == {s.name for s in spec.sources}
    assert set(ProductCategory.objects.values_list("name", flat=True)) == {c.name for c in spec.categories}
    fields = {f.key: f for f in CustomField.objects.all()}
    assert set(fields) == {f.key for f in spec.fields}
    assert set(Tag.objects.values_list("name", flat=True)) >= set(spec.tags)
    assert not Customer.objects.exists()  # no demo customers without --demo
    assert any("客户档案" in note for note in result.notes)
    # Seeded through the settings service, audited as the system.
    assert AuditEvent.objects.filter(code="archive_settings.seeded", actor__isnull=True).count() == 1


def test_each_profile_declares_the_fields_the_issue_asks_for():
    labels = {code: {f.label: f for f in spec.fields} for code, spec in ARCHIVE_PROFILES.items()}
    assert {"合同日期", "开工日期", "竣工日期", "工长", "设计师", "工程地址"} <= set(labels["decoration"])
    assert labels["decoration"]["合同日期"].field_type == "date"
    assert {"会员卡号", "工作单位"} <= set(labels["health_check"])
    assert {"咨询师", "治疗项目", "隐性需求"} <= set(labels["clinic"])
    assert {"设备型号", "安装日期", "使用单位性质"} <= set(labels["manufacturing"])
    assert labels["manufacturing"]["使用单位性质"].field_type == "choice"
    assert labels["retail"]["会员等级"].choices == ("普通", "银卡", "金卡")
    manufacturing = [c.name for c in ARCHIVE_PROFILES["manufacturing"].categories]
    assert manufacturing == ["一类 计重收费设备", "二类 超限设备", "三类 通常衡器"]
    assert {"伙伴型", "合作型", "一般型", "潜在竞争型"} <= set(ARCHIVE_PROFILES["clinic"].tags)


def test_config_load_is_idempotent_and_keeps_manager_edits():
    profile_load(code="manufacturing")
    CustomerClass.objects.filter(code="A").update(name="重点用户", visits_per_month=2)
    counts = [m.objects.count() for m in (CustomerClass, CreditGrade, CustomerSource, ProductCategory, CustomField)]

    result = LoadResult(profile=PROFILES["manufacturing"])
    load_customers_profile(PROFILES["manufacturing"], False, result)

    assert [m.objects.count() for m in (CustomerClass, CreditGrade, CustomerSource, ProductCategory, CustomField)] == (
        counts
    )
    a = CustomerClass.objects.get(code="A")
    assert (a.name, a.visits_per_month) == ("重点用户", 2)
    assert result.notes == []  # nothing new, nothing to say


@pytest.mark.parametrize("code", PROFILE_CODES)
def test_demo_customers_are_realistic_and_valid(code):
    profile = PROFILES[code]

    profile_load(code=code, demo=True)

    customers = list(Customer.objects.prefetch_related("contacts", "categories", "tags"))
    assert len(customers) >= DEMO_COUNT
    region_ids = set(Region.objects.filter(code__in=[c for c, _n in profile.regions]).values_list("pk", flat=True))
    owners = set(User.objects.filter(username__in=("account", "agent", "agent2")).values_list("pk", flat=True))
    mobiles = []
    for customer in customers:
        assert customer.region_id in region_ids
        assert customer.owner_id in owners
        assert clean_id_number(customer.id_number, organisation=customer.kind == CustomerKind.ORGANISATION) == (
            customer.id_number
        )
        contacts = list(customer.contacts.all())
        assert sum(c.is_primary for c in contacts) == 1
        for contact in contacts:
            assert clean_phone(contact.phone)
            if MOBILE.match(contact.phone):
                mobiles.append(contact.phone)
        # The custom-field values pass the same validation a person's input does.
        assert clean_extra(customer.extra, kind=customer.kind) == customer.extra
        assert customer.name.lower() in customer.search_text and customer.archive_no.lower() in customer.search_text
    assert len(mobiles) == len(set(mobiles)) >= DEMO_COUNT
    assert len({c.archive_no for c in customers}) == len(customers)
    assert len({c.id_number for c in customers if c.id_number}) == len([c for c in customers if c.id_number])

    lifecycle = Counter(c.lifecycle for c in customers)
    assert set(lifecycle) == set(Lifecycle.values)
    key_accounts = sum(c.is_key_account for c in customers)
    assert 0.02 * len(customers) <= key_accounts <= 0.12 * len(customers)
    assert {c.customer_class_id for c in customers} >= set(CustomerClass.objects.values_list("pk", flat=True))
    assert len({c.credit_grade_id for c in customers if c.credit_grade_id}) == 5
    assert len({c.source_id for c in customers}) == len(ARCHIVE_PROFILES[code].sources)
    assert any(c.extra for c in customers) and any(c.tags.all() for c in customers)
    assert any(c.marketing_consent and c.consent_channel and c.consent_at for c in customers)
    assert any(c.birthday for c in customers)
    oldest = min(c.created_at for c in customers)
    assert oldest < timezone.now() - datetime.timedelta(days=300)
    assert all(c.created_at <= c.updated_at <= timezone.now() for c in customers)
    # Every archive has its creation on the timeline; some have a follow-up too.
    assert TimelineEntry.objects.filter(kind="customer.created").count() == len(customers)
    assert TimelineEntry.objects.filter(kind="customer.note").exists()
    # Opening grades and points have their history, as the services would write it.
    assert CreditChange.objects.count() == sum(1 for c in customers if c.credit_grade_id)
    ledger = PointsEntry.objects.aggregate(total=Sum("delta"))["total"] or 0
    assert ledger == sum(c.points_balance for c in customers)
    if ARCHIVE_PROFILES[code].points:
        assert ledger > 0


def test_manufacturing_demo_is_mostly_organisations_with_valid_credit_codes():
    profile_load(code="manufacturing", demo=True)

    organisations = Customer.objects.filter(kind=CustomerKind.ORGANISATION)
    assert organisations.count() >= 0.7 * Customer.objects.count()
    names = list(organisations.values_list("name", flat=True))
    assert any(n.endswith("收费站") for n in names) and any(n.endswith("公司") for n in names)
    assert any("公路" in n or "交通运输局" in n for n in names)
    codes = [c for c in organisations.values_list("id_number", flat=True) if c]
    assert len(codes) >= 0.8 * len(names)
    assert all(clean_id_number(c, organisation=True) == c for c in codes)
    persons = Customer.objects.filter(kind=CustomerKind.PERSON).exclude(id_number="")
    assert persons.exists() and all(len(p) == 18 for p in persons.values_list("id_number", flat=True))
    # Toll stations use 计重收费 equipment: the category follows the kind of unit.
    toll = Customer.objects.filter(name__endswith="收费站", lifecycle=Lifecycle.ACTIVE).first()
    assert toll is not None and toll.categories.filter(code="class-1").exists()
    assert toll.extra["unit_nature"] == "事业单位"


def test_loading_the_demo_again_adds_no_customer():
    profile_load(code="clinic", demo=True)
    before = (Customer.objects.count(), Contact.objects.count(), TimelineEntry.objects.count())

    profile_load(code="clinic", demo=True)

    assert (Customer.objects.count(), Contact.objects.count(), TimelineEntry.objects.count()) == before


def test_another_profile_demo_adds_its_own_customers_with_new_numbers():
    profile_load(code="decoration", demo=True)
    profile_load(code="retail", demo=True)

    assert Customer.objects.count() == 2 * DEMO_COUNT
    assert Customer.objects.values("archive_no").distinct().count() == 2 * DEMO_COUNT
    phones = list(Contact.objects.exclude(phone__contains="-").values_list("phone", flat=True))
    assert len(phones) == len(set(phones))


def test_archive_numbers_continue_after_the_demo(make_user):
    profile_load(code="health_check", demo=True)
    from django.db import transaction

    with transaction.atomic():
        number = next_archive_no()

    assert not Customer.objects.filter(archive_no=number).exists()
    assert number > max(Customer.objects.values_list("archive_no", flat=True))


def test_search_finds_demo_customers_by_initials_of_every_reading_and_phone_digits():
    profile_load(code="decoration", demo=True)
    manager = User.objects.get(username="manager")

    assert "张三" in search(manager, "zs")
    assert "单丽娟" in search(manager, "slj") and "单丽娟" in search(manager, "dlj")
    assert "曾国强" in search(manager, "zgq") and "曾国强" in search(manager, "cgq")
    assert "解晓梅" in search(manager, "xxm") and "解晓梅" in search(manager, "jxm")
    assert "仇建平" in search(manager, "qjp") and "区志强" in search(manager, "ozq")
    assert "区志强" in search(manager, "区志")
    assert {"slj", "dlj"} <= set(Customer.objects.get(name="单丽娟").name_initials.split())
    phone = Contact.objects.get(customer__name="曾国强", is_primary=True).phone
    assert "曾国强" in search(manager, phone[-6:])


def test_demo_customers_belong_to_the_demo_logins_scopes():
    profile_load(code="manufacturing", demo=True)
    account = User.objects.get(username="account")
    dept = User.objects.get(username="dept")

    visible = customer_list(user=account)
    own_region = account.scope_regions.first()
    assert visible.exists() and visible.count() < Customer.objects.count()
    assert all(c.region_id == own_region.pk or c.owner_id == account.pk for c in visible)
    assert not customer_list(user=dept).exists()  # department staff see no archive


def test_generator_is_deterministic_and_ids_are_valid_for_old_birth_years():
    regions = ["north", "south", "hq"]
    first = [(c.name, c.id_number, c.phones) for c in generate_customers("decoration", 50, regions=regions)]
    again = [(c.name, c.id_number, c.phones) for c in generate_customers("decoration", 50, regions=regions)]
    assert first == again
    # python-stdnum knows district codes only from their introduction: older people
    # get the city code, and the number stays valid.
    number = resident_id(area_codes=("610113", "610100"), birthday=datetime.date(1960, 5, 1), male=True, seq=7)
    assert clean_id_number(number, organisation=False) == number and number.startswith("610100")
