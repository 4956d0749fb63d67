"""Certificate numbers (继续教育证书管理号, R5): ranges (号段) the HRSS allocates, numbers employers draw.

The commands: allocate a range, draw the next number, keep a 2013/2014 number, void a number, and
report a range's usage. Under one prefix the ranges are consecutive and start at sequence 1, so no
two ranges anywhere produce the same number. The tables, errors and number format are in
domain.certificates.records.
"""

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar.deadlines import china_day
from domain.certificates.records import MAX_SEQUENCE
from domain.certificates.records import NUMBER_LENGTH
from domain.certificates.records import SEQUENCE_DIGITS
from domain.certificates.records import CertificateError
from domain.certificates.records import CertificateNumber
from domain.certificates.records import NumberInUse
from domain.certificates.records import NumberRange
from domain.certificates.records import NumberStatus
from domain.certificates.records import RangeError
from domain.certificates.records import RangeExhausted
from domain.certificates.records import RangeUsage
from domain.certificates.records import format_number
from domain.certificates.records import range_prefix
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.persons.records import Person
from domain.text import clean_text

MAX_RANGE_SIZE = 100_000
KEPT_YEARS = (2013, 2014)


def allocate_range(session: Session, hrss_id: int, employer_id: int, size: int, now: datetime) -> NumberRange:
    """Allocate the next `size` numbers under the HRSS's prefix of this year to an employer."""
    _check_size(size)
    # one HRSS per region owns a prefix: locking its row serializes allocations under that prefix
    hrss = _organisation(session, hrss_id, OrganisationKind.HRSS, lock=True)
    _organisation(session, employer_id, OrganisationKind.EMPLOYER)
    prefix = range_prefix(hrss.region_code, now)
    highest = session.scalar(select(func.max(NumberRange.last)).where(NumberRange.prefix == prefix))
    first = (highest or 0) + 1
    last = first + size - 1
    if last > MAX_SEQUENCE:
        raise RangeError("range_prefix_full", left=max(MAX_SEQUENCE - first + 1, 0), size=size, prefix=prefix)
    _refuse_kept_numbers_inside(session, prefix, first, last)
    number_range = NumberRange(
        employer_id=employer_id,
        prefix=prefix,
        first=first,
        last=last,
        next_value=first,
        allocated_by_id=hrss_id,
        allocated_at=now,
    )
    session.add(number_range)
    session.flush()
    return number_range


def draw_number(session: Session, employer_id: int, person_id: int, now: datetime) -> str:
    """Give the person the next number of the employer's oldest open range and return it.

    The range row is locked (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the caller's write
    transaction is BEGIN IMMEDIATE, see infra.database), so concurrent draws queue and every
    number is handed out once, in order, without gaps. Raises RangeExhausted, writing nothing,
    when the employer has no number left.
    """
    number_range = _lock_open_range(session, employer_id)
    if number_range is None:
        employer = session.get(Organisation, employer_id)
        name = employer.name if employer is not None else "unknown employer"
        raise RangeExhausted(employer_id, name, range_usage(session, employer_id))
    person = _person_without_number(session, person_id)
    if person.employer_id != employer_id:
        raise CertificateError("person_not_with_employer", person_id=person_id, employer_id=employer_id)
    sequence = number_range.next_value
    number = format_number(number_range.prefix, sequence)
    number_range.next_value = sequence + 1
    if number_range.next_value > number_range.last:
        number_range.exhausted_at = now
    _record(session, person, number, NumberStatus.ASSIGNED, china_day(now).year, now, number_range.id)
    return number


def keep_existing_number(session: Session, person_id: int, number: str, year: int, now: datetime) -> str:
    """Record the number of a person's 2013/2014 new-style certificate as kept, and return it."""
    if year not in KEPT_YEARS:
        raise CertificateError("kept_number_year", year=year)
    number = clean_text(number, "certificate_number", 32)
    if not number:
        raise CertificateError("kept_number_required")
    person = _person_without_number(session, person_id)
    _refuse_number_in_use(session, number)
    _record(session, person, number, NumberStatus.KEPT, year, now, range_id=None)
    return number


