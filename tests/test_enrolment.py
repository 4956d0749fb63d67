"""Enrolment and fees (R13): self and bulk enrolment, never doubled; payment and invoice by the right side."""

import threading
from datetime import date

import pytest
from sqlalchemy import func
from sqlalchemy import select

from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.courses.enrolment import Enrolment
from domain.courses.enrolment import EnrolmentOrder
from domain.courses.enrolment import EnrolmentRefused
from domain.courses.enrolment import enrolments_of_course
from domain.courses.enrolment import order_total
from domain.courses.records import Course
from domain.organisations.records import Organisation
from domain.persons.records import Person
from services import courses
from tests.conftest import POSTGRES


@pytest.fixture
def scene(session_factory, clock, world):
    """An approved 2025 course of a CE base, a second one retired, an employer with three persons."""
    ids = {}
    with session_factory() as s, s.begin():
        base = Organisation(
            kind="institution", name="叶县继续教育基地", region_code="410422", created_at=clock()
        )
        other = Organisation(
            kind="institution", name="鲁山县继续教育基地", region_code="410423", created_at=clock()
        )
        employer = s.get(User, world["applicant"]).organisation_id
        for org in (base, other):
            org.status = "active"
        s.add_all([base, other])
        s.flush()
        for key, org in (("base", base), ("other", other)):
            s.add(
                User(
                    username=f"{key}-admin",
                    password_hash="x",
                    display_name=key,
                    organisation_id=org.id,
                    roles="admin",
                    created_at=clock(),
                )
            )
        for key, status, fee in (("course", "approved", 6000), ("retired", "retired", 100)):
            course = Course(
                filer_id=base.id,
                filer_kind="institution",
                region_code="410422",
                title=f"{key}课程",
                subject="public",
                hours=12,
                mode="online",
                year=2025,
                fee_cents=fee,
                status=status,
                filed_at=clock(),
            )
            s.add(course)
            s.flush()
            ids[key] = course.id
        for n in range(3):
            user = User(username=f"p{n}", password_hash="x", display_name=f"人员{n}", created_at=clock())
            s.add(user)
            s.flush()
            person = Person(
                id_number=f"41042219850101{n:03d}X",
                name=f"人员{n}",
                gender="M",
                birth_date=date(1985, 1, 1),
                employer_id=employer,
                region_code="410422",
                title_level="junior",
                status="active",
                user_id=user.id,
                created_at=clock(),
            )
            s.add(person)
            s.flush()
            ids[f"p{n}"], ids[f"p{n}_user"] = person.id, user.id
        ids["base_admin"] = s.scalar(select(User.id).where(User.username == "base-admin"))
        ids["other_admin"] = s.scalar(select(User.id).where(User.username == "other-admin"))
    return ids


@pytest.fixture
def who(session_factory, world, scene):
    def get(name):
        with session_factory() as s:
            return actor_for(s, {**world, **scene}[name])

    return get


def count(session_factory, model) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_person_enrols_once_at_the_filed_price(rt, who, scene, session_factory):
    courses.enrol(rt, who("p0_user"), scene["course"])
    with pytest.raises(EnrolmentRefused) as again:
        courses.enrol(rt, who("p0_user"), scene["course"])
    assert again.value.code == "enrol_already"
    with pytest.raises(EnrolmentRefused) as closed:
        courses.enrol(rt, who("p0_user"), scene["retired"])
    assert closed.value.code == "enrol_course_closed"
    with pytest.raises(EnrolmentRefused) as not_person:
        courses.enrol(rt, who("applicant"), scene["course"])
    assert not_person.value.code == "enrol_not_a_person"
    with session_factory() as s:
        [row] = s.scalars(select(Enrolment)).all()
    assert (row.fee_cents, row.payment_state, row.order_id) == (6000, "unpaid", None)


def test_an_employer_enrols_its_persons_in_one_order_and_no_one_twice(rt, who, scene, session_factory):
    courses.enrol(rt, who("p0_user"), scene["course"])
    hr = who("applicant")
    result = courses.enrol_persons(
        rt, hr, scene["course"], [scene["p0"], scene["p1"], scene["p2"], scene["p1"]]
    )
    assert (result.enrolled, result.already) == ((scene["p1"], scene["p2"]), (scene["p0"],))
    with session_factory() as s:
        assert order_total(s, result.order_id) == (2, 12000)
    again = courses.enrol_persons(rt, hr, scene["course"], [scene["p1"], scene["p2"]])
    assert (again.order_id, again.enrolled) == (None, ())  # a double submission orders nothing
    assert (count(session_factory, Enrolment), count(session_factory, EnrolmentOrder)) == (3, 1)
    with pytest.raises(EnrolmentRefused) as stranger:
        courses.enrol_persons(rt, who("base_admin"), scene["course"], [scene["p0"]])
    assert stranger.value.code == "enrol_not_employer_hr"
    with pytest.raises(EnrolmentRefused) as empty:
        courses.enrol_persons(rt, hr, scene["course"], [])
    assert empty.value.code == "enrol_none_chosen"


def test_only_the_filing_institution_confirms_payment_and_enters_the_invoice(rt, who, scene, session_factory):
    order = courses.enrol_persons(rt, who("applicant"), scene["course"], [scene["p0"], scene["p1"]])
    mine = courses.enrol(rt, who("p2_user"), scene["course"])
    with session_factory() as s:
        in_order = list(s.scalars(select(Enrolment.id).where(Enrolment.order_id == order.order_id)))
    with pytest.raises(EnrolmentRefused):
        courses.confirm_payment(rt, who("other_admin"), in_order, "transfer")  # not its course
    with pytest.raises(EnrolmentRefused) as early:
        courses.request_invoice(rt, who("p2_user"), in_order, "叶县人民医院", "")  # not the payer
    assert early.value.code == "enrol_not_found"
    courses.request_invoice(rt, who("applicant"), in_order, "叶县人民医院", "12410422MB0000000X")
    with pytest.raises(EnrolmentRefused) as unpaid:
        courses.record_invoice(rt, who("base_admin"), in_order, "No.00012345")
    assert unpaid.value.code == "invoice_unpaid"
    assert courses.confirm_payment(rt, who("base_admin"), in_order, "transfer") == 2
    assert courses.confirm_payment(rt, who("base_admin"), in_order, "online") == 0  # the first one stands
    courses.record_invoice(rt, who("base_admin"), in_order, "No.00012345")
    courses.confirm_payment(rt, who("base_admin"), [mine], "online")
    with session_factory() as s:
        rows = {r.person_id: r for r in enrolments_of_course(s, who("base_admin"), scene["course"])}
        with pytest.raises(EnrolmentRefused):
            enrolments_of_course(s, who("other_admin"), scene["course"])  # R15: its own courses only
    assert rows[scene["p0"]].payment_state == "transfer_confirmed" and rows[scene["p0"]].invoice_number
    assert rows[scene["p2"]].payment_state == "online_confirmed" and rows[scene["p2"]].invoice_number is None


def test_two_clicks_at_once_enrol_a_person_once(rt, who, scene, session_factory):
    clicks = 2 if not POSTGRES else 4
    barrier, outcomes = threading.Barrier(clicks), []
    person = who("p0_user")

    def click():
        barrier.wait()
        try:
            courses.enrol(rt, person, scene["course"])
            outcomes.append("enrolled")
        except EnrolmentRefused as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("enrolled") == 1 and set(outcomes) <= {"enrolled", "enrol_already", "enrol_race"}
    assert count(session_factory, Enrolment) == 1
