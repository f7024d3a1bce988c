"""Masking phone and ID numbers, and the audited reveal."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.core.errors import AccessDenied
from kefu.core.models import AuditEvent
from kefu.core.pii import mask_id_number, mask_phone, reveal


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 13812345678", "138****5678"),
        ("008613812345678", "008********5678"),
        ("02988886666", "029****6666"),
        ("88886666", "88****66"),
        ("12345", "****5"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("110101199003071234", "110101********1234"),
        ("91610000MA6TG1234X", "916100********234X"),
        ("G12345678", "G1*****78"),
        ("abc", "***"),
        ("", ""),
    ],
)
def test_mask_id_number(raw, masked):
    assert mask_id_number(raw) == masked


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_a_masked_phone_hides_at_least_a_third_of_the_digits(digits):
    masked = mask_phone(digits)
    assert len(masked) == len(digits)
    assert masked.count("*") * 3 >= len(digits)


@pytest.mark.django_db
def test_reveal_is_audited_for_a_permitted_user(make_user):
    boss = make_user("manager", scope_all=True)
    staff = make_user(phone="13812345678")
    assert reveal(user=boss, obj=staff, field="phone", value=staff.phone) == "13812345678"
    event = AuditEvent.objects.get()
    assert event.code == "user.phone.revealed" and event.actor == boss and event.object_id == str(staff.pk)


@pytest.mark.django_db
def test_reveal_is_refused_and_unrecorded_without_the_permission(make_user):
    agent = make_user("agent")
    staff = make_user(phone="13812345678")
    with pytest.raises(AccessDenied):
        reveal(user=agent, obj=staff, field="phone", value=staff.phone)
    assert not AuditEvent.objects.exists()