def void_number(
    session: Session, number: str, reason: str, now: datetime, by_user_id: int | None = None
) -> None:
    """Void a number for a reason: it stays recorded with who voided it, is never handed out again, and
    the person loses it."""
    reason = clean_text(reason, "reason", 255)
    if not reason:
        raise CertificateError("void_reason_required")
    record = session.get(CertificateNumber, number, with_for_update=True, populate_existing=True)
    if record is None:
        raise CertificateError("number_never_assigned", number=number)
    if record.status == NumberStatus.VOIDED:
        raise CertificateError("number_already_void", number=number, reason=record.void_reason)
    record.status, record.void_reason, record.voided_at = NumberStatus.VOIDED, reason, now
    record.voided_by_id = by_user_id
    if record.person_id is not None:
        person = session.get(Person, record.person_id, with_for_update=True, populate_existing=True)
        if person is not None and person.certificate_number == number:
            person.certificate_number, person.certificate_year = None, None
    session.flush()


def range_usage(session: Session, employer_id: int) -> RangeUsage:
    """Return how many numbers the employer was allocated, has handed out and has left."""
    total, used = session.execute(
        select(
            func.coalesce(func.sum(NumberRange.last - NumberRange.first + 1), 0),
            func.coalesce(func.sum(NumberRange.next_value - NumberRange.first), 0),
        ).where(NumberRange.employer_id == employer_id)
    ).one()
    return RangeUsage(total=int(total), used=int(used), left=int(total) - int(used))


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int):
        raise RangeError("range_size_not_whole", size=str(size))
    if not 1 <= size <= MAX_RANGE_SIZE:
        raise RangeError("range_size_out_of_bounds", size=size, most=MAX_RANGE_SIZE)


def _organisation(session: Session, org_id: int, kind: str, lock: bool = False) -> Organisation:
    org = session.get(Organisation, org_id, with_for_update=lock)
    if org is None or org.kind != kind:
        if kind == OrganisationKind.HRSS:
            raise RangeError("range_allocator_not_hrss", organisation_id=org_id)
        raise RangeError("range_holder_not_employer", organisation_id=org_id)
    return org


def _lock_open_range(session: Session, employer_id: int) -> NumberRange | None:
    # Lock all the employer's open ranges (one or two in practice) and pick in Python from the rows
    # actually locked: a rival may exhaust a range while we wait, and PostgreSQL then re-reads it.
    query = (
        select(NumberRange)
        .where(NumberRange.employer_id == employer_id, NumberRange.exhausted_at.is_(None))
        .order_by(NumberRange.allocated_at, NumberRange.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return next((r for r in session.scalars(query) if r.next_value <= r.last), None)


def _person_without_number(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id, with_for_update=True, populate_existing=True)
    if person is None:
        raise CertificateError("person_missing", person_id=person_id)
    if person.certificate_number is not None:
        raise CertificateError("person_has_number", person_id=person_id, number=person.certificate_number)
    return person


def _refuse_number_in_use(session: Session, number: str) -> None:
    record = session.get(CertificateNumber, number)
    if record is not None:
        raise NumberInUse("number_recorded", number=number, status=record.status)
    holder = session.scalar(select(Person.id).where(Person.certificate_number == number))
    if holder is not None:
        raise NumberInUse("number_held", number=number, person_id=holder)
    if len(number) == NUMBER_LENGTH and number.isdigit():
        sequence = int(number[-SEQUENCE_DIGITS:])
        allocated = session.scalar(
            select(NumberRange.id).where(
                NumberRange.prefix == number[:-SEQUENCE_DIGITS],
                NumberRange.first <= sequence,
                NumberRange.last >= sequence,
            )
        )
        if allocated is not None:
            raise NumberInUse("number_in_allocated_range", number=number, range_id=allocated)


def _refuse_kept_numbers_inside(session: Session, prefix: str, first: int, last: int) -> None:
    clash = session.scalar(
        select(CertificateNumber.number).where(
            func.length(CertificateNumber.number) == NUMBER_LENGTH,
            CertificateNumber.number.between(format_number(prefix, first), format_number(prefix, last)),
        )
    )
    if clash is not None:
        raise RangeError(
            "range_covers_recorded_number",
            first=format_number(prefix, first),
            last=format_number(prefix, last),
            number=clash,
        )


def _record(
    session: Session, person: Person, number: str, status: str, year: int, now: datetime, range_id: int | None
) -> None:
    """Store the number's row and give it to the person."""
    session.add(
        CertificateNumber(
            number=number,
            person_id=person.id,
            employer_id=person.employer_id,
            range_id=range_id,
            status=status,
            year=year,
            assigned_at=now,
        )
    )
    person.certificate_number, person.certificate_year = number, year
    session.flush()
