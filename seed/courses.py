"""An approved course with many persons enrolled, written in bulk: for score imports in tests and benches."""

from dataclasses import dataclass
from datetime import date
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import User
from domain.courses.enrolment import Enrolment
from domain.courses.records import Course
from domain.organisations.records import Organisation
from domain.persons.records import Person
from infra.bulk_rows import bump_sequences
from infra.bulk_rows import write_rows
from seed.population import id_number


@dataclass(frozen=True)
class EnrolledCourse:
    institution_id: int
    admin_user_id: int
    course_id: int
    employer_id: int
    persons: list[tuple[int, str, str]]  # (person id, ID number, name)


def _next_id(session: Session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def enrolled_course(
    session: Session,
    *,
    region_code: str,
    persons: int,
    now: datetime,
    year: int = 2025,
    hours: int = 12,
    institution: str = "继续教育基地",
) -> EnrolledCourse:
    """Write an active institution and its unit admin, its approved online course, and enrolled persons."""
    org = Organisation(kind="institution", name=institution, region_code=region_code, created_at=now)
    employer = Organisation(
        kind="employer", name=f"{institution}合作单位", region_code=region_code, created_at=now
    )
    session.add_all([org, employer])
    session.flush()
    admin = User(
        username=f"inst{org.id}-admin",
        password_hash="x",
        display_name=f"{institution}管理员",
        organisation_id=org.id,
        roles="admin",
        created_at=now,
    )
    session.add(admin)
    session.flush()
    org.admin_user_id = admin.id
    course = Course(
        filer_id=org.id,
        filer_kind="institution",
        region_code=region_code,
        title=f"{institution}公需科目",
        subject="public",
        hours=hours,
        mode="online",
        year=year,
        fee_cents=6000,
        status="approved",
        filing_number=f"{region_code}-{year}-0001",
        filed_at=now,
        decided_at=now,
    )
    session.add(course)
    session.flush()
    first_person, first_enrolment = _next_id(session, Person), _next_id(session, Enrolment)
    serial = session.scalar(select(func.count()).select_from(Person)) or 0
    made = [
        (first_person + n, id_number(region_code, serial + n + 1), f"学员{serial + n + 1}")
        for n in range(persons)
    ]
    connection = session.connection()
    write_rows(
        connection,
        Person.__table__,
        (
            {
                "id": pid,
                "id_number": number,
                "name": name,
                "gender": "F",
                "birth_date": date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                "employer_id": employer.id,
                "region_code": region_code,
                "title_level": "intermediate",
                "status": "active",
                "created_at": now,
            }
            for pid, number, name in made
        ),
    )
    write_rows(
        connection,
        Enrolment.__table__,
        (
            {
                "id": first_enrolment + n,
                "course_id": course.id,
                "person_id": pid,
                "fee_cents": 6000,
                "payment_state": "unpaid",
                "enrolled_by_id": admin.id,
                "enrolled_at": now,
            }
            for n, (pid, _number, _name) in enumerate(made)
        ),
    )
    bump_sequences(connection, ("person", "enrolment"))
    return EnrolledCourse(org.id, admin.id, course.id, employer.id, made)
