"""Courses for the demo, the tests and the benches.

The demo's courses go through the services as the offices would file and work them: approved,
pending at a county, pending at the city, returned to the institution; enrolments in every payment
state. `enrolled_course` writes an approved course with many enrolled persons in bulk, for score
imports in tests and benches."""

import io
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.calendar.deadlines import china_day
from domain.courses.enrolment import Enrolment
from domain.courses.enrolment import order_enrolment_ids
from domain.courses.filing import CourseApplication
from domain.courses.records import Course
from domain.files import DatabaseFileStore
from domain.organisations.records import Organisation
from domain.persons.records import Person
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from infra.bulk_rows import bump_sequences
from infra.bulk_rows import write_rows
from seed.population import id_number
from services import courses
from services.scores import submit_score_file
from services.tasks import TaskInput
from services.tasks import act_on_task

# professionals of 叶县人民医院 already registered, so its HR has someone to enrol
HOSPITAL_STAFF = [
    ("410422198505050051", "周敏", "intermediate"),
    ("410422198707070072", "吴磊", "junior"),
    ("410422198209090093", "郑华", "senior_associate"),
    ("410422199011110014", "王芳", "intermediate"),
]


def valid_id(number: str) -> str:
    return number[:17] + ric.calc_check_digit(number[:17] + "0")


ENROLLED_PROFESSIONAL = valid_id(HOSPITAL_STAFF[0][0])  # a demo login: enrolled, paid online


def _actor(rt: Runtime, username: str):
    with unit_of_work(rt, write=False) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return actor_for(session, user_id)


def _decide(rt: Runtime, username: str, instance_id: int, action: str = "approve", opinion: str = "同意备案"):
    with unit_of_work(rt, write=False) as session:
        task_id = session.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        )
    act_on_task(rt, _actor(rt, username), action, task_id, TaskInput(opinion=opinion))


def _hospital_staff(rt: Runtime, password_hash: str) -> list[int]:
    """Register the hospital's staff as active professionals; return their person ids."""
    made = []
    with unit_of_work(rt) as session:
        hospital = session.scalar(select(User.organisation_id).where(User.username == "yexian-hr"))
        now = rt.clock()
        for raw, name, level in HOSPITAL_STAFF:
            number = valid_id(raw)
            user = User(username=number, password_hash=password_hash, display_name=name, created_at=now)
            session.add(user)
            session.flush()
            person = Person(
                id_number=number,
                name=name,
                gender="M" if int(number[16]) % 2 else "F",
                birth_date=ric.get_birth_date(number),
                employer_id=hospital,
                region_code=session.get(Organisation, hospital).region_code,
                title_level=level,
                title_series="卫生技术",
                status="active",
                user_id=user.id,
                created_at=now,
                registered_at=now,
            )
            session.add(person)
            session.flush()
            made.append(person.id)
    return made


def _course_of_instance(rt: Runtime, instance_id: int) -> int:
    with unit_of_work(rt, write=False) as session:
        key = session.scalar(select(ProcessInstance.business_key).where(ProcessInstance.id == instance_id))
    return int(key.split(":")[1])


def _ids(rt: Runtime, order_id: int) -> list[int]:
    with unit_of_work(rt, write=False) as session:
        return order_enrolment_ids(session, order_id)


def _scores_waiting(rt: Runtime, institution, course_id: int, year: int) -> None:
    """The institution's scores for the hospital's order, waiting for the city HRSS to review them."""
    done = min(date(year, 6, 1), china_day(rt.clock()))
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "姓名", "成绩", "是否合格", "学时", "完成日期"])
    for number, name, _level in HOSPITAL_STAFF[1:]:
        sheet.append([valid_id(number), name, 88, "合格", 12, done])
    out = io.BytesIO()
    book.save(out)
    # the demo's file goes to the database store, whatever FILE_STORE a deployment names
    submit_score_file(
        rt, institution, course_id, "成绩（示例）.xlsx", out.getvalue(), DatabaseFileStore(), str
    )


def load_demo_courses(rt: Runtime, password_hash: str) -> int:
    """File and work the demo courses; return how many courses were filed."""
    year = china_day(rt.clock()).year
    staff = _hospital_staff(rt, password_hash)

    def file(username: str, title: str, **changes) -> int:
        values = dict(subject="public", hours=12, mode="online", fee_cents=6000, industry=None)
        values.update(changes)
        application = CourseApplication(title=title, year=year, description=f"{title}（示例大纲）", **values)
        return courses.file_course(rt, _actor(rt, username), application)

    ethics = file("pds-cebase", "公需科目：专业技术人员职业道德与诚信建设")
    _decide(rt, "pds-reviewer", ethics)
    teaching = file(
        "pds-education",
        "中小学教师信息技术应用能力提升",
        subject="professional",
        hours=24,
        mode="face_to_face",
        fee_cents=18000,
        industry="教育",
    )
    _decide(rt, "pds-reviewer", teaching)
    health = dict(subject="professional", hours=16, mode="face_to_face", fee_cents=8000, industry="卫生")
    file("yexian-cebase", "基层卫生适宜技术推广", **health)  # waits at the county
    rural = file("yexian-cebase", "公需科目：乡村振兴政策解读", hours=8, fee_cents=4000)
    _decide(rt, "yexian-reviewer", rural, opinion="初审同意，报市局备案")  # now waits at the city
    digital = file("pds-cebase", "数字经济与创新驱动", hours=10, fee_cents=5000)
    _decide(
        rt, "pds-reviewer", digital, "return", "收费标准请附物价部门核定文件"
    )  # back with the institution

    ethics_id = _course_of_instance(rt, ethics)
    hr, base = _actor(rt, "yexian-hr"), _actor(rt, "pds-cebase")
    order = courses.enrol_persons(rt, hr, ethics_id, staff[1:])
    courses.request_invoice(rt, hr, _ids(rt, order.order_id), "叶县人民医院", "12410422MB1234567X")
    courses.confirm_payment(rt, base, _ids(rt, order.order_id), "transfer")
    courses.record_invoice(rt, base, _ids(rt, order.order_id), "41002600001234")
    own = courses.enrol(rt, _actor(rt, ENROLLED_PROFESSIONAL), ethics_id)
    courses.confirm_payment(rt, base, [own], "online")
    courses.enrol(rt, _actor(rt, ENROLLED_PROFESSIONAL), _course_of_instance(rt, teaching))  # unpaid
    _scores_waiting(rt, base, ethics_id, year)
    return 5


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
