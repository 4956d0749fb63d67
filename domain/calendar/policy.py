"""The policy calendar: each year's deadlines and hour minimums, set by a city HRSS (R4, R10, R16).

Every number here is data keyed by year and region, edited by staff; nothing is a constant in code.
A county has no calendar of its own unless one is saved for it: it inherits its city's.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import fields
from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import sessionmaker

from domain.base import Base
from domain.calendar.deadlines import END_OF_DAY
from domain.calendar.deadlines import china_day
from domain.calendar.deadlines import china_time
from domain.organisations.records import RegionView
from domain.organisations.records import ancestors
from domain.organisations.records import load_regions
from domain.organisations.shipped_regions import PINGDINGSHAN
from domain.persons.records import TitleLevel
from domain.refusals import Refusal

# deadline name (as diagrams call policy_deadline) -> column
DEADLINES = {
    "org_registration": "org_registration_deadline",
    "person_registration": "person_registration_deadline",
    "online_training_applicants": "online_training_deadline_applicants",
    "online_training_others": "online_training_deadline_others",
    "certificate_applicants": "certificate_deadline_applicants",
    "certificate_others": "certificate_deadline_others",
}
HOURS = ("public_hours_senior", "public_hours_junior", "national_total_hours")
REVIEW_DAYS = "review_working_days"
REVIEW_DAYS_RANGE = (1, 60)
SHARE = "professional_share_percent"
HOUR_UNIT = "hour_unit_minutes"
# Yardsticks for warnings only (a value beyond them is saved once the HRSS confirms it): the 2015
# national regulation's yearly total, and the hour units in use (45 minutes; some provinces 50 or 60).
NATIONAL_TOTAL_2015 = 90
PLAUSIBLE_HOUR_UNIT = (40, 60)
PLAUSIBLE_SHARE_FLOOR = 50
# a later step cannot close before the step it depends on
ORDERED = [
    ("org_registration_deadline", "person_registration_deadline"),
    ("online_training_deadline_applicants", "certificate_deadline_applicants"),
    ("online_training_deadline_others", "certificate_deadline_others"),
]
# Pingdingshan 2015 (平人社专技〔2015〕1号, sections 四 and 六 and 七): month, day or a number
NOTICE_2015 = {
    "org_registration_deadline": (3, 20),
    "person_registration_deadline": (4, 15),
    "online_training_deadline_applicants": (7, 30),
    "online_training_deadline_others": (11, 30),
    "certificate_deadline_applicants": (8, 30),
    "certificate_deadline_others": (12, 30),
    "public_hours_senior": 26,
    "public_hours_junior": 22,
    "review_working_days": 5,
    # the 2015 national regulation (专业技术人员继续教育规定): at least 90 hours a year, professional
    # subjects generally two thirds of them; 1 学时 = 45 minutes (R16)
    "national_total_hours": NATIONAL_TOTAL_2015,
    "professional_share_percent": 67,
    "hour_unit_minutes": 45,
}
DEMO_YEARS = (2015, 2025, 2026)


class PolicyProblem(Refusal):
    """One thing to correct in a policy calendar; ``params["field"]``, when given, is the setting's name."""


class PolicyError(Refusal):
    """A policy calendar that was not saved; `problems` says what to correct."""

    def __init__(self, year: int, region_code: str, problems: list[PolicyProblem]):
        self.problems = problems
        super().__init__("policy_not_saved", year=year, region=region_code, problems=len(problems))


class PolicyUnconfirmed(PolicyError):
    """A calendar with implausible values, not saved until the HRSS confirms these very warnings.

    `problems` are the warnings; `key` names them, and saving with that key confirms them (a
    changed value gives other warnings and another key, so nothing unseen is confirmed).
    """

    def __init__(self, year: int, region_code: str, warnings: list[PolicyProblem], key: str):
        self.problems, self.key = warnings, key
        Refusal.__init__(self, "policy_unconfirmed", year=year, region=region_code, problems=len(warnings))


