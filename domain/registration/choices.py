"""What an applicant picks from on the registration forms: regions, authorities, employers (R1)."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import OrganisationStatus
from domain.organisations.records import Region
from domain.organisations.records import RegionLevel
from domain.organisations.records import ancestors
from domain.organisations.records import load_regions


@dataclass(frozen=True)
class Choice:
    value: int | str
    label: str


def region_choices(session: Session) -> list[Choice]:
    """Return the regions an applicant can pick, city first."""
    rows = session.execute(select(Region.code, Region.name, Region.level).order_by(Region.code))
    return [Choice(code, name) for code, name, level in rows if level != "province"]


def authority_choices(session: Session, region_code: str | None = None) -> list[Choice]:
    """Return the active industry authorities an employer can belong to (R1).

    Given the employer's region, only those of that region and the levels above it.
    """
    query = (
        select(Organisation.id, Organisation.name, Region.name)
        .join(Region, Region.code == Organisation.region_code)
        .where(
            Organisation.kind == OrganisationKind.AUTHORITY, Organisation.status == OrganisationStatus.ACTIVE
        )
        .order_by(Organisation.region_code, Organisation.sort_name, Organisation.id)
    )
    if region_code:
        codes = [region_code, *ancestors(load_regions(session), region_code)]
        query = query.where(Organisation.region_code.in_(codes))
    rows = session.execute(query)
    return [Choice(org_id, f"{region}·{name}") for org_id, name, region in rows]


EMPLOYERS_SHOWN = 50


@dataclass(frozen=True)
class EmployerRegion:
    """A region a professional's employer may lie in, with how many active employers it has."""

    code: str
    name: str
    level: str
    employers: int


@dataclass(frozen=True)
class EmployerChoices:
    """The employers found for a region and a search, and whether more match than are shown."""

    choices: tuple[Choice, ...]
    more: bool


def employer_regions(session: Session) -> list[EmployerRegion]:
    """Return the regions to find an employer in: each city's counties and districts, then the city itself.

    A city's own (市直) employers lie in the city's region; its counties hold most employers, so they
    come first and the city follows them, not the other way round.
    """
    counts = dict(
        session.execute(
            select(Organisation.region_code, func.count())
            .where(*_ACTIVE_EMPLOYER)
            .group_by(Organisation.region_code)
        ).all()
    )
    regions = load_regions(session)
    found = []
    for city in sorted(code for code, region in regions.items() if region.level == RegionLevel.CITY):
        below = sorted(code for code, region in regions.items() if region.parent_code == city)
        for code in (*below, city):
            region = regions[code]
            found.append(EmployerRegion(code, region.name, region.level, counts.get(code, 0)))
    return found


def employer_choices(
    session: Session, region_code: str | None = None, q: str | None = None, limit: int = EMPLOYERS_SHOWN
) -> EmployerChoices:
    """Return the active employers a person can register with, of one region and matching a name, by name.

    Only active employers are offered (R1); the list stops at `limit`, and `more` says to type more.
    """
    query = select(Organisation.id, Organisation.name).where(*_ACTIVE_EMPLOYER)
    if region_code:
        query = query.where(Organisation.region_code == region_code)
    if q and q.strip():
        query = query.where(Organisation.name.contains(q.strip(), autoescape=True))
    rows = session.execute(query.order_by(Organisation.sort_name, Organisation.id).limit(limit + 1)).all()
    return EmployerChoices(tuple(Choice(org_id, name) for org_id, name in rows[:limit]), len(rows) > limit)


def active_employer_choice(session: Session, employer_id: int | None) -> Choice | None:
    """Return an active employer as a choice (the one an applicant picked), or None."""
    if employer_id is None:
        return None
    row = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id == employer_id, *_ACTIVE_EMPLOYER)
    ).first()
    return Choice(*row) if row else None


_ACTIVE_EMPLOYER = (
    Organisation.kind == OrganisationKind.EMPLOYER,
    Organisation.status == OrganisationStatus.ACTIVE,
)
