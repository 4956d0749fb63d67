"""The persons an actor may see (R15), with the ID-number privacy rule: who reads a number in full.

Every query here is filtered by the actor's jurisdiction; a person outside it raises NotVisible.
Lists are keyset-paged on (name, id) by infra.keyset.search.
"""

import re
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from domain.accounts.users import Actor
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.jurisdiction import person_filter
from domain.organisations.jurisdiction import region_and_below
from domain.organisations.jurisdiction import scope_for
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import Region
from domain.persons.records import Person
from domain.persons.records import PersonStatus
from infra.keyset import Common
from infra.keyset import Order
from infra.keyset import Page
from infra.keyset import beyond_cap
from infra.keyset import search

ID_SHOWN = (6, 4)  # digits shown at the start (area code) and at the end of a masked ID number
ID_LENGTH = 18
ID_PREFIX = re.compile(r"[0-9]{1,17}[0-9Xx]?")  # a search of digits is an ID number's start, never a name

BY_NAME: Order = ((Person.sort_name, False), (Person.id, False))  # natural order: 第2 before 第10
# A name search sorts its matches: read in name order, the names containing it cluster (by their
# first character) far into the index, and PostgreSQL scanned 1.4 s of it for a city's page.
# An expression of the name keeps the planner off that order (in the sort and in the cursor's seek).
BY_NAME_SORTED: Order = ((Person.sort_name + "", False), (Person.id, False))


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
    before: str | None = None,
    limit: int = 50,
) -> Page[PersonRow]:
    """Return the persons the actor may see that match the filters, by name; counts ignore `status`.

    `q` matches part of the name or the start of the ID number; an actor who sees ID numbers
    masked finds a person by the whole number only, so a search cannot reveal the hidden digits.
    """
    conditions = [person_filter(scope_for(session, actor))]
    text = (q or "").strip()
    by_number = bool(ID_PREFIX.fullmatch(text))
    if by_number:
        conditions += _number_search(text.upper(), whole_only=not _reads_every_id_number(actor))
    elif text:
        conditions.append(Person.name.contains(text, autoescape=True))
    if employer_id is not None:
        conditions.append(Person.employer_id == employer_id)
    if region:
        conditions.append(Person.region_code.in_(region_and_below(session, region)))
    if title_level:
        conditions.append(Person.title_level == title_level)

    def plan(conditions: list, counts: dict[str, int]) -> list:
        if by_number:
            # the number's range is the narrow condition: the scope's regions must not look narrower
            return [Common(conditions[0]), *conditions[1:]]
        if beyond_cap(counts, status) and employer_id is None and not text:
            # thousands match: the name index read in order finds a page at once; fetching every match
            # by region and sorting them all took 400 ms for a province's two million persons
            return [Common(*conditions)]
        return conditions

    return search(
        session,
        _person_query(),
        BY_NAME_SORTED if text and not by_number else BY_NAME,
        conditions,
        make=lambda row: PersonRow(*_person_fields(actor, row)[0]),
        status_column=Person.status,
        statuses=tuple(PersonStatus),
        status=status,
        after=after,
        before=before,
        limit=limit,
        plan=plan,
    )


def _number_search(number: str, whole_only: bool) -> list:
    """Return the conditions of an ID-number search: a prefix as an index range, or the whole number."""
    if whole_only or len(number) == ID_LENGTH or number.endswith("X"):
        return [Person.id_number == number]
    following = str(int(number) + 1).zfill(len(number))  # the first prefix after this one
    if len(following) > len(number):  # all nines: nothing sorts after them
        return [Person.id_number >= number]
    return [Person.id_number >= number, Person.id_number < following]


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
