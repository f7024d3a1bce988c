"""The archive lending log: one open loan per archive, returns, overdue, scope."""

import datetime

import pytest
from django.utils import timezone

from kefu.core.errors import AccessDenied, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import ArchiveLoan, TimelineEntry
from kefu.customers.services.loans import (
    ArchiveOnLoan,
    LoanAlreadyReturned,
    archive_loan_create,
    archive_loan_return,
    is_overdue,
    loan_list,
    loans_for_customer,
    overdue_loans,
)
from kefu.customers.services.merge import customer_merge
from tests.factories import RegionFactory
from tests.factories_customers import make_customer

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def east():
    return RegionFactory(code="east", name="东区")


@pytest.fixture
def archivist(make_user):
    return make_user("archivist", username="archivist", scope_all=True)


@pytest.fixture
def borrower(make_user):
    return make_user("agent", username="borrower", display_name="小王")


@pytest.fixture
def customer(archivist, east):
    return make_customer(archivist, name="张三", phone="13812345678", region=east)


def _lend(actor, customer, borrower, *, due_on=None, purpose="核对合同"):
    return archive_loan_create(
        actor=actor,
        customer=customer,
        borrower=borrower,
        purpose=purpose,
        due_on=due_on or TODAY() + datetime.timedelta(days=7),
    )


def _events(code):
    return AuditEvent.objects.filter(code=code).count()


def test_lending_is_recorded_audited_and_on_the_timeline(archivist, borrower, customer):
    loan = _lend(archivist, customer, borrower)
    assert loan.registered_by == archivist and loan.returned_at is None
    event = AuditEvent.objects.get(code="customer.loaned")
    assert event.object_id == str(customer.pk) and event.data["borrower"] == borrower.pk
    entry = TimelineEntry.objects.get(customer=customer, kind="customer.loaned")
    assert "小王" in entry.title and entry.body == "核对合同"


def test_an_archive_out_on_loan_cannot_be_lent_again_until_returned(archivist, borrower, customer, make_user):
    loan = _lend(archivist, customer, borrower)
    other = make_user("agent", username="other")
    with pytest.raises(ArchiveOnLoan, match="该档案已借出（借阅人：小王"):
        _lend(archivist, customer, other)
    assert ArchiveLoan.objects.count() == 1 and _events("customer.loaned") == 1
    archive_loan_return(actor=archivist, loan=loan)
    second = _lend(archivist, customer, other)
    assert second.pk != loan.pk and ArchiveLoan.objects.filter(returned_at__isnull=True).count() == 1


def test_return_is_recorded_once(archivist, borrower, customer):
    loan = _lend(archivist, customer, borrower)
    archive_loan_return(actor=archivist, loan=loan)
    loan.refresh_from_db()
    assert loan.returned_at is not None
    assert TimelineEntry.objects.filter(customer=customer, kind="customer.loan_returned").count() == 1
    with pytest.raises(LoanAlreadyReturned, match="已于"):
        archive_loan_return(actor=archivist, loan=loan)
    assert _events("customer.loan_returned") == 1


def test_a_late_return_says_how_late(archivist, borrower, customer):
    loan = _lend(archivist, customer, borrower)
    ArchiveLoan.objects.filter(pk=loan.pk).update(due_on=TODAY() - datetime.timedelta(days=3))
    loan.refresh_from_db()
    archive_loan_return(actor=archivist, loan=loan)
    assert AuditEvent.objects.get(code="customer.loan_returned").data["overdue_days"] == 3
    assert "逾期 3 天" in TimelineEntry.objects.get(kind="customer.loan_returned").title


@pytest.mark.parametrize(
    ("purpose", "due_delta", "message"),
    [
        ("  ", 7, "请填写借阅事由"),
        ("事" * 201, 7, "不能超过 200 个字"),
        ("核对", -1, "应还日期不能早于今天"),
    ],
)
def test_bad_input_is_refused_in_chinese(archivist, borrower, customer, purpose, due_delta, message):
    with pytest.raises(ValidationFailed, match=message):
        _lend(archivist, customer, borrower, purpose=purpose, due_on=TODAY() + datetime.timedelta(days=due_delta))
    assert not ArchiveLoan.objects.exists() and _events("customer.loaned") == 0


