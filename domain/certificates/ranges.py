"""What an actor may see and do of number ranges (号段, R5): the ranges, their use, the numbers drawn.

The HRSS allocates ranges to the employers in its jurisdiction (its region and the regions below,
R15) and voids numbers there; an employer, and whoever else may see an employer, reads its ranges.
Every read here is scoped: an employer outside the actor's sight raises NotVisible.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from domain.accounts.users import Actor
from domain.accounts.users import User
from domain.certificates.records import CertificateNumber
from domain.certificates.records import NumberRange
from domain.certificates.records import RangeError
from domain.certificates.records import RangeUsage
from domain.certificates.records import format_number
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.jurisdiction import visible_organisation
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.persons.records import Person

NUMBERS_SHOWN = 50


@dataclass(frozen=True)
class RangeRow:
    """One allocated range with its use."""

    id: int
    first_number: str
    last_number: str
    size: int
    used: int
    left: int
    allocated_at: datetime
    allocated_by_name: str


@dataclass(frozen=True)
class NumberRow:
    """One number drawn from an employer's ranges (or kept from 2013/2014); a void one: why, by whom."""

    number: str
    person_id: int | None
    person_name: str | None
    status: str
    year: int
    assigned_at: datetime
    void_reason: str | None
    voided_at: datetime | None
    voided_by_name: str | None


def may_manage_ranges(actor: Actor) -> bool:
    """Say whether the actor allocates ranges and voids numbers for the employers it may see: an HRSS."""
    return actor.organisation_kind == OrganisationKind.HRSS and actor.organisation_id is not None


def managed_employer(session: Session, actor: Actor, employer_id: int) -> Organisation:
    """Return an employer whose ranges the actor manages; NotVisible outside its jurisdiction."""
    employer = visible_employer(session, actor, employer_id)
    if not may_manage_ranges(actor):
        raise RangeError("range_allocator_not_hrss", organisation_id=actor.organisation_id)
    return employer


def visible_employer(session: Session, actor: Actor, employer_id: int) -> Organisation:
    """Return an employer the actor may see; another region's, or no employer, is NotVisible."""
    employer = visible_organisation(session, actor, employer_id)
    if employer.kind != OrganisationKind.EMPLOYER:
        raise NotVisible(f"employer {employer_id}")
    return employer


def employer_ranges(session: Session, actor: Actor, employer_id: int) -> tuple[RangeRow, ...]:
    """Return the ranges allocated to an employer the actor may see, oldest first, with their use."""
    visible_employer(session, actor, employer_id)
    allocator = aliased(Organisation)
    rows = session.execute(
        select(
            NumberRange.id,
            NumberRange.prefix,
            NumberRange.first,
            NumberRange.last,
            NumberRange.next_value,
            NumberRange.allocated_at,
            allocator.name,
        )
        .join(allocator, allocator.id == NumberRange.allocated_by_id)
        .where(NumberRange.employer_id == employer_id)
        .order_by(NumberRange.allocated_at, NumberRange.id)
    ).all()
    return tuple(
        RangeRow(
            id=row_id,
            first_number=format_number(prefix, first),
            last_number=format_number(prefix, last),
            size=last - first + 1,
            used=next_value - first,
            left=last - next_value + 1,
            allocated_at=allocated_at,
            allocated_by_name=allocator_name,
        )
        for row_id, prefix, first, last, next_value, allocated_at, allocator_name in rows
    )


def usage_by_employer(session: Session, employer_ids: list[int]) -> dict[int, RangeUsage]:
    """Return the allocated, used and remaining numbers of some employers (a page of them) in one query."""
    if not employer_ids:
        return {}
    rows = session.execute(
        select(
            NumberRange.employer_id,
            func.sum(NumberRange.last - NumberRange.first + 1),
            func.sum(NumberRange.next_value - NumberRange.first),
        )
        .where(NumberRange.employer_id.in_(employer_ids))
        .group_by(NumberRange.employer_id)
    ).all()
    return {
        employer_id: RangeUsage(total=int(total), used=int(used), left=int(total) - int(used))
        for employer_id, total, used in rows
    }


def employer_numbers(
    session: Session, actor: Actor, employer_id: int, q: str | None = None, limit: int = NUMBERS_SHOWN
) -> tuple[NumberRow, ...]:
    """Return the numbers of an employer the actor may see, the latest first; `q` is the start of a number."""
    visible_employer(session, actor, employer_id)
    voider = aliased(User)
    query = (
        select(
            CertificateNumber.number,
            CertificateNumber.person_id,
            Person.name,
            CertificateNumber.status,
            CertificateNumber.year,
            CertificateNumber.assigned_at,
            CertificateNumber.void_reason,
            CertificateNumber.voided_at,
            voider.display_name,
        )
        .outerjoin(Person, Person.id == CertificateNumber.person_id)
        .outerjoin(voider, voider.id == CertificateNumber.voided_by_id)
        .where(CertificateNumber.employer_id == employer_id)
    )
    if q and q.strip():
        query = query.where(CertificateNumber.number.startswith(q.strip(), autoescape=True))
    rows = session.execute(
        query.order_by(CertificateNumber.assigned_at.desc(), CertificateNumber.number.desc()).limit(limit)
    ).all()
    return tuple(NumberRow(*row) for row in rows)


def number_employer(session: Session, number: str) -> int | None:
    """Return the employer a recorded number belongs to (None when it was never recorded)."""
    return session.scalar(select(CertificateNumber.employer_id).where(CertificateNumber.number == number))
