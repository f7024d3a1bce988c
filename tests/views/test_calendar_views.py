"""Calendar pages: managers edit, everyone else looks."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import AuditEvent, CalendarDay, CalendarYear, WorkingHours
from kefu.core.services.calendar import calendar_seed
from tests.factories import DepartmentFactory
from tests.factories_calendar import CalendarDayFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def seeded(db):
    return calendar_seed(years=[2026])


@pytest.fixture
def agent_client(client, make_user):
    client.force_login(make_user("agent", username="agent"))
    return client


def content(response):
    return response.content.decode()


# -- year page -------------------------------------------------------------------------


def test_manager_sees_the_year_with_edit_buttons(manager_client, seeded):
    response = manager_client.get(reverse("calendar:year", args=[2026]))

    assert response.status_code == 200
    page = content(response)
    assert 'data-testid="calendar-day-2026-10-01"' in page and "国庆节" in page
    assert 'data-testid="calendar-day-2026-09-20"' in page and "调休上班" in page
    assert 'data-testid="calendar-seed"' in page and 'data-testid="calendar-day-add"' in page
    assert reverse("calendar:day_edit", args=[CalendarDay.objects.get(date=D(2026, 10, 1)).pk]) in page


def test_agent_sees_the_year_without_edit_buttons(agent_client, seeded):
    response = agent_client.get(reverse("calendar:year", args=[2026]))

    assert response.status_code == 200
    page = content(response)
    assert 'data-testid="calendar-day-2026-10-01"' in page
    assert 'data-testid="calendar-seed"' not in page
    assert 'data-testid="calendar-day-add"' not in page
    assert "/edit/" not in page and "/delete/" not in page


def test_index_shows_the_current_year(manager_client, seeded):
    response = manager_client.get(reverse("calendar:index"))
    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year


def test_a_year_without_data_warns_and_offers_confirmation(manager_client, seeded):
    response = manager_client.get(reverse("calendar:year", args=[2027]))

    page = content(response)
    assert "2027 年的法定节假日尚未维护，截止时间按周末计算，请在工作日历中补充。" in page
    assert 'data-testid="calendar-year-confirm"' in page


def test_agent_is_not_offered_the_year_confirmation(agent_client, seeded):
    page = content(agent_client.get(reverse("calendar:year", args=[2027])))
    assert "2027 年的法定节假日尚未维护" in page
    assert 'data-testid="calendar-year-confirm"' not in page


def test_year_out_of_range_is_not_found(manager_client):
    assert manager_client.get(reverse("calendar:year", args=[3000])).status_code == 404


def test_year_page_query_count_does_not_grow_with_days(manager_client, seeded, django_assert_max_num_queries):
    for offset in range(60):
        CalendarDayFactory(date=D(2026, 3, 1) + datetime.timedelta(days=offset), source="manual")
    with django_assert_max_num_queries(12):
        response = manager_client.get(reverse("calendar:year", args=[2026]))
    assert response.status_code == 200


# -- days ------------------------------------------------------------------------------


def test_manager_adds_a_day(manager_client, seeded):
    response = manager_client.post(
        reverse("calendar:day_add"), {"date": "2026-11-16", "kind": "holiday", "name": "公司年会"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("calendar:year", args=[2026])
    day = CalendarDay.objects.get(date=D(2026, 11, 16))
    assert (day.kind, day.name, day.source) == ("holiday", "公司年会", "manual")
    assert AuditEvent.objects.filter(code="calendar_day.created").count() == 1


def test_add_form_prefills_the_date(manager_client):
    response = manager_client.get(reverse("calendar:day_add") + "?date=2027-01-01")
    assert response.status_code == 200
    assert 'value="2027-01-01"' in content(response)


def test_add_with_invalid_data_shows_errors_and_writes_nothing(manager_client):
    response = manager_client.post(reverse("calendar:day_add"), {"date": "not-a-date", "kind": "holiday"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not CalendarDay.objects.exists() and not AuditEvent.objects.exists()


def test_manager_edits_a_seeded_day(manager_client, seeded):
    day = CalendarDay.objects.get(date=D(2026, 10, 7))

    response = manager_client.post(
        reverse("calendar:day_edit", args=[day.pk]), {"date": "2030-01-01", "kind": "workday", "name": "上班"}
    )

    assert response.status_code == 302
    day.refresh_from_db()
    # The date is fixed on edit; the row becomes manual.
    assert (day.date, day.kind, day.name, day.source) == (D(2026, 10, 7), "workday", "上班", "manual")


def test_delete_asks_before_deleting(manager_client, seeded):
    day = CalendarDay.objects.get(date=D(2026, 10, 7))

    response = manager_client.get(reverse("calendar:day_delete", args=[day.pk]))

    assert response.status_code == 200
    assert 'data-testid="calendar-day-delete-confirm"' in content(response)
    assert CalendarDay.objects.filter(pk=day.pk).exists()


def test_manager_deletes_a_day(manager_client, seeded):
    day = CalendarDay.objects.get(date=D(2026, 10, 7))

    response = manager_client.post(reverse("calendar:day_delete", args=[day.pk]))

    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()
    assert AuditEvent.objects.filter(code="calendar_day.deleted").count() == 1


def test_agent_cannot_add_edit_or_delete(agent_client, seeded):
    day = CalendarDay.objects.get(date=D(2026, 10, 7))
    before = AuditEvent.objects.count()

    responses = [
        agent_client.get(reverse("calendar:day_add")),
        agent_client.post(reverse("calendar:day_add"), {"date": "2026-11-16", "kind": "holiday"}),
        agent_client.post(reverse("calendar:day_edit", args=[day.pk]), {"kind": "workday", "name": "x"}),
        agent_client.post(reverse("calendar:day_delete", args=[day.pk])),
        agent_client.post(reverse("calendar:seed"), {"year": "2026"}),
        agent_client.post(reverse("calendar:year_confirm", args=[2027])),
    ]

    assert [r.status_code for r in responses] == [403] * 6
    day.refresh_from_db()
    assert (day.kind, day.source) == ("holiday", "seed")
    assert not CalendarDay.objects.filter(date=D(2026, 11, 16)).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert AuditEvent.objects.count() == before


# -- seed and confirm --------------------------------------------------------------------


def test_seed_button_reloads_a_year(manager_client):
    response = manager_client.post(reverse("calendar:seed"), {"year": "2026"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("calendar:year", args=[2026])
    assert "已从 chinese-calendar 导入 2026 年：新增 39 天" in content(response)
    assert CalendarDay.objects.filter(date__year=2026).count() == 39


def test_seed_button_reports_an_unsupported_year(manager_client):
    response = manager_client.post(reverse("calendar:seed"), {"year": "2027"}, follow=True)

    assert "已安装的 chinese-calendar 没有 2027 年的数据" in content(response)
    assert not CalendarDay.objects.exists() and not AuditEvent.objects.exists()


def test_seed_needs_post(manager_client):
    assert manager_client.get(reverse("calendar:seed")).status_code == 405
    assert not CalendarDay.objects.exists()


def test_manager_confirms_a_hand_maintained_year(manager_client, seeded):
    response = manager_client.post(reverse("calendar:year_confirm", args=[2027]), follow=True)

    assert CalendarYear.objects.get(year=2027).source == "manual"
    assert 'data-testid="calendar-year-confirm"' not in content(response)
    assert "2027 年的法定节假日尚未维护" not in content(response)


# -- calculator --------------------------------------------------------------------------


def test_calculator_on_the_year_page(agent_client, seeded):
    response = agent_client.get(
        reverse("calendar:year", args=[2026]),
        {"start": "2026-09-18T17:30", "minutes": "480", "end": "2026-09-21T10:00"},
    )

    page = content(response)
    assert response.context["calc_result"]["deadline"].isoformat() == "2026-09-20T18:00:00+08:00"
    # 30 minutes on Friday, the 调休 Sunday in full, one hour on Monday.
    assert response.context["calc_result"]["between"] == 30 + 450 + 60
    assert "2026-09-20 18:00" in page


def test_calculator_partial_for_htmx(client, make_user, seeded):
    department = DepartmentFactory(code="counter")
    WorkingHoursFactory(department=department, weekdays="1234567")
    client.force_login(make_user("agent", department=department))

    response = client.get(
        reverse("calendar:calculate"),
        {"start": "2026-09-11T17:30", "minutes": "60", "department": department.pk},
    )

    assert response.status_code == 200
    assert 'data-testid="calculator-deadline"' in content(response)
    assert response.context["calc_result"]["deadline"].isoformat() == "2026-09-12T09:30:00+08:00"


def test_calculator_refuses_an_unknown_or_inactive_department(agent_client, seeded):
    closed = DepartmentFactory(code="closed", is_active=False)

    for department_id in (closed.pk, 987654):
        response = agent_client.get(
            reverse("calendar:calculate"), {"start": "2026-09-11T17:30", "minutes": "60", "department": department_id}
        )

        assert response.context["calc_result"] is None
        assert 'data-testid="calculator-deadline"' not in content(response)


def test_calculator_without_minutes_or_end_explains(agent_client):
    response = agent_client.get(reverse("calendar:calculate"), {"start": "2026-09-11T17:30"})
    assert "请填写工作分钟数或结束时间。" in content(response)


def test_calculator_warns_for_years_without_data(agent_client, seeded):
    response = agent_client.get(reverse("calendar:calculate"), {"start": "2026-12-31T17:30", "minutes": "480"})
    assert "2027 年的法定节假日尚未维护" in content(response)


# -- working hours -----------------------------------------------------------------------


def test_hours_page_lists_default_and_departments(agent_client, manager, make_user):
    counter = DepartmentFactory(code="counter", name="服务台")
    DepartmentFactory(code="repair", name="维修部")
    WorkingHoursFactory(department=counter, weekdays="1234567")
    manager_view = make_user("manager", username="boss", scope_all=True)
    agent_client.force_login(manager_view)

    page = content(agent_client.get(reverse("calendar:hours")))

    assert 'data-testid="working-hours-default"' in page
    assert 'data-testid="working-hours-counter"' in page and "周一、周二、周三、周四、周五、周六、周日" in page
    assert 'data-testid="working-hours-repair"' in page and "沿用默认" in page
    assert 'data-testid="working-hours-default-edit"' in page


def test_agent_sees_every_departments_hours_without_edit(client, make_user):
    """Working hours are reference data (an agent promising a repair time needs the repair
    department's hours); only changing them needs the calendar permission."""
    own = DepartmentFactory(code="own", name="本部门")
    DepartmentFactory(code="other", name="其他部门")
    client.force_login(make_user("agent", department=own))

    page = content(client.get(reverse("calendar:hours")))

    assert 'data-testid="working-hours-own"' in page
    assert 'data-testid="working-hours-other"' in page
    assert 'data-testid="working-hours-default-edit"' not in page


def test_manager_sets_default_hours(manager_client):
    response = manager_client.post(
        reverse("calendar:hours_default"),
        {
            "morning_start": "08:30",
            "morning_end": "12:00",
            "afternoon_start": "13:00",
            "afternoon_end": "17:30",
            "weekdays": ["1", "2", "3", "4", "5", "6"],
        },
    )

    assert response.status_code == 302
    row = WorkingHours.objects.get(department__isnull=True)
    assert (row.morning_start, row.weekdays) == (datetime.time(8, 30), "123456")


def test_hours_form_shows_service_errors_in_chinese(manager_client):
    response = manager_client.post(
        reverse("calendar:hours_default"),
        {
            "morning_start": "09:00",
            "morning_end": "12:00",
            "afternoon_start": "11:00",
            "afternoon_end": "18:00",
            "weekdays": ["1"],
        },
    )

    assert response.status_code == 200
    assert "下午上班时间不能早于上午下班时间。" in content(response)
    assert not WorkingHours.objects.exists() and not AuditEvent.objects.exists()


def test_manager_sets_and_resets_department_hours(manager_client):
    counter = DepartmentFactory(code="counter")
    form = {
        "morning_start": "08:00",
        "morning_end": "12:00",
        "afternoon_start": "14:00",
        "afternoon_end": "17:00",
        "weekdays": list("1234567"),
    }

    assert manager_client.post(reverse("calendar:hours_department", args=[counter.pk]), form).status_code == 302
    assert WorkingHours.objects.get(department=counter).weekdays == "1234567"

    confirm = manager_client.get(reverse("calendar:hours_reset", args=[counter.pk]))
    assert confirm.status_code == 200 and WorkingHours.objects.filter(department=counter).exists()

    assert manager_client.post(reverse("calendar:hours_reset", args=[counter.pk])).status_code == 302
    assert not WorkingHours.objects.filter(department=counter).exists()


def test_agent_cannot_change_hours(agent_client):
    counter = DepartmentFactory(code="counter")
    WorkingHoursFactory(department=counter)
    form = {
        "morning_start": "08:00",
        "morning_end": "12:00",
        "afternoon_start": "14:00",
        "afternoon_end": "17:00",
        "weekdays": ["1"],
    }

    assert agent_client.post(reverse("calendar:hours_default"), form).status_code == 403
    assert agent_client.post(reverse("calendar:hours_department", args=[counter.pk]), form).status_code == 403
    assert agent_client.post(reverse("calendar:hours_reset", args=[counter.pk])).status_code == 403
    assert WorkingHours.objects.get(department=counter).weekdays == "12345"
    assert not WorkingHours.objects.filter(department__isnull=True).exists()
    assert not AuditEvent.objects.exists()


def test_admin_without_scope_still_maintains_every_department(client, make_user):
    far = DepartmentFactory(code="far")
    client.force_login(make_user("admin", username="admin-user"))

    response = client.get(reverse("calendar:hours_department", args=[far.pk]))

    assert response.status_code == 200


def test_hours_page_query_count_does_not_grow_with_departments(manager_client, django_assert_max_num_queries):
    for n in range(30):
        department = DepartmentFactory(code=f"d{n}")
        if n % 2:
            WorkingHoursFactory(department=department, weekdays="123456")
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("calendar:hours"))
    assert len(response.context["entries"]) == 30
