"""Enrolment and fees (R13): a person enrols in an approved course, or an employer enrols its persons at once.

The fee is the course's filed price at the time of enrolment. Payment happens outside CE Flow; what
is recorded is its state: unpaid, or paid by bank transfer or online and confirmed by the institution,
the invoice request (title and tax number) and the invoice number the institution enters. An employer's
bulk enrolment is one order: one transfer, one confirmation, one invoice for all its enrolments.
"""

import enum
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.principals import org_principal
from domain.accounts.users import Actor
from domain.base import Base
from domain.calendar.deadlines import china_day
from domain.courses.records import Course
from domain.courses.records import CourseStatus
from domain.organisations.records import Organisation
from domain.persons.records import Person
from domain.persons.records import PersonStatus
from domain.refusals import Refusal
from domain.text import clean_text

MAX_BULK = 2000  # persons in one order; a large hospital enrols a few hundred at once


class PaymentState(enum.StrEnum):
    UNPAID = "unpaid"
    TRANSFER_CONFIRMED = "transfer_confirmed"  # paid by bank transfer, confirmed by the institution
    ONLINE_CONFIRMED = "online_confirmed"  # paid online, confirmed by the institution


CONFIRMED_BY_METHOD = {"transfer": PaymentState.TRANSFER_CONFIRMED, "online": PaymentState.ONLINE_CONFIRMED}


class EnrolmentRefused(Refusal):
    """An enrolment or payment step that cannot be done; `code` and `params` say why."""


class EnrolmentOrder(Base):
    """An employer's bulk enrolment: one course, many of its persons, paid and invoiced together."""

    __tablename__ = "enrolment_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int]
    created_at: Mapped[datetime]


class Enrolment(Base):
    """One person in one course: the fee owed, how it was paid, the invoice, the hours it gave."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("course_id", "person_id", name="uq_enrolment_course_person"),
        Index("ix_enrolment_person", "person_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment_order.id"), index=True)
    fee_cents: Mapped[int]
    payment_state: Mapped[str] = mapped_column(String(24), default=PaymentState.UNPAID)
    payment_confirmed_at: Mapped[datetime | None]
    payment_confirmed_by_id: Mapped[int | None]
    invoice_title: Mapped[str | None] = mapped_column(String(128))
    invoice_tax_id: Mapped[str | None] = mapped_column(String(32))
    invoice_requested_at: Mapped[datetime | None]
    invoice_number: Mapped[str | None] = mapped_column(String(64))
    # the result, set when the HRSS approves the score submission that carries it (R8): only then
    # does a passed course credit its hours
    score: Mapped[str | None] = mapped_column(String(16))  # as the institution reports it: 86, 优秀, 合格
    passed: Mapped[bool | None]
    completed_on: Mapped[date | None]
    hours_credited: Mapped[int | None]
    credited_at: Mapped[datetime | None]
    enrolled_by_id: Mapped[int]
    enrolled_at: Mapped[datetime]


@dataclass(frozen=True)
class BulkResult:
    """What a bulk enrolment did: the order, who was enrolled, who already was."""

    order_id: int | None
    enrolled: tuple[int, ...]
    already: tuple[int, ...]


def _open_course(session: Session, course_id: int, now: datetime) -> Course:
    course = session.get(Course, course_id)
    if course is None or course.status != CourseStatus.APPROVED:
        raise EnrolmentRefused("enrol_course_closed")
    if course.year < china_day(now).year:
        raise EnrolmentRefused("enrol_course_past", year=course.year)
    return course


def enrol_self(session: Session, actor: Actor, course_id: int, now: datetime) -> Enrolment:
    """Enrol the signed-in person in an approved course of this year or the next."""
    person = session.get(Person, actor.person_id) if actor.person_id else None
    if person is None or person.status != PersonStatus.ACTIVE:
        raise EnrolmentRefused("enrol_not_a_person")
    course = _open_course(session, course_id, now)
    if _enrolled(session, course.id, [person.id]):
        raise EnrolmentRefused("enrol_already", title=course.title)
    enrolment = Enrolment(
        course_id=course.id,
        person_id=person.id,
        fee_cents=course.fee_cents,
        enrolled_by_id=actor.id,
        enrolled_at=now,
    )
    session.add(enrolment)
    session.flush()
    return enrolment


def enrol_in_bulk(
    session: Session, actor: Actor, course_id: int, person_ids: list[int], now: datetime
) -> BulkResult:
    """Enrol an employer's active persons in one order; those already enrolled are named, not doubled."""
    employer_id = actor.organisation_id
    if not employer_id or org_principal(employer_id, "hr") not in actor.principals:
        raise EnrolmentRefused("enrol_not_employer_hr")
    wanted = sorted(set(person_ids))
    if not wanted:
        raise EnrolmentRefused("enrol_none_chosen")
    if len(wanted) > MAX_BULK:
        raise EnrolmentRefused("enrol_too_many", count=len(wanted), limit=MAX_BULK)
    course = _open_course(session, course_id, now)
    own = set(
        session.scalars(
            select(Person.id).where(
                Person.id.in_(wanted), Person.employer_id == employer_id, Person.status == PersonStatus.ACTIVE
            )
        )
    )
    if own != set(wanted):
        raise EnrolmentRefused("enrol_not_own_persons", count=len(set(wanted) - own))
    already = _enrolled(session, course.id, wanted)
    new = [pid for pid in wanted if pid not in already]
    if not new:
        return BulkResult(None, (), tuple(sorted(already)))
    order = EnrolmentOrder(
        course_id=course.id, employer_id=employer_id, created_by_id=actor.id, created_at=now
    )
    session.add(order)
    session.flush()
    session.add_all(
        Enrolment(
            course_id=course.id,
            person_id=pid,
            order_id=order.id,
            fee_cents=course.fee_cents,
            enrolled_by_id=actor.id,
            enrolled_at=now,
        )
        for pid in new
    )
    session.flush()
    return BulkResult(order.id, tuple(new), tuple(sorted(already)))


