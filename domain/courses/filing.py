"""Filing a course with the HRSS (R7): who may file what, the checks, the filing number, the catalogue's life.

An institution files public or professional courses with the HRSS of its own level and region; a
county institution (a county CE base) is checked by its county HRSS first and approved by the city
HRSS. A professional subject an industry authority sets is filed by that authority. A change to an
approved course is a new filing that names it: once approved, the old version is kept as superseded.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal
from decimal import InvalidOperation

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.accounts.principals import org_principal
from domain.accounts.users import Actor
from domain.calendar.deadlines import china_day
from domain.courses.records import Course
from domain.courses.records import CourseStatus
from domain.courses.records import FilingCounter
from domain.courses.records import Mode
from domain.courses.records import Subject
from domain.organisations.jurisdiction import region_and_below
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import OrganisationStatus
from domain.organisations.records import RegionLevel
from domain.organisations.records import load_regions
from domain.organisations.records import region_at_level
from domain.refusals import Refusal
from domain.text import clean_text

MAX_HOURS = 200  # one course's 学时; a year asks about 90 in all (R16)
MAX_FEE_CENTS = 1_000_000  # 10 000 元 a person: anything above is a typing error
OPEN = (CourseStatus.PENDING,)


class CourseRefused(Refusal):
    """A filing that cannot be accepted; `code` and `params` say why."""


@dataclass(frozen=True)
class CourseApplication:
    """What a filer types into the filing form."""

    title: str
    subject: str
    hours: int
    mode: str
    year: int
    fee_cents: int
    industry: str | None = None
    description: str = ""


def filer_for(session: Session, actor: Actor) -> Organisation:
    """Return the active institution or authority the actor files for as unit admin; refuse anyone else."""
    org = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    if org is None or org.kind not in (OrganisationKind.INSTITUTION, OrganisationKind.AUTHORITY):
        raise CourseRefused("course_filer_kind")
    if org.status != OrganisationStatus.ACTIVE:
        raise CourseRefused("course_filer_inactive", name=org.name)
    if org_principal(org.id, "admin") not in actor.principals:
        raise CourseRefused("course_filer_admin")
    return org


def checked_application(
    filer: Organisation, application: CourseApplication, now: datetime
) -> CourseApplication:
    """Return the application cleaned, or raise CourseRefused naming the first rule it breaks."""
    title = clean_text(application.title, "title", 128)
    if not title:
        raise CourseRefused("course_title_empty")
    if application.subject not in tuple(Subject):
        raise CourseRefused("course_subject", value=str(application.subject))
    if application.mode not in tuple(Mode):
        raise CourseRefused("course_mode", value=str(application.mode))
    industry = clean_text(application.industry, "industry", 64) or None
    if filer.kind == OrganisationKind.AUTHORITY:
        if application.subject != Subject.PROFESSIONAL:
            raise CourseRefused("course_authority_public")
        industry = filer.industry or industry  # an authority sets its own industry's subjects
    if application.subject == Subject.PROFESSIONAL and not industry:
        raise CourseRefused("course_industry_required")
    if application.subject == Subject.PUBLIC:
        industry = None
    if not 1 <= int(application.hours) <= MAX_HOURS:
        raise CourseRefused("course_hours", value=int(application.hours), high=MAX_HOURS)
    if not 0 <= int(application.fee_cents) <= MAX_FEE_CENTS:
        raise CourseRefused("course_fee", value=f"{int(application.fee_cents) / 100:.2f}")
    this_year = china_day(now).year
    if int(application.year) not in (this_year, this_year + 1):
        raise CourseRefused("course_year", value=int(application.year), low=this_year, high=this_year + 1)
    description = clean_text(application.description, "description", 4000, multiline=True)
    return CourseApplication(
        title,
        application.subject,
        int(application.hours),
        application.mode,
        int(application.year),
        int(application.fee_cents),
        industry,
        description,
    )


def open_course_filing(
    session: Session,
    filer: Organisation,
    application: CourseApplication,
    now: datetime,
    filed_by_id: int | None,
    supersedes_id: int | None = None,
) -> Course:
    """Record a pending filing (a new course, or a new version of an approved one of the filer's)."""
    application = checked_application(filer, application, now)
    if supersedes_id is not None:
        old = session.get(Course, supersedes_id)
        if old is None or old.filer_id != filer.id or old.status != CourseStatus.APPROVED:
            raise CourseRefused("course_supersede")
    course = Course(
        filer_id=filer.id,
        filer_kind=filer.kind,
        region_code=filer.region_code,
        title=application.title,
        subject=application.subject,
        industry=application.industry,
        hours=application.hours,
        mode=application.mode,
        year=application.year,
        fee_cents=application.fee_cents,
        description=application.description,
        status=CourseStatus.PENDING,
        supersedes_id=supersedes_id,
        filed_by_id=filed_by_id,
        filed_at=now,
    )
    session.add(course)
    session.flush()
    return course


def needs_city_approval(session: Session, course: Course) -> bool:
    """Say whether a county CE base filed it: its county HRSS checks it, the city HRSS approves it (R7)."""
    if course.filer_kind != OrganisationKind.INSTITUTION:
        return False
    region = load_regions(session).get(course.region_code)
    return region is not None and region.level == RegionLevel.COUNTY


def approving_region(session: Session, course: Course) -> str:
    """Return the region whose HRSS gives the filing number: the city above a county CE base, else its own."""
    if needs_city_approval(session, course):
        return (
            region_at_level(load_regions(session), course.region_code, RegionLevel.CITY) or course.region_code
        )
    return course.region_code


def process_data(session: Session, course: Course, filer: Organisation) -> dict:
    """Return what the filing process routes and shows by."""
    return {
        "course_id": course.id,
        "filer_id": filer.id,
        "region_code": course.region_code,
        "needs_city_approval": needs_city_approval(session, course),
        "subject": f"课程备案：{course.title}（{course.year}年）",
        "title": course.title,
        "course_subject": course.subject,
        "industry": course.industry,
        "hours": course.hours,
        "mode": course.mode,
        "year": course.year,
        "fee_cents": course.fee_cents,
        "description": course.description,
    }


def fee_cents(yuan) -> int:
    """Return a fee typed in 元 (a number or its text) in 分; refuse what is not an amount."""
    try:
        return int((Decimal(str(yuan)) * 100).to_integral_value(ROUND_HALF_UP))
    except (InvalidOperation, ValueError) as error:
        raise CourseRefused("course_fee", value=str(yuan)) from error


def update_course_filing(session: Session, course_id: int, data: dict, now: datetime) -> dict:
    """Apply a resubmitted form (after a return) to the pending filing; return the fields as stored."""
    course = session.get(Course, course_id)
    filer = session.get(Organisation, course.filer_id)
    application = checked_application(
        filer,
        CourseApplication(
            data.get("title", course.title),
            data.get("course_subject", course.subject),
            data.get("hours", course.hours),
            data.get("mode", course.mode),
            data.get("year", course.year),
            fee_cents(data["fee"])
            if data.get("fee") is not None
            else data.get("fee_cents", course.fee_cents),
            data.get("industry", course.industry),
            data.get("description", course.description),
        ),
        now,
    )
    course.title, course.subject, course.industry = (
        application.title,
        application.subject,
        application.industry,
    )
    course.hours, course.mode, course.year = application.hours, application.mode, application.year
    course.fee_cents, course.description = application.fee_cents, application.description
    course.status = CourseStatus.PENDING
    return {"title": course.title, "subject": f"课程备案：{course.title}（{course.year}年）"}


def approve_course_filing(session: Session, course_id: int, now: datetime) -> str:
    """Approve the filing: give it the approving HRSS's next number; an older version it changes is kept."""
    course = session.get(Course, course_id)
    region = approving_region(session, course)
    counter = session.get(FilingCounter, (region, course.year), with_for_update=True)
    if counter is None:
        counter = FilingCounter(region_code=region, year=course.year, last=0)
        session.add(counter)
    counter.last += 1
    course.filing_number = f"{region}-{course.year}-{counter.last:04d}"
    course.status, course.decided_at = CourseStatus.APPROVED, now
    if course.supersedes_id is not None:
        session.execute(
            update(Course)
            .where(Course.id == course.supersedes_id, Course.status == CourseStatus.APPROVED)
            .values(status=CourseStatus.SUPERSEDED)
        )
    session.flush()
    return course.filing_number


def close_course_filing(session: Session, course_id: int, status: str, now: datetime) -> None:
    """Close a filing that ended without approval (rejected, withdrawn, terminated)."""
    final = CourseStatus.REJECTED if status == "rejected" else CourseStatus.WITHDRAWN
    session.execute(
        update(Course)
        .where(Course.id == course_id, Course.status.in_(OPEN))
        .values(status=final, decided_at=now)
    )


def may_retire(session: Session, actor: Actor, filer_id: int, region_code: str, status: str) -> bool:
    """Say whether the actor may take the course out of the catalogue: it is approved, and the actor is
    its filer's unit admin, an HRSS over its region, or an administrator (page and service ask here)."""
    if status != CourseStatus.APPROVED:
        return False
    if actor.is_admin:
        return True
    if actor.organisation_id == filer_id:
        return org_principal(filer_id, "admin") in actor.principals
    if actor.organisation_kind == OrganisationKind.HRSS:
        return region_code in region_and_below(session, actor.region_code)
    return False


def retire_course(session: Session, course_id: int, reason: str, now: datetime) -> Course:
    """Take an approved course out of the catalogue; it keeps its number and the hours it gave."""
    reason = clean_text(reason, "reason", 500)
    if not reason:
        raise CourseRefused("course_retire_reason")
    course = session.scalar(select(Course).where(Course.id == course_id).with_for_update())
    if course is None or course.status != CourseStatus.APPROVED:
        raise CourseRefused("course_not_in_catalogue")
    course.status, course.retired_at, course.retired_reason = CourseStatus.RETIRED, now, reason
    return course
