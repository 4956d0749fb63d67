"""The Chinese working-day calendar: holidays and make-up workdays as data, and counting on them.

Only the exceptions to the weekend rule are stored: a "holiday" is a weekday that is off, a
"workday" is a weekend day that is worked. A year without a row in calendar_year has no schedule
and falls back to weekends only; it is reported, never an error.
"""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta

import chinese_calendar
from sqlalchemy import CheckConstraint
from sqlalchemy import String
from sqlalchemy import delete
from sqlalchemy import extract
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.base import Base
from domain.refusals import Refusal
from infra.clock import Clock
from infra.clock import system_clock

HOLIDAY = "holiday"
WORKDAY = "workday"
SOURCE_PACKAGE = "chinese-calendar"
SOURCE_ADMIN = "admin"


class CalendarProblem(Refusal):
    """One rule a holiday schedule breaks; ``params["dates"]`` lists the offending dates."""


class CalendarError(Refusal):
    """A holiday schedule that was not saved; `problems` name the offending dates."""

    def __init__(self, year: int, problems: list[CalendarProblem]) -> None:
        self.problems = problems
        self.dates = tuple(sorted({d for problem in problems for d in problem.params["days"]}))
        super().__init__("calendar_not_saved", year=year, problems=len(problems))


class CalendarDay(Base):
    """One exception to the weekend rule: a weekday off or a weekend day worked."""

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint(f"kind IN ('{HOLIDAY}', '{WORKDAY}')", name="kind"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(64))


class CalendarYear(Base):
    """A year whose schedule is known, where it came from and who last set it."""

    __tablename__ = "calendar_year"
    __table_args__ = (CheckConstraint(f"source IN ('{SOURCE_PACKAGE}', '{SOURCE_ADMIN}')", name="source"),)

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class YearStatus:
    """What the admin page shows of one year's schedule."""

    year: int
    source: str | None
    holiday_count: int
    workday_count: int
    weekends_only: bool
    updated_by: str | None = field(default=None, compare=False)
    updated_at: datetime | None = field(default=None, compare=False)


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


def _package_schedule(year: int) -> tuple[dict[date, str], dict[date, str]] | None:
    """Return the package's (holidays, workdays) exceptions of a year, or None if it has none."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    holidays = {d: n for d, n in chinese_calendar.holidays.items() if d.year == year and not _is_weekend(d)}
    workdays = {d: n for d, n in chinese_calendar.workdays.items() if d.year == year and _is_weekend(d)}
    return holidays, workdays


def _replace_days(session: Session, year: int, holidays: dict[date, str], workdays: dict[date, str]) -> None:
    session.execute(delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    session.add_all(CalendarDay(day=d, kind=HOLIDAY, name=n or None) for d, n in holidays.items())
    session.add_all(CalendarDay(day=d, kind=WORKDAY, name=n or None) for d, n in workdays.items())


def _known_years(session: Session, years: Iterable[int]) -> dict[int, CalendarYear]:
    rows = session.scalars(select(CalendarYear).where(CalendarYear.year.in_(set(years))))
    return {row.year: row for row in rows}


def seed_from_package(session: Session, years: Iterable[int], clock: Clock = system_clock) -> list[int]:
    """Store chinese-calendar's schedule for those years that have none yet; return the years seeded."""
    wanted = sorted(set(years))
    already = _known_years(session, wanted)
    seeded = []
    for year in wanted:
        schedule = None if year in already else _package_schedule(year)
        if schedule is None:
            continue
        _replace_days(session, year, *schedule)
        session.add(CalendarYear(year=year, source=SOURCE_PACKAGE, updated_at=clock(), updated_by=None))
        seeded.append(year)
    session.flush()
    return seeded


def _listed(dates: Iterable[date]) -> dict:
    days = sorted(dates)
    return {"days": days, "dates": ", ".join(d.isoformat() for d in days)}


def _schedule_problems(
    year: int, holidays: dict[date, str], workdays: dict[date, str]
) -> list[CalendarProblem]:
    in_year = {d for d in {*holidays, *workdays} if d.year == year}
    outside = {*holidays, *workdays} - in_year
    both = holidays.keys() & workdays.keys() & in_year
    weekend_holidays = {d for d in holidays.keys() & in_year if _is_weekend(d)}
    weekday_workdays = {d for d in workdays.keys() & in_year if not _is_weekend(d)}
    problems = [
        outside and CalendarProblem("calendar_not_in_year", year=year, **_listed(outside)),
        both and CalendarProblem("calendar_holiday_and_workday", year=year, **_listed(both)),
        weekend_holidays
        and CalendarProblem("calendar_holiday_on_weekend", year=year, **_listed(weekend_holidays)),
        weekday_workdays
        and CalendarProblem("calendar_workday_on_weekday", year=year, **_listed(weekday_workdays)),
    ]
    return [problem for problem in problems if problem]


def check_year_schedule(year: int, holidays: dict[date, str], workdays: dict[date, str]) -> None:
    """Raise CalendarError naming every date of a year's schedule that breaks a rule."""
    problems = _schedule_problems(year, holidays, workdays)
    if problems:
        raise CalendarError(year, problems)