def raced() -> EnrolmentRefused:
    """The refusal for an enrolment that lost a race with the same one (a double click, two orders)."""
    return EnrolmentRefused("enrol_race")


def _enrolled(session: Session, course_id: int, person_ids: list[int]) -> set[int]:
    found = select(Enrolment.person_id).where(
        Enrolment.course_id == course_id, Enrolment.person_id.in_(person_ids)
    )
    return set(session.scalars(found))


def _institutions_enrolments(session: Session, actor: Actor, enrolment_ids: list[int]) -> list[Enrolment]:
    """Return the enrolments, all in courses the actor's institution filed; refuse any other."""
    if not actor.organisation_id or org_principal(actor.organisation_id, "admin") not in actor.principals:
        raise EnrolmentRefused("enrol_not_institution")
    rows = list(
        session.scalars(
            select(Enrolment)
            .join(Course, Course.id == Enrolment.course_id)
            .where(Enrolment.id.in_(enrolment_ids), Course.filer_id == actor.organisation_id)
            .with_for_update(of=Enrolment)
        )
    )
    if not rows or len(rows) != len(set(enrolment_ids)):
        raise EnrolmentRefused("enrol_not_found")
    return rows


def order_enrolment_ids(session: Session, order_id: int) -> list[int]:
    return list(session.scalars(select(Enrolment.id).where(Enrolment.order_id == order_id)))


def confirm_payment(
    session: Session, actor: Actor, enrolment_ids: list[int], method: str, now: datetime
) -> int:
    """The institution confirms it received the fees (by transfer or online); return how many it confirmed.

    Confirming twice changes nothing: an enrolment already confirmed keeps its first confirmation.
    """
    if method not in CONFIRMED_BY_METHOD:
        raise EnrolmentRefused("payment_method", value=str(method))
    rows = _institutions_enrolments(session, actor, enrolment_ids)
    confirmed = 0
    for row in rows:
        if row.payment_state == PaymentState.UNPAID:
            row.payment_state = CONFIRMED_BY_METHOD[method]
            row.payment_confirmed_at, row.payment_confirmed_by_id = now, actor.id
            confirmed += 1
    return confirmed


def request_invoice(
    session: Session, actor: Actor, enrolment_ids: list[int], title: str, tax_id: str, now: datetime
) -> None:
    """The payer (the person, or the employer for its order) asks the institution for an invoice."""
    title = clean_text(title, "invoice_title", 128)
    tax_id = clean_text(tax_id, "invoice_tax_id", 32)
    if not title:
        raise EnrolmentRefused("invoice_title_empty")
    rows = list(session.scalars(select(Enrolment).where(Enrolment.id.in_(enrolment_ids))))
    payer_ok = rows and all(_is_payer(session, actor, row) for row in rows)
    if not payer_ok or len(rows) != len(set(enrolment_ids)):
        raise EnrolmentRefused("enrol_not_found")
    session.execute(
        update(Enrolment)
        .where(Enrolment.id.in_(enrolment_ids))
        .values(invoice_title=title, invoice_tax_id=tax_id or None, invoice_requested_at=now)
    )


def _is_payer(session: Session, actor: Actor, row: Enrolment) -> bool:
    if row.order_id is None:
        return actor.person_id == row.person_id
    employer = session.scalar(select(EnrolmentOrder.employer_id).where(EnrolmentOrder.id == row.order_id))
    return employer == actor.organisation_id and org_principal(employer, "hr") in actor.principals


def record_invoice(session: Session, actor: Actor, enrolment_ids: list[int], number: str) -> None:
    """The institution enters the number of the invoice it issued for requested, paid enrolments."""
    number = clean_text(number, "invoice_number", 64)
    if not number:
        raise EnrolmentRefused("invoice_number_empty")
    rows = _institutions_enrolments(session, actor, enrolment_ids)
    if any(row.invoice_requested_at is None for row in rows):
        raise EnrolmentRefused("invoice_not_requested")
    if any(row.payment_state == PaymentState.UNPAID for row in rows):
        raise EnrolmentRefused("invoice_unpaid")
    for row in rows:
        row.invoice_number = number


