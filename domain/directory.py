"""The directory: the organisations and persons an actor may see (R15), as plain rows for pages and the API.

Every query here is filtered by the actor's jurisdiction; a record outside it raises NotVisible.
Lists are keyset-paged on (name, id): `after` is the cursor of the last row of the previous page.
"""

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Generic
from typing import TypeVar

from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from domain.accounts import Actor
from domain.jurisdiction import NotVisible
from domain.jurisdiction import organisation_filter
from domain.jurisdiction import person_filter
from domain.jurisdiction import region_and_below
from domain.jurisdiction import scope_for
from domain.organisations import Organisation
from domain.organisations import OrganisationKind
from domain.organisations import Region
from domain.organisations import RegionLevel
from domain.organisations import RegionView
from domain.organisations import load_regions
from domain.organisations import region_at_level
from domain.persons import Person

T = TypeVar("T")
MAX_LIMIT = 200
ID_SHOWN = (6, 4)  # digits shown at the start (area code) and at the end of a masked ID number


class BadCursor(ValueError):
    """The `after` cursor of a list is not one this directory handed out."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, the cursor of the next page (None on the last), and counts per status."""

    items: tuple[T, ...]
    next_after: str | None
    status_counts: dict[str, int]


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    name: str
    kind: str
    region_code: str
    region_name: str
    status: str
    credit_code: str | None
    authority_name: str | None


@dataclass(frozen=True)
class OrganisationDetail(OrganisationRow):
    level: str
    industry: str | None
    contact_name: str | None
    contact_phone: str | None
    expected_persons: int
    registered_with_name: str | None
    persons_by_status: dict[str, int]
    created_at: datetime
    activated_at: datetime | None


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    id_number: str  # masked unless the actor may read it
    id_number_masked: bool
    employer_id: int
    employer_name: str
    region_code: str
    region_name: str | None
    title_level: str
    status: str
    certificate_number: str | None


@dataclass(frozen=True)
class PersonDetail(PersonRow):
    gender: str
    birth_date: date | None  # None when the ID number is masked: it would give the birth date away
    title_series: str
    certificate_year: int | None
    created_at: datetime
    registered_at: datetime | None


@dataclass(frozen=True)
class Home:
    """Where an actor belongs: its region, the city above it, and whether it is that city's HRSS."""

    region_code: str | None
    city_code: str | None
    city_name: str | None
    is_city_hrss: bool


def mask_id_number(number: str) -> str:
    """Return an ID number with all but the area code and the last four characters hidden."""
    head, tail = ID_SHOWN
    if len(number) <= head + tail:
        return "*" * len(number)
    return number[:head] + "*" * (len(number) - head - tail) + number[-tail:]


def reads_id_number(actor: Actor, employer_id: int, person_id: int) -> bool:
    """Tell whether the actor may read a person's full ID number: HRSS, the employer, the person."""
    return (
        actor.is_admin
        or actor.organisation_kind == OrganisationKind.HRSS
        or (actor.organisation_kind == OrganisationKind.EMPLOYER and actor.organisation_id == employer_id)
        or actor.person_id == person_id
    )


def _reads_every_id_number(actor: Actor) -> bool:
    # an employer sees only its own persons, a person only themselves
    return (
        actor.is_admin
        or actor.organisation_kind in (OrganisationKind.HRSS, OrganisationKind.EMPLOYER)
        or (actor.organisation_kind is None and actor.person_id is not None)
    )


def _after(after: str | None, name_column, id_column):
    """Return the keyset condition for rows after the cursor "<id>:<name>"."""
    if not after:
        return true()
    id_text, sep, name = after.partition(":")
    if not sep or not id_text.isdigit():
        raise BadCursor(f"{after!r} is not a list cursor")
    return or_(name_column > name, and_(name_column == name, id_column > int(id_text)))


def _cursor(row) -> str:
    return f"{row.id}:{row.name}"


def _counts(session: Session, status_column, conditions) -> dict[str, int]:
    rows = session.execute(select(status_column, func.count()).where(*conditions).group_by(status_column))
    return {status: count for status, count in rows}


def _page(session: Session, query, limit: int, make, counts: dict[str, int]) -> Page:
    limit = max(1, min(limit, MAX_LIMIT))
    rows = session.execute(query.limit(limit + 1)).all()
    items = tuple(make(row) for row in rows[:limit])
    return Page(items, _cursor(items[-1]) if len(rows) > limit else None, counts)


def _organisation_query(*columns):
    org, authority = Organisation, aliased(Organisation)
    listed = (org.id, org.name, org.kind, org.region_code, Region.name, org.status, org.uscc, authority.name)
    return (
        select(*listed, *columns)
        .join(Region, Region.code == org.region_code)
        .outerjoin(authority, authority.id == org.authority_id)
    )