def expand_ranges(
    year: int, ranges: Iterable[tuple[date, date, str]], workdays: dict[date, str]
) -> dict[date, str]:
    """Return the weekdays off of holiday ranges (their weekend days are off anyway).

    A one-day range keeps its day even on a weekend, so that the check can name it; a make-up
    workday inside a range, weekend or not, is refused here, before the weekend days are dropped.
    """
    holidays: dict[date, str] = {}
    clash = set()
    for first, last, name in ranges:
        day = first
        while day <= last:
            clash |= {day} & workdays.keys()
            if first == last or not _is_weekend(day):
                holidays[day] = name
            day += timedelta(days=1)
    if clash:
        raise CalendarError(
            year, [CalendarProblem("calendar_holiday_and_workday", year=year, **_listed(clash))]
        )
    return holidays


def year_schedule(session: Session, year: int) -> tuple[dict[date, str], dict[date, str]]:
    """Return a year's stored (holidays, workdays) with their names."""
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)
        .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(CalendarDay.day)
    )
    holidays, workdays = {}, {}
    for day, kind, name in rows:
        (holidays if kind == HOLIDAY else workdays)[day] = name or ""
    return holidays, workdays


def set_year_schedule(
    session: Session,
    year: int,
    holidays: dict[date, str],
    workdays: dict[date, str],
    by: str,
    now: datetime,
) -> None:
    """Replace a year's holidays and make-up workdays with an admin's schedule."""
    check_year_schedule(year, holidays, workdays)
    _replace_days(session, year, holidays, workdays)
    record = session.get(CalendarYear, year)
    if record is None:
        record = CalendarYear(year=year)
        session.add(record)
    record.source, record.updated_at, record.updated_by = SOURCE_ADMIN, now, by
    session.flush()


def _weekdays_through(d: date) -> int:
    """Count Monday-to-Friday dates from 0001-01-01 (a Monday) up to and including d."""
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


class WorkingCalendar:
    """Chinese working days in memory: weekends off, except for the stored holidays and workdays."""

    def __init__(self, holidays: set[date], workdays: set[date], known_years: set[int]) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.known_years = frozenset(known_years)
        # Only real exceptions change a count: a weekday off, a weekend day worked.
        self._weekdays_off = sorted(d for d in self.holidays - self.workdays if not _is_weekend(d))
        self._weekends_on = sorted(d for d in self.workdays if _is_weekend(d))

    @classmethod
    def load(cls, session: Session, years: Iterable[int] | None = None) -> "WorkingCalendar":
        """Read the schedule of all years, or of those given, in one query."""
        query = select(CalendarYear.year, CalendarDay.day, CalendarDay.kind).outerjoin(
            CalendarDay, extract("year", CalendarDay.day) == CalendarYear.year
        )
        if years is not None:
            query = query.where(CalendarYear.year.in_(set(years)))
        holidays, workdays, known = set(), set(), set()
        for year, day, kind in session.execute(query):
            known.add(year)
            if day is not None:
                (holidays if kind == HOLIDAY else workdays).add(day)
        return cls(holidays, workdays, known)

    def with_year(self, year: int, holidays: Iterable[date], workdays: Iterable[date]) -> "WorkingCalendar":
        """Return this calendar with one year's schedule replaced, as saving it would make it."""
        return WorkingCalendar(
            {d for d in self.holidays if d.year != year} | set(holidays),
            {d for d in self.workdays if d.year != year} | set(workdays),
            self.known_years | {year},
        )

    def is_working_day(self, d: date) -> bool:
        """Tell whether d is worked: a make-up workday, or a weekday that is not a holiday."""
        if d in self.workdays:
            return True
        return not _is_weekend(d) and d not in self.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """Return the n-th working day after start; for n=0, start itself or the next working day."""
        if n < 0:
            raise ValueError(f"cannot count {n} working days; n must be 0 or more")
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
            return day
        week = timedelta(days=7)
        while n > 7:  # a week holds at most 7 working days, so a whole week never overshoots
            n -= self.working_days_between(day, day + week)
            day += week
        while n:
            day += timedelta(days=1)
            n -= self.is_working_day(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Count working days after a up to and including b (negative when b is before a)."""
        if b < a:
            return -self.working_days_between(b, a)
        weekdays = _weekdays_through(b) - _weekdays_through(a)
        off = bisect_right(self._weekdays_off, b) - bisect_right(self._weekdays_off, a)
        on = bisect_right(self._weekends_on, b) - bisect_right(self._weekends_on, a)
        return weekdays - off + on

    def years_without_schedule(self, years: Iterable[int]) -> list[int]:
        """Return the years with no schedule, where only weekends are off."""
        return sorted(set(years) - self.known_years)


def _exception_counts(session: Session, first: int, last: int) -> dict[tuple[int, str], int]:
    day_year = extract("year", CalendarDay.day)
    rows = session.execute(
        select(day_year, CalendarDay.kind, func.count())
        .where(CalendarDay.day.between(date(first, 1, 1), date(last, 12, 31)))
        .group_by(day_year, CalendarDay.kind)
    )
    return {(int(year), kind): count for year, kind, count in rows}


def calendar_status(session: Session, years: Iterable[int]) -> list[YearStatus]:
    """Return, per year, where its schedule came from and how many exceptions it has."""
    wanted = sorted(set(years))
    if not wanted:
        return []
    records = _known_years(session, wanted)
    sources = {year: record.source for year, record in records.items()}
    counts = _exception_counts(session, wanted[0], wanted[-1])
    return [
        YearStatus(
            year=year,
            source=sources.get(year),
            holiday_count=counts.get((year, HOLIDAY), 0),
            workday_count=counts.get((year, WORKDAY), 0),
            weekends_only=year not in sources,
            updated_by=records[year].updated_by if year in records else None,
            updated_at=records[year].updated_at if year in records else None,
        )
        for year in wanted
    ]
