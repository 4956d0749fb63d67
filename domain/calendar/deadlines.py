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


def china_time(moment: datetime) -> datetime:
    """Return a moment in Beijing time; a naive one is read as a Beijing wall-clock time."""
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment.astimezone(CHINA)


def working_days_deadline(calendar: WorkingCalendar, now: datetime, days: int) -> datetime:
    """Return the end of the `days`-th working day after today (Beijing time) as an aware datetime."""
    if days < 0:
        raise ValueError("a deadline counts forward: days must not be negative")
    today = china_day(now)
    return china_time(datetime.combine(calendar.add_working_days(today, int(days)), END_OF_DAY))


def working_days_function(calendar_source: Callable[[], WorkingCalendar]):
    """Return a script-function factory: now -> working_days(n), giving an ISO deadline string."""

    def bind(now: datetime):
        def working_days(days: int) -> str:
            return working_days_deadline(calendar_source(), now, days).isoformat()

        return working_days

    return bind
