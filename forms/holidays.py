"""The holiday schedule form: a year's days off as date ranges, and its make-up working days.

One entry a line: holidays as ``2027-02-06 ~ 2027-02-12 春节`` (or one date), make-up working days
as ``2027-02-14 春节``. The form reads the lines; the rules between dates are the domain's.
"""

import re
from datetime import date
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from domain.calendar.holidays import expand_ranges

MAX_LINES = 100
HOLIDAY_LINE = re.compile(r"^(\S+)(?:\s*(?:~|～|至|到)\s*(\S+))?(?:\s+(.*))?$")
WORKDAY_LINE = re.compile(r"^(\S+)(?:\s+(.*))?$")


def _day(text: str, number: int) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            _l("Line %(line)d: %(value)s is not a date; write it as 2027-02-06.", line=number, value=text)
        ) from None


def _lines(text: str | None) -> list[tuple[int, str]]:
    lines = [(n, line.strip()) for n, line in enumerate((text or "").splitlines(), start=1) if line.strip()]
    if len(lines) > MAX_LINES:
        raise ValidationError(_l("Enter at most %(count)d lines.", count=MAX_LINES))
    return lines


def _name(text: str | None) -> str:
    return (text or "").strip()[:64]


def holiday_ranges(text: str | None) -> list[tuple[date, date, str]]:
    """Read the holiday lines: a date or a range of dates, then the holiday's name."""
    ranges = []
    for number, line in _lines(text):
        match = HOLIDAY_LINE.match(line)
        first = _day(match.group(1), number)
        last = _day(match.group(2), number) if match.group(2) else first
        if last < first:
            raise ValidationError(_l("Line %(line)d: the range ends before it starts.", line=number))
        if last - first > timedelta(days=31):
            raise ValidationError(_l("Line %(line)d: a holiday lasts at most 31 days.", line=number))
        ranges.append((first, last, _name(match.group(3))))
    return ranges


def workday_dates(text: str | None) -> dict[date, str]:
    """Read the make-up working day lines: a date, then the holiday it makes up for."""
    days = {}
    for number, line in _lines(text):
        match = WORKDAY_LINE.match(line)
        days[_day(match.group(1), number)] = _name(match.group(2))
    return days


class HolidayScheduleForm(FlaskForm):
    """A year's schedule as the State Council publishes it; `confirmed` is set by the preview's button."""

    holidays = TextAreaField(_l("Holidays: one date or range a line, then the name"))
    workdays = TextAreaField(
        _l("Make-up working days (a Saturday or Sunday): one date a line, then the name")
    )
    confirmed = HiddenField()

    def validate_holidays(self, field) -> None:
        holiday_ranges(field.data)

    def validate_workdays(self, field) -> None:
        workday_dates(field.data)

    def schedule(self, year: int) -> tuple[dict[date, str], dict[date, str]]:
        """Return the entered (holidays, workdays); call after validate. Raise CalendarError on a clash."""
        workdays = workday_dates(self.workdays.data)
        return expand_ranges(year, holiday_ranges(self.holidays.data), workdays), workdays


def schedule_text(holidays: dict[date, str], workdays: dict[date, str]) -> dict[str, str]:
    """Return a stored schedule as the form's lines, each run of days off with one name as a range."""
    runs: list[list] = []
    for day in sorted(holidays):
        name = holidays[day]
        if runs and runs[-1][2] == name and _only_weekends_between(runs[-1][1], day):
            runs[-1][1] = day
        else:
            runs.append([day, day, name])
    holiday_lines = [
        " ".join(filter(None, [f"{a} ~ {b}" if a != b else f"{a}", name])) for a, b, name in runs
    ]
    workday_lines = [" ".join(filter(None, [day.isoformat(), workdays[day]])) for day in sorted(workdays)]
    return {"holidays": "\n".join(holiday_lines), "workdays": "\n".join(workday_lines)}


def _only_weekends_between(a: date, b: date) -> bool:
    return all((a + timedelta(days=n)).weekday() >= 5 for n in range(1, (b - a).days))