@dataclass(frozen=True)
class EnrolmentRow:
    id: int
    person_id: int
    person_name: str
    employer_id: int
    order_id: int | None
    fee_cents: int
    payment_state: str
    invoice_requested: bool
    invoice_number: str | None
    hours_credited: int | None


def enrolments_of_course(session: Session, actor: Actor, course_id: int) -> list[EnrolmentRow]:
    """Return a course's enrolments for its institution (R15: the persons enrolled in its own courses)."""
    course = session.get(Course, course_id)
    if course is None or (not actor.is_admin and course.filer_id != actor.organisation_id):
        raise EnrolmentRefused("enrol_not_found")
    rows = session.execute(
        select(
            Enrolment.id,
            Person.id,
            Person.name,
            Person.employer_id,
            Enrolment.order_id,
            Enrolment.fee_cents,
            Enrolment.payment_state,
            Enrolment.invoice_requested_at.is_not(None),
            Enrolment.invoice_number,
            Enrolment.hours_credited,
        )
        .join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.course_id == course_id)
        .order_by(Enrolment.id)
    )
    return [EnrolmentRow(*row) for row in rows]


def order_total(session: Session, order_id: int) -> tuple[int, int]:
    """Return (persons, total fee in 分) of an order."""
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Enrolment.fee_cents), 0)).where(
            Enrolment.order_id == order_id
        )
    ).one()
    return int(count), int(total)


def earned(enrolment: Enrolment) -> bool:
    """Tell whether an enrolment earns a pass certificate: passed, its hours credited by an approved score."""
    return bool(enrolment.passed) and enrolment.credited_at is not None and enrolment.completed_on is not None


@dataclass(frozen=True)
class PersonEnrolmentRow:
    """One of a person's own enrolments, as their courses page lists it."""

    id: int
    course_title: str
    institution: str
    year: int
    subject: str
    course_hours: int
    payment_state: str
    passed: bool | None
    hours_credited: int | None
    completed_on: date | None
    certificate: bool  # passed and credited: the pass certificate can be downloaded


def enrolments_of_person(session: Session, actor: Actor) -> list[PersonEnrolmentRow]:
    """Return the signed-in person's own enrolments, newest year first; no one else's."""
    if actor.person_id is None:
        return []
    rows = session.execute(
        select(Enrolment, Course.title, Organisation.name, Course.year, Course.subject, Course.hours)
        .join(Course, Course.id == Enrolment.course_id)
        .join(Organisation, Organisation.id == Course.filer_id)
        .where(Enrolment.person_id == actor.person_id)
        .order_by(Course.year.desc(), Enrolment.id.desc())
    )
    return [
        PersonEnrolmentRow(
            id=row.id,
            course_title=title,
            institution=institution,
            year=year,
            subject=subject,
            course_hours=hours,
            payment_state=row.payment_state,
            passed=row.passed if row.credited_at else None,
            hours_credited=row.hours_credited,
            completed_on=row.completed_on,
            certificate=earned(row),
        )
        for row, title, institution, year, subject, hours in rows
    ]


def enrolled_among(session: Session, course_id: int, person_ids: list[int]) -> set[int]:
    """Return which of these persons are enrolled in the course."""
    return _enrolled(session, course_id, person_ids) if person_ids else set()


@dataclass(frozen=True)
class OwnEnrolment:
    """A payer's view of its enrolments in one course: a person's own one, or an employer's order."""

    enrolment_ids: tuple[int, ...]
    order_id: int | None
    persons: int
    total_cents: int
    payment_states: tuple[str, ...]
    invoice_requested: bool
    invoice_number: str | None
    hours_credited: int | None


def own_enrolments(session: Session, actor: Actor, course_id: int) -> list[OwnEnrolment]:
    """Return what the actor pays for in this course: the person's enrolment, or the employer's orders."""
    if actor.person_id is not None:
        rows = session.scalars(
            select(Enrolment).where(Enrolment.course_id == course_id, Enrolment.person_id == actor.person_id)
        ).all()
        return [_summary([row], None) for row in rows]
    if (
        actor.organisation_kind != "employer"
        or org_principal(actor.organisation_id, "hr") not in actor.principals
    ):
        return []
    rows = session.scalars(
        select(Enrolment)
        .join(EnrolmentOrder, EnrolmentOrder.id == Enrolment.order_id)
        .where(Enrolment.course_id == course_id, EnrolmentOrder.employer_id == actor.organisation_id)
        .order_by(Enrolment.order_id, Enrolment.id)
    ).all()
    by_order: dict[int, list[Enrolment]] = {}
    for row in rows:
        by_order.setdefault(row.order_id, []).append(row)
    return [_summary(group, order_id) for order_id, group in by_order.items()]


def _summary(rows: list[Enrolment], order_id: int | None) -> OwnEnrolment:
    return OwnEnrolment(
        tuple(row.id for row in rows),
        order_id,
        len(rows),
        sum(row.fee_cents for row in rows),
        tuple(sorted({row.payment_state for row in rows})),
        all(row.invoice_requested_at is not None for row in rows),
        next((row.invoice_number for row in rows if row.invoice_number), None),
        rows[0].hours_credited if order_id is None else None,
    )
