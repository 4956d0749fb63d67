"""Pass certificates (合格证明, R8): issued once for a passed, credited course, verifiable by anyone.

A certificate is issued the first time its person asks for it and never changes after: its row
keeps a copy of what the document shows (the person's name and masked ID number, the course, its
filing number, the institution, the date) and the PDF itself is kept in the file store. Regenerating
the PDF on each download would not give the same document for ever: a person's name, a course's
record and the installed fonts and library may change, while a certificate already printed and
handed to an employer must keep verifying as printed. Every web node reads the same stored bytes.

The verification code is 16 characters of an alphabet without look-alikes (no 0/O, 1/I/L), drawn
by `secrets`: 31^16, about 79 bits, so codes cannot be guessed or enumerated, even without the
public page's rate limit.
"""

import secrets
from collections.abc import Callable
from dataclasses import fields
from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.users import Actor
from domain.base import Base
from domain.courses.certificate_document import CertificateContent
from domain.courses.certificate_document import render_certificate
from domain.courses.enrolment import Enrolment
from domain.courses.enrolment import earned
from domain.courses.records import Course
from domain.files import FileStore
from domain.organisations.records import Organisation
from domain.persons.directory import mask_id_number
from domain.persons.records import Person

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16


class CertificateNotFound(LookupError):
    """No certificate here for this actor: not their enrolment, not passed and credited, or no such code."""


class PassCertificate(Base):
    """One issued pass certificate: its code, what it shows, and the stored PDF."""

    __tablename__ = "pass_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    file_key: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime]
    # what the certificate shows, as printed
    person_name: Mapped[str] = mapped_column(String(64))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    course_title: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(16))
    hours: Mapped[int]
    year: Mapped[int]
    institution: Mapped[str] = mapped_column(String(128))
    completed_on: Mapped[date]
    filing_number: Mapped[str] = mapped_column(String(32))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalised_code(text: str) -> str | None:
    """Return a code as stored (capitals, no dashes or spaces), or None when it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def content_of(certificate: PassCertificate) -> CertificateContent:
    """Return what a certificate shows, from its own row."""
    return CertificateContent(**{f.name: getattr(certificate, f.name) for f in fields(CertificateContent)})


def certificate_by_code(session: Session, text: str) -> CertificateContent:
    """Return what the certificate with this code shows; CertificateNotFound for any other code."""
    code = normalised_code(text)
    found = session.scalar(select(PassCertificate).where(PassCertificate.code == code)) if code else None
    if found is None:
        raise CertificateNotFound(text)
    return content_of(found)


def certificate_of(session: Session, actor: Actor, enrolment_id: int) -> PassCertificate | None:
    """Return the certificate already issued for the actor's own enrolment, if any."""
    return session.scalar(
        select(PassCertificate).where(
            PassCertificate.enrolment_id == enrolment_id, PassCertificate.person_id == _person(actor)
        )
    )


def issue_certificate(
    session: Session,
    store: FileStore,
    actor: Actor,
    enrolment_id: int,
    verify_url: Callable[[str], str],
    now: datetime,
) -> PassCertificate:
    """Issue the certificate of the actor's own passed, credited enrolment: draw a code, render, store."""
    row = session.execute(
        select(Enrolment, Course, Person, Organisation)
        .join(Course, Course.id == Enrolment.course_id)
        .join(Person, Person.id == Enrolment.person_id)
        .join(Organisation, Organisation.id == Course.filer_id)
        .where(Enrolment.id == enrolment_id, Enrolment.person_id == _person(actor))
    ).one_or_none()
    if row is None or not earned(row.Enrolment):
        raise CertificateNotFound(enrolment_id)
    enrolment, course, person, institution = row
    content = CertificateContent(
        code=new_code(),
        person_name=person.name,
        id_number_masked=mask_id_number(person.id_number),
        course_title=course.title,
        subject=course.subject,
        hours=enrolment.hours_credited,
        year=course.year,
        institution=institution.name,
        completed_on=enrolment.completed_on,
        filing_number=course.filing_number or "",
    )
    key = store.put(session, render_certificate(content, verify_url(content.code)))
    certificate = PassCertificate(
        enrolment_id=enrolment.id, person_id=person.id, file_key=key, issued_at=now, **content.__dict__
    )
    session.add(certificate)
    session.flush()  # a second issue racing this one fails here on the unique enrolment
    return certificate


def _person(actor: Actor) -> int:
    if actor.person_id is None:
        raise CertificateNotFound("not a person")
    return actor.person_id