def test_inactive_borrower_is_refused(archivist, borrower, customer):
    borrower.is_active = False
    borrower.save(update_fields=["is_active"])
    with pytest.raises(ValidationFailed, match="在职的借阅人"):
        _lend(archivist, customer, borrower)
    assert not ArchiveLoan.objects.exists()


def test_who_may_lend(make_user, archivist, borrower, customer):
    agent = make_user("agent", username="agent", scope_all=True)
    director = make_user("director", username="director", scope_all=True)
    west_archivist = make_user("archivist", username="west", region=RegionFactory(code="west"), scope_all=False)
    for actor in (agent, director):
        with pytest.raises(AccessDenied):
            _lend(actor, customer, borrower)
    with pytest.raises(NotFound):
        _lend(west_archivist, customer, borrower)
    assert not ArchiveLoan.objects.exists()
    loan = _lend(archivist, customer, borrower)
    with pytest.raises(AccessDenied):
        archive_loan_return(actor=director, loan=loan)
    with pytest.raises(NotFound):
        archive_loan_return(actor=west_archivist, loan=loan)
    loan.refresh_from_db()
    assert loan.returned_at is None


def test_merged_archive_cannot_be_lent(archivist, borrower, customer):
    survivor = make_customer(archivist, name="张三", phone="13812345679")
    customer_merge(actor=archivist, survivor=survivor, source=customer)
    customer.refresh_from_db()
    with pytest.raises(NotFound, match="已合并"):
        _lend(archivist, customer, borrower)


def test_status_filters_and_overdue(archivist, borrower, east, make_user):
    # Given one loan returned, one open and one overdue
    returned = _lend(archivist, make_customer(archivist, name="甲", phone="13800000001", region=east), borrower)
    archive_loan_return(actor=archivist, loan=returned)
    open_ = _lend(archivist, make_customer(archivist, name="乙", phone="13800000002", region=east), borrower)
    late = _lend(archivist, make_customer(archivist, name="丙", phone="13800000003", region=east), borrower)
    ArchiveLoan.objects.filter(pk=late.pk).update(due_on=TODAY() - datetime.timedelta(days=1))
    late.refresh_from_db()

    def pks(status):
        return set(loan_list(archivist, status=status).values_list("pk", flat=True))

    assert pks("") == {returned.pk, open_.pk, late.pk}
    assert pks("open") == {open_.pk, late.pk}
    assert pks("returned") == {returned.pk}
    assert pks("overdue") == {late.pk}
    assert set(overdue_loans(archivist).values_list("pk", flat=True)) == {late.pk}
    # Due today is not overdue yet; tomorrow it is
    assert not is_overdue(open_) and is_overdue(late)
    assert overdue_loans(archivist, today=open_.due_on + datetime.timedelta(days=1)).count() == 2


def test_who_sees_the_lending_log(make_user, archivist, borrower, customer):
    loan = _lend(archivist, customer, borrower)
    director = make_user("director", username="director", scope_all=True)
    agent = make_user("agent", username="agent", scope_all=True)
    west_archivist = make_user("archivist", username="west", region=RegionFactory(code="west"), scope_all=False)
    assert list(loan_list(director)) == [loan]
    assert list(overdue_loans(agent)) == [] and list(loan_list(agent)) == []
    assert list(loan_list(west_archivist)) == []


def test_loans_of_one_customer(make_user, archivist, borrower, customer):
    first = _lend(archivist, customer, borrower)
    archive_loan_return(actor=archivist, loan=first)
    second = _lend(archivist, customer, borrower)
    assert list(loans_for_customer(archivist, customer)) == [second, first]
    # Someone who sees the archive but not the lending log gets no loans
    agent = make_user("agent", username="agent", scope_all=True)
    assert list(loans_for_customer(agent, customer)) == []
    with pytest.raises(AccessDenied):
        loans_for_customer(make_user("department_staff", username="dept"), customer)
