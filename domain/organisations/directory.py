"""The directory: the organisations an actor may see (R15), as plain rows for pages and the API.

Every query here is filtered by the actor's jurisdiction; a record outside it raises NotVisible.
Lists are keyset-paged on (name, id) by infra.keyset.search; persons are in domain.persons.directory.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from domain.accounts.users import Actor
from domain.accounts.users import User
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.jurisdiction import organisation_filter
from domain.organisations.jurisdiction import person_filter
from domain.organisations.jurisdiction import region_and_below
from domain.organisations.jurisdiction import scope_for
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import OrganisationStatus
from domain.organisations.records import Region
from domain.organisations.records import RegionLevel
from domain.organisations.records import RegionView
from domain.organisations.records import load_regions
from domain.organisations.records import region_at_level
from domain.persons.records import Person
from domain.persons.records import PersonStatus
from infra.keyset import Order
from infra.keyset import Page
from infra.keyset import search
from infra.keyset import status_counts

BY_NAME: Order = ((Organisation.sort_name, False), (Organisation.id, False))  # natural order


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
    admin_user_id: int | None
    admin_name: str | None  # the unit admin (系统管理员, R3): display name and username
    admin_username: str | None


@dataclass(frozen=True)
class Home:
    """Where an actor belongs: its region, the city above it, and whether it is that city's HRSS."""

    region_code: str | None
    city_code: str | None
    city_name: str | None
    is_city_hrss: bool


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
    before: str | None = None,
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
    return search(
        session,
        _organisation_query(),
        BY_NAME,
        conditions,
        make=lambda row: OrganisationRow(*row),
        status_column=Organisation.status,
        statuses=tuple(OrganisationStatus),
        status=status,
        after=after,
        before=before,
        limit=limit,
    )


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
    admin = (org.admin_user_id, User.display_name, User.username)
    row = session.execute(
        _organisation_query(*extra, org.created_at, org.activated_at, *admin)
        .outerjoin(registrar, registrar.id == org.registered_with_id)
        .outerjoin(User, User.id == org.admin_user_id)
        .where(org.id == org_id, organisation_filter(scope))
    ).first()
    if row is None:
        raise NotVisible(f"organisation {org_id}")
    *listed, level, industry, contact, phone, expected, registrar_name, created, activated = row[:-3]
    persons = {}
    if row.kind == OrganisationKind.EMPLOYER:
        persons = status_counts(
            session,
            Person.status,
            [Person.employer_id == org_id, person_filter(scope)],
            tuple(PersonStatus),
            capped=False,  # one employer's persons, shown as exact figures
        )
    return OrganisationDetail(
        *listed,
        level,
        industry,
        contact,
        phone,
        expected,
        registrar_name,
        persons,
        created,
        activated,
        *row[-3:],
    )


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
