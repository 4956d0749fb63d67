"""The course catalogue by year, scoped by R15: whom each course is shown to, and one course's record.

An institution or authority sees its own filings in every state; an HRSS sees the filings of its
region and the regions below it; everyone else (employers, persons, authorities for other courses)
sees the approved catalogue, which is what they enrol from.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.courses.records import Course
from domain.courses.records import CourseStatus
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.jurisdiction import region_and_below
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from infra.keyset import Page
from infra.keyset import search

BY_NEWEST: tuple = ((Course.id, True),)


@dataclass(frozen=True)
class CourseRow:
    id: int
    title: str
    subject: str
    industry: str | None
    hours: int
    mode: str
    year: int
    fee_cents: int
    status: str
    filing_number: str | None
    filer_id: int
    filer_name: str
    region_code: str
    filed_at: datetime


def course_filter(session: Session, actor: Actor):
    """Return the SQL condition on Course for what the actor may see."""
    if actor.is_admin:
        return true()
    own = Course.filer_id == actor.organisation_id if actor.organisation_id else false()
    if actor.organisation_kind == OrganisationKind.INSTITUTION:
        return own  # R15: an institution sees its own courses, nothing else
    catalogue = Course.status == CourseStatus.APPROVED
    if actor.organisation_kind == OrganisationKind.HRSS:
        return or_(Course.region_code.in_(region_and_below(session, actor.region_code)), catalogue)
    return or_(own, catalogue)


def _query():
    return select(
        Course.id,
        Course.title,
        Course.subject,
        Course.industry,
        Course.hours,
        Course.mode,
        Course.year,
        Course.fee_cents,
        Course.status,
        Course.filing_number,
        Course.filer_id,
        Organisation.name,
        Course.region_code,
        Course.filed_at,
    ).join(Organisation, Organisation.id == Course.filer_id)


def search_courses(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    year: int | None = None,
    subject: str | None = None,
    industry: str | None = None,
    mode: str | None = None,
    filer_id: int | None = None,
    region: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[CourseRow]:
    """Return the courses the actor may see that match the filters, newest first, with counts per status."""
    conditions = [course_filter(session, actor)]
    if q and q.strip():
        text = q.strip()
        conditions.append(or_(Course.title.contains(text, autoescape=True), Course.filing_number == text))
    for column, value in ((Course.year, year), (Course.subject, subject), (Course.mode, mode)):
        if value:
            conditions.append(column == value)
    if industry:
        conditions.append(Course.industry == industry)
    if filer_id:
        conditions.append(Course.filer_id == filer_id)
    if region:
        conditions.append(Course.region_code.in_(region_and_below(session, region)))
    return search(
        session,
        _query(),
        BY_NEWEST,
        conditions,
        make=lambda row: CourseRow(*row),
        status_column=Course.status,
        statuses=tuple(CourseStatus),
        status=status,
        after=after,
        limit=limit,
    )


def visible_course(session: Session, actor: Actor, course_id: int) -> CourseRow:
    """Return one course the actor may see, or raise NotVisible."""
    row = session.execute(_query().where(and_(Course.id == course_id, course_filter(session, actor)))).first()
    if row is None:
        raise NotVisible(f"course {course_id}")
    return CourseRow(*row)


def catalogue_filers(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Return the filers whose courses the actor may see, by name: the institution filter's choices."""
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(select(Course.filer_id).where(course_filter(session, actor)).distinct()))
        .order_by(Organisation.name)
    )
    return [tuple(row) for row in rows]