def search_organisations(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    kind: str | None = None,
    region: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[OrganisationRow]:
    """Return the organisations the actor may see that match the filters, by name; counts ignore `status`."""
    conditions = [organisation_filter(scope_for(session, actor))]
    if q and q.strip():
        text = q.strip()
        conditions.append(
            or_(
                Organisation.name.contains(text, autoescape=True),
                Organisation.uscc.startswith(text.upper(), autoescape=True),
            )
        )
    if kind:
        conditions.append(Organisation.kind == kind)
    if region:
        conditions.append(Organisation.region_code.in_(region_and_below(session, region)))
    counts = _counts(session, Organisation.status, conditions)
    if status:
        conditions.append(Organisation.status == status)
    query = (
        _organisation_query()
        .where(*conditions, _after(after, Organisation.name, Organisation.id))
        .order_by(Organisation.name, Organisation.id)
    )
    return _page(session, query, limit, lambda row: OrganisationRow(*row), counts)


def organisation_detail(session: Session, actor: Actor, org_id: int) -> OrganisationDetail:
    """Return one organisation the actor may see, or raise NotVisible."""
    scope = scope_for(session, actor)
    org, registrar = Organisation, aliased(Organisation)
    extra = (
        org.level,
        org.industry,
        org.contact_name,
        org.contact_phone,
        org.expected_persons,
        registrar.name,
    )
    row = session.execute(
        _organisation_query(*extra, org.created_at, org.activated_at)
        .outerjoin(registrar, registrar.id == org.registered_with_id)
        .where(org.id == org_id, organisation_filter(scope))
    ).first()
    if row is None:
        raise NotVisible(f"organisation {org_id}")
    *listed, level, industry, contact, phone, expected, registrar_name, created, activated = row
    persons = {}
    if row.kind == OrganisationKind.EMPLOYER:
        persons = _counts(session, Person.status, [Person.employer_id == org_id, person_filter(scope)])
    return OrganisationDetail(
        *listed, level, industry, contact, phone, expected, registrar_name, persons, created, activated
    )


def _person_query(*columns):
    employer = aliased(Organisation)
    listed = (Person.id, Person.name, Person.id_number, Person.employer_id, employer.name, Person.region_code)
    return (
        select(*listed, Region.name, Person.title_level, Person.status, Person.certificate_number, *columns)
        .join(employer, employer.id == Person.employer_id)
        .outerjoin(Region, Region.code == Person.region_code)
    )


def _person_fields(actor: Actor, row) -> tuple[list, bool]:
    pid, name, number, employer_id, *rest = row
    shown = reads_id_number(actor, employer_id, pid)
    return [pid, name, number if shown else mask_id_number(number), not shown, employer_id, *rest], shown


def search_persons(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    employer_id: int | None = None,
    region: str | None = None,
    title_level: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[PersonRow]:
    """Return the persons the actor may see that match the filters, by name; counts ignore `status`.

    `q` matches part of the name or the start of the ID number; an actor who sees ID numbers
    masked finds a person by the whole number only, so a search cannot reveal the hidden digits.
    """
    conditions = [person_filter(scope_for(session, actor))]
    if q and q.strip():
        text = q.strip()
        number = text.upper()
        by_number = (
            Person.id_number.startswith(number, autoescape=True)
            if _reads_every_id_number(actor)
            else Person.id_number == number
        )
        conditions.append(or_(Person.name.contains(text, autoescape=True), by_number))
    if employer_id is not None:
        conditions.append(Person.employer_id == employer_id)
    if region:
        conditions.append(Person.region_code.in_(region_and_below(session, region)))
    if title_level:
        conditions.append(Person.title_level == title_level)
    counts = _counts(session, Person.status, conditions)
    if status:
        conditions.append(Person.status == status)
    query = (
        _person_query()
        .where(*conditions, _after(after, Person.name, Person.id))
        .order_by(Person.name, Person.id)
    )
    return _page(session, query, limit, lambda row: PersonRow(*_person_fields(actor, row)[0]), counts)


def person_detail(session: Session, actor: Actor, person_id: int) -> PersonDetail:
    """Return one person the actor may see, or raise NotVisible."""
    extra = (Person.gender, Person.birth_date, Person.title_series, Person.certificate_year)
    row = session.execute(
        _person_query(*extra, Person.created_at, Person.registered_at).where(
            Person.id == person_id, person_filter(scope_for(session, actor))
        )
    ).first()
    if row is None:
        raise NotVisible(f"person {person_id}")
    fields, shown = _person_fields(actor, row)
    *listed, gender, birth, series, year, created, registered = fields
    return PersonDetail(*listed, gender, birth if shown else None, series, year, created, registered)


def visible_regions(session: Session, actor: Actor) -> tuple[RegionView, ...]:
    """Return the regions worth filtering by: the actor's jurisdiction, or where its records lie."""
    scope = scope_for(session, actor)
    regions = load_regions(session)
    if scope.everything:
        codes = set(regions)
    elif scope.region_codes:
        codes = set(scope.region_codes)
    else:
        codes = set(session.scalars(select(Organisation.region_code).where(organisation_filter(scope))))
        codes |= set(session.scalars(select(Person.region_code).where(person_filter(scope))))
    return tuple(regions[code] for code in sorted(codes) if code in regions)


def home_of(session: Session, actor: Actor) -> Home:
    """Return the actor's region and city (a person's is their registration's) and if it is the city HRSS."""
    region = actor.region_code
    if region is None and actor.person_id is not None:
        region = session.scalar(select(Person.region_code).where(Person.id == actor.person_id))
    regions = load_regions(session)
    city = region_at_level(regions, region, RegionLevel.CITY) if region else None
    is_city_hrss = (
        actor.organisation_kind == OrganisationKind.HRSS
        and region in regions
        and regions[region].level == RegionLevel.CITY
    )
    return Home(region, city, regions[city].name if city else None, is_city_hrss)
