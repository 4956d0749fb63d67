"""The working-day calendar: seeded from chinese-calendar, edited by an admin, weekends only beyond."""

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import chinese_calendar
import pytest
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.base import Base
from domain.calendar.deadlines import CHINA
from domain.calendar.deadlines import china_day
from domain.calendar.deadlines import china_time
from domain.calendar.holidays import CalendarDay
from domain.calendar.holidays import CalendarError
from domain.calendar.holidays import CalendarYear
from domain.calendar.holidays import WorkingCalendar
from domain.calendar.holidays import YearStatus
from domain.calendar.holidays import calendar_status
from domain.calendar.holidays import seed_from_package
from domain.calendar.holidays import set_year_schedule

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[CalendarDay.__table__, CalendarYear.__table__])
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def seeded(session):
    seed_from_package(session, range(2024, 2028), clock=fixed_clock)
    session.commit()
    return session


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_count(session) -> int:
    return session.scalar(select(func.count()).select_from(CalendarDay))


def test_national_day_2025_week_is_off_and_its_makeup_weekends_are_worked(seeded):
    calendar = WorkingCalendar.load(seeded)
    assert not any(calendar.is_working_day(d) for d in days(date(2025, 10, 1), date(2025, 10, 8)))
    assert calendar.is_working_day(date(2025, 9, 28))  # a Sunday, worked
    assert calendar.is_working_day(date(2025, 10, 11))  # a Saturday, worked
    assert not calendar.is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    for d in days(date(2025, 9, 15), date(2025, 10, 31)):
        assert calendar.is_working_day(d) == chinese_calendar.is_workday(d), d


def test_every_seeded_day_agrees_with_chinese_calendar(seeded):
    calendar = WorkingCalendar.load(seeded)
    for d in days(date(2024, 1, 1), date(2026, 12, 31)):
        assert calendar.is_working_day(d) == chinese_calendar.is_workday(d), d


def test_spring_festival_2026_is_off_and_its_makeup_saturdays_are_worked(seeded):
    calendar = WorkingCalendar.load(seeded)
    assert not any(calendar.is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert calendar.is_working_day(date(2026, 2, 14))
    assert calendar.is_working_day(date(2026, 2, 28))
    assert calendar.is_working_day(date(2026, 2, 24))
    names = seeded.scalars(select(CalendarDay.name).where(CalendarDay.day == date(2026, 2, 16)))
    assert names.one() == "Spring Festival"


def test_five_working_days_from_2025_09_30_skip_national_day_and_count_the_makeup_saturday(seeded):
    calendar = WorkingCalendar.load(seeded)
    # 10-09 Thu, 10-10 Fri, 10-11 Sat (make-up), 10-13 Mon, 10-14 Tue
    assert calendar.add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)
    assert chinese_calendar.find_workday(5, date(2025, 9, 30)) == date(2025, 10, 14)


def test_zero_working_days_is_start_on_a_working_day_else_the_next_one(seeded):
    calendar = WorkingCalendar.load(seeded)
    assert calendar.add_working_days(date(2025, 9, 30), 0) == date(2025, 9, 30)
    assert calendar.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 9)


def test_negative_working_days_are_refused(seeded):
    with pytest.raises(ValueError, match="-1"):
        WorkingCalendar.load(seeded).add_working_days(date(2025, 9, 30), -1)


def test_deadline_running_into_2027_counts_weekends_only_and_reports_2027(seeded):
    calendar = WorkingCalendar.load(seeded)
    # 12-28..12-31 (4), 2027-01-01 Fri (5, no schedule so not a holiday), 01-04..01-08 (10)
    assert calendar.add_working_days(date(2026, 12, 25), 10) == date(2027, 1, 8)
    assert calendar.years_without_schedule([2026, 2027]) == [2027]
    assert calendar.add_working_days(date(2027, 12, 30), 3) == date(2028, 1, 4)
    assert calendar.is_working_day(date(2028, 10, 2))


def test_seeding_skips_years_the_package_does_not_know(session):
    assert seed_from_package(session, [2026, 2027, 2028], clock=fixed_clock) == [2026]
    assert [s.year for s in calendar_status(session, [2026, 2027]) if s.weekends_only] == [2027]


def test_seeding_twice_stores_no_duplicates(session):
    assert seed_from_package(session, [2025, 2026], clock=fixed_clock) == [2025, 2026]
    stored = day_count(session)
    assert seed_from_package(session, [2025, 2026], clock=fixed_clock) == []
    session.commit()
    assert day_count(session) == stored
    assert session.scalar(select(func.count()).select_from(CalendarYear)) == 2


