"""A year's holiday schedule entered by an administrator: deadlines count on it, open tasks move with it."""

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time

from domain.calendar.deadlines import CHINA
from domain.calendar.deadlines import recount_deadline
from domain.calendar.deadlines import working_days_deadline
from domain.calendar.holidays import WorkingCalendar
from domain.calendar.holidays import expand_ranges
from forms.holidays import schedule_text
from services.holidays import preview_year_schedule
from services.holidays import save_year_schedule

HOLIDAYS_2027 = expand_ranges(
    2027, [(date(2027, 1, 1), date(2027, 1, 1), "元旦"), (date(2027, 2, 8), date(2027, 2, 14), "春节")], {}
)
WORKDAYS_2027 = {date(2027, 2, 6): "春节", date(2027, 2, 20): "春节"}


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=CHINA)


def test_a_2027_schedule_entered_by_an_admin_gives_the_working_day_deadlines(rt, admin, session_factory):
    assert preview_year_schedule(rt, 2027, HOLIDAYS_2027, WORKDAYS_2027) == []
    save_year_schedule(rt, admin, 2027, HOLIDAYS_2027, WORKDAYS_2027)
    with session_factory() as session:
        calendar = WorkingCalendar.load(session)
    assert calendar.years_without_schedule([2026, 2027]) == []
    new_year_eve = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    assert working_days_deadline(calendar, new_year_eve, 5) == end_of(date(2027, 1, 7))
    before_festival = datetime(2027, 2, 5, 2, 0, tzinfo=UTC)
    assert working_days_deadline(calendar, before_festival, 5) == end_of(date(2027, 2, 18))


def test_a_deadline_keeps_its_working_day_count_on_the_new_calendar():
    weekends_only = WorkingCalendar(set(), set(), set())
    entered = weekends_only.with_year(2027, HOLIDAYS_2027, WORKDAYS_2027)
    created = datetime(2027, 2, 5, 9, tzinfo=CHINA)
    moved = recount_deadline(weekends_only, entered, created, end_of(date(2027, 2, 12)))
    assert moved == end_of(date(2027, 2, 18))


def test_a_stored_schedule_reads_back_as_ranges_of_days_off():
    lines = schedule_text(HOLIDAYS_2027, WORKDAYS_2027)
    assert lines["holidays"] == "2027-01-01 元旦\n2027-02-08 ~ 2027-02-12 春节"
    assert lines["workdays"] == "2027-02-06 春节\n2027-02-20 春节"
