"""Deadlines in China's time zone, counted in working days of the holiday calendar."""

from collections.abc import Callable
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone

from domain.calendar.holidays import WorkingCalendar

CHINA = timezone(timedelta(hours=8), "CST")
END_OF_DAY = time(23, 59, 59)


def china_day(moment: datetime) -> date:
    """Return the calendar date in China (Beijing time) of a moment."""
    return moment.astimezone(CHINA).date()


MAX_WORKING_DAYS = 25_000  # about 100 years, the longest timer a diagram may set


class DayCountOutOfRange(ValueError):
    """A count of working days outside 0..MAX_WORKING_DAYS: no deadline is that far, or behind."""


def china_time(moment: datetime) -> datetime:
    """Return a moment in Beijing time; a naive one is read as a Beijing wall-clock time."""
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment.astimezone(CHINA)


def working_days_deadline(calendar: WorkingCalendar, now: datetime, days: int) -> datetime:
    """Return the end of the `days`-th working day after today (Beijing time) as an aware datetime."""
    if not isinstance(days, int) or isinstance(days, bool):
        raise DayCountOutOfRange(f"working days are counted in whole numbers, not {days!r}")
    if not 0 <= days <= MAX_WORKING_DAYS:
        raise DayCountOutOfRange(f"a deadline is 0 to {MAX_WORKING_DAYS:,} working days ahead, not {days:,}")
    today = china_day(now)
    return china_time(datetime.combine(calendar.add_working_days(today, int(days)), END_OF_DAY))


def working_days_function(calendar_source: Callable[[], WorkingCalendar]):
    """Return a script-function factory: now -> working_days(n), giving an ISO deadline string."""

    def bind(now: datetime):
        def working_days(days: int) -> str:
            return working_days_deadline(calendar_source(), now, days).isoformat()

        return working_days

    return bind


def recount_deadline(
    old: WorkingCalendar, new: WorkingCalendar, created_at: datetime, due_at: datetime
) -> datetime:
    """Return a working-days deadline counted again on a new calendar: as many working days after creation.

    Every due rule of the bundled diagrams is `working_days(n)` from the day the task was made, so
    the n a deadline was set with is the old calendar's count from that day to the due day.
    """
    start, due = china_day(created_at), china_time(due_at)
    days = max(old.working_days_between(start, due.date()), 0)
    return datetime.combine(new.add_working_days(start, days), due.timetz())