def test_admin_schedule_for_2027_replaces_the_fallback_and_survives_a_later_seed(seeded):
    set_year_schedule(
        seeded,
        2027,
        holidays={date(2027, 1, 1): "元旦", date(2027, 2, 8): "春节"},
        workdays={date(2027, 2, 6): "春节"},
        by="admin",
        now=NOW,
    )
    seeded.commit()
    assert seed_from_package(seeded, [2027], clock=fixed_clock) == []
    calendar = WorkingCalendar.load(seeded)
    assert calendar.years_without_schedule([2026, 2027]) == []
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 2, 6))
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    record = seeded.get(CalendarYear, 2027)
    assert (record.source, record.updated_by, record.updated_at) == ("admin", "admin", NOW)


def test_admin_edit_of_a_package_year_is_not_overwritten_by_a_later_seed(seeded):
    set_year_schedule(seeded, 2026, {date(2026, 1, 2): "New Year's Day"}, {}, by="admin", now=NOW)
    seeded.commit()
    assert seed_from_package(seeded, [2026], clock=fixed_clock) == []
    calendar = WorkingCalendar.load(seeded)
    assert not calendar.is_working_day(date(2026, 1, 2))
    assert calendar.is_working_day(date(2026, 10, 1))  # the admin schedule lists no National Day
    assert calendar_status(seeded, [2026]) == [YearStatus(2026, "admin", 1, 0, False)]


def test_admin_dates_outside_the_year_or_on_the_wrong_weekday_are_refused_by_name(seeded):
    stored = day_count(seeded)
    with pytest.raises(CalendarError) as refused:
        set_year_schedule(
            seeded,
            2027,
            holidays={date(2026, 12, 31): "x", date(2027, 1, 2): "元旦", date(2027, 1, 1): "元旦"},
            workdays={date(2027, 2, 8): "春节"},
            by="admin",
            now=NOW,
        )
    problems = {problem.code: problem.params["dates"] for problem in refused.value.problems}
    assert problems == {
        "calendar_not_in_year": "2026-12-31",
        "calendar_holiday_on_weekend": "2027-01-02",
        "calendar_workday_on_weekday": "2027-02-08",
    }
    assert refused.value.dates == (date(2026, 12, 31), date(2027, 1, 2), date(2027, 2, 8))
    seeded.commit()
    assert day_count(seeded) == stored
    assert seeded.get(CalendarYear, 2027) is None


def test_working_days_between_counts_days_after_the_first_up_to_the_second(seeded):
    calendar = WorkingCalendar.load(seeded)
    assert calendar.working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5
    assert calendar.working_days_between(date(2025, 10, 14), date(2025, 9, 30)) == -5
    assert calendar.working_days_between(date(2025, 10, 3), date(2025, 10, 3)) == 0
    assert calendar.working_days_between(date(2025, 10, 1), date(2025, 10, 8)) == 0


def test_working_days_between_undoes_add_working_days_across_years(seeded):
    calendar = WorkingCalendar.load(seeded)
    for start in days(date(2024, 12, 20), date(2025, 2, 20)) + days(date(2026, 12, 15), date(2027, 1, 15)):
        for n in (1, 5, 20, 300):
            end = calendar.add_working_days(start, n)
            assert calendar.is_working_day(end)
            assert calendar.working_days_between(start, end) == n, (start, n)


def test_loading_some_years_leaves_the_others_weekends_only(seeded):
    calendar = WorkingCalendar.load(seeded, years=[2026])
    assert calendar.years_without_schedule([2025, 2026]) == [2025]
    assert calendar.is_working_day(date(2025, 10, 1))  # a Wednesday; 2025 was not loaded
    assert not calendar.is_working_day(date(2026, 10, 1))


def test_calendar_status_shows_source_counts_and_the_weekends_only_years(seeded):
    package_2025 = [d for d in chinese_calendar.holidays if d.year == 2025 and d.weekday() < 5]
    status = calendar_status(seeded, [2027, 2025, 2025])
    assert status == [
        YearStatus(2025, "chinese-calendar", len(package_2025), 5, False),
        YearStatus(2027, None, 0, 0, True),
    ]


def test_a_moment_after_16_utc_is_already_the_next_day_in_china():
    late = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert china_day(late) == date(2027, 1, 1)
    assert china_time(late) == late and china_time(late).tzinfo is CHINA


def test_a_naive_time_is_read_as_beijing_wall_clock_time():
    assert china_time(datetime(2026, 5, 6, 9, 0)) == datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