class PolicyYear(Base):
    """One year's calendar and hour minimums as set by the HRSS of a region."""

    __tablename__ = "policy_year"
    __table_args__ = (UniqueConstraint("year", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    org_registration_deadline: Mapped[date]
    person_registration_deadline: Mapped[date]
    review_working_days: Mapped[int]
    public_hours_senior: Mapped[int]
    public_hours_junior: Mapped[int]
    online_training_deadline_applicants: Mapped[date]
    online_training_deadline_others: Mapped[date]
    certificate_deadline_applicants: Mapped[date]
    certificate_deadline_others: Mapped[date]
    national_total_hours: Mapped[int] = mapped_column(server_default="90")
    professional_share_percent: Mapped[int] = mapped_column(server_default="67")
    hour_unit_minutes: Mapped[int] = mapped_column(server_default="45")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


@dataclass(frozen=True)
class PolicyView:
    """A year's calendar; `region_code` is where it was set (a city, for its counties too)."""

    year: int
    region_code: str
    org_registration_deadline: date
    person_registration_deadline: date
    review_working_days: int
    public_hours_senior: int
    public_hours_junior: int
    online_training_deadline_applicants: date
    online_training_deadline_others: date
    certificate_deadline_applicants: date
    certificate_deadline_others: date
    national_total_hours: int
    professional_share_percent: int
    hour_unit_minutes: int
    updated_by: str
    updated_at: datetime

    def deadline(self, name: str) -> date:
        """Return a deadline by the name diagrams use, e.g. "person_registration"."""
        if name not in DEADLINES:
            raise ValueError(f"no deadline is called {name!r}; known: {', '.join(DEADLINES)}")
        return getattr(self, DEADLINES[name])

    def public_hours(self, title_level: str) -> int:
        """Return the public-subject minimum for a title level (R6: junior apart, others alike)."""
        return self.public_hours_junior if title_level == TitleLevel.JUNIOR else self.public_hours_senior


VIEW_FIELDS = [f.name for f in fields(PolicyView)]
EDITABLE = [*DEADLINES.values(), *HOURS, REVIEW_DAYS, SHARE, HOUR_UNIT]


def _view(row: PolicyYear) -> PolicyView:
    return PolicyView(**{name: getattr(row, name) for name in VIEW_FIELDS})


def policies_for_year(session: Session, year: int) -> dict[str, PolicyView]:
    """Return every calendar saved for a year, by the region it was saved for."""
    rows = session.scalars(select(PolicyYear).where(PolicyYear.year == year))
    return {row.region_code: _view(row) for row in rows}


def resolve_policy(
    policies: dict[str, PolicyView], regions: dict[str, RegionView], region_code: str
) -> PolicyView | None:
    """Return the calendar that applies in a region: its own, else the nearest one above it."""
    for code in [region_code, *ancestors(regions, region_code)]:
        if code in policies:
            return policies[code]
    return None


def policy_for(session: Session, year: int, region_code: str) -> PolicyView | None:
    """Return the calendar of a year that applies in a region, or None when none is set."""
    return resolve_policy(policies_for_year(session, year), load_regions(session), region_code)


def _coerce(name: str, value, problems: list[PolicyProblem]):
    if name in DEADLINES.values():
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        problems.append(PolicyProblem("policy_not_a_date", field=name, value=str(value)))
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append(PolicyProblem("policy_not_a_number", field=name, value=str(value)))
    return None


def _check(year: int, values: dict, problems: list[PolicyProblem]) -> None:
    for name in DEADLINES.values():
        if values[name] is not None and values[name].year != year:
            problems.append(PolicyProblem("policy_not_in_year", field=name, value=values[name], year=year))
    for name in HOURS:
        if values[name] is not None and values[name] <= 0:
            problems.append(PolicyProblem("policy_hours_not_positive", field=name, value=values[name]))
    low, high = REVIEW_DAYS_RANGE
    days = values[REVIEW_DAYS]
    if days is not None and not low <= days <= high:
        problems.append(
            PolicyProblem("policy_review_days", field=REVIEW_DAYS, value=days, low=low, high=high)
        )
    if values[SHARE] is not None and not 0 <= values[SHARE] <= 100:
        problems.append(PolicyProblem("policy_share_range", field=SHARE, value=values[SHARE]))
    if values[HOUR_UNIT] is not None and values[HOUR_UNIT] <= 0:
        problems.append(
            PolicyProblem("policy_minutes_not_positive", field=HOUR_UNIT, value=values[HOUR_UNIT])
        )
    for first, then in ORDERED:
        if values[first] and values[then] and values[then] < values[first]:
            problems.append(
                PolicyProblem(
                    "policy_before", field=then, value=values[then], setting=first, other=values[first]
                )
            )


def validate_policy(year: int, values: dict) -> tuple[dict, list[PolicyProblem]]:
    """Return the values coerced to their types and the problems found (empty when valid)."""
    problems = [PolicyProblem("policy_unknown_setting", name=name) for name in values if name not in EDITABLE]
    coerced = {}
    for name in EDITABLE:
        if values.get(name) in (None, ""):
            problems.append(PolicyProblem("policy_missing", field=name))
            coerced[name] = None
        else:
            coerced[name] = _coerce(name, values[name], problems)
    _check(year, coerced, problems)
    return coerced, problems


def policy_warnings(values: dict) -> list[PolicyProblem]:
    """Return what looks implausible in valid values: each is allowed, but only when someone confirms it."""
    senior, junior = values["public_hours_senior"], values["public_hours_junior"]
    total, share, unit = values["national_total_hours"], values[SHARE], values[HOUR_UNIT]
    warnings = []
    if junior > senior:
        warnings.append(
            PolicyProblem("policy_warn_junior_above_senior", field=HOURS[1], junior=junior, senior=senior)
        )
    if total < NATIONAL_TOTAL_2015:
        warnings.append(
            PolicyProblem(
                "policy_warn_total_below_national", field=HOURS[2], total=total, national=NATIONAL_TOTAL_2015
            )
        )
    professional = -(-total * share // 100)  # the professional hours the share asks for, rounded up
    if senior + professional > total:
        warnings.append(
            PolicyProblem(
                "policy_warn_shares_exceed_total",
                field=SHARE,
                share=share,
                professional=professional,
                public=senior,
                total=total,
            )
        )
    elif share < PLAUSIBLE_SHARE_FLOOR:
        warnings.append(
            PolicyProblem("policy_warn_share_low", field=SHARE, share=share, floor=PLAUSIBLE_SHARE_FLOOR)
        )
    low, high = PLAUSIBLE_HOUR_UNIT
    if not low <= unit <= high:
        warnings.append(
            PolicyProblem("policy_warn_hour_unit", field=HOUR_UNIT, value=unit, low=low, high=high)
        )
    return warnings


def warnings_key(warnings: list[PolicyProblem]) -> str:
    """Return a short name for a set of warnings: confirming it confirms exactly these."""
    text = repr(sorted((w.code, sorted((k, str(v)) for k, v in w.params.items())) for w in warnings))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_policy(
    session: Session,
    year: int,
    region_code: str,
    values: dict,
    by: str,
    now: datetime,
    confirmed: str | None = None,
):
    """Create or change a year's calendar for a region; refuse it whole with every problem listed.

    `values` may be partial when the calendar exists: the saved values fill the gaps. Implausible
    values raise PolicyUnconfirmed unless `confirmed` is the key of the very warnings they give.
    """
    row = session.scalar(
        select(PolicyYear).where(PolicyYear.year == year, PolicyYear.region_code == region_code)
    )
    current = {name: getattr(row, name) for name in EDITABLE} if row else {}
    coerced, problems = validate_policy(year, {**current, **values})
    if region_code not in load_regions(session):
        problems.insert(0, PolicyProblem("no_region", region=region_code))
    if problems:
        raise PolicyError(year, region_code, problems)
    warnings = policy_warnings(coerced)
    if warnings and confirmed != warnings_key(warnings):
        raise PolicyUnconfirmed(year, region_code, warnings, warnings_key(warnings))
    row = row or PolicyYear(year=year, region_code=region_code)
    for name, value in coerced.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = by, now
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise PolicyError(year, region_code, [PolicyProblem("policy_saved_meanwhile")]) from None
    return _view(row)


def seed_policy_2015(session: Session, now: datetime) -> int:
    """Add Pingdingshan's 2015 calendar, and the same dates in 2025, 2026 and this year; return how many."""
    present = set(session.scalars(select(PolicyYear.year).where(PolicyYear.region_code == PINGDINGSHAN)))
    this_year = china_day(now).year
    added = 0
    for year in sorted({*DEMO_YEARS, this_year} - present):
        values = {
            name: date(year, *value) if isinstance(value, tuple) else value
            for name, value in NOTICE_2015.items()
        }
        save_policy(session, year, PINGDINGSHAN, values, "seed", now)
        added += 1
    return added


def policy_deadline_function(session_factory: sessionmaker, region_code: str = PINGDINGSHAN) -> Callable:
    """Return a script-function factory: now -> policy_deadline(name[, region]), an ISO deadline string.

    The deadline is the end of the named day of the current (Beijing) year, at +08:00.
    """

    def bind(now: datetime):
        def policy_deadline(name: str, region: str | None = None) -> str:
            year = china_day(now).year
            with session_factory() as session:
                policy = policy_for(session, year, region or region_code)
            if policy is None:
                raise ValueError(f"no policy calendar is set for {year} in {region or region_code}")
            return china_time(datetime.combine(policy.deadline(name), END_OF_DAY)).isoformat()

        return policy_deadline

    return bind


def review_days_function(
    session_factory: sessionmaker, region_code: str = PINGDINGSHAN, default: int = 5
) -> Callable:
    """Return a script-function factory: now -> review_days(region=None), the year's review time limit.

    Diagrams write `working_days(review_days())` so the city HRSS changes the limit in the calendar,
    not in every diagram; a year without a calendar keeps the default.
    """

    def bind(now: datetime):
        def review_days(region: str | None = None) -> int:
            with session_factory() as session:
                policy = policy_for(session, china_day(now).year, region or region_code)
            return policy.review_working_days if policy is not None else default

        return review_days

    return bind
