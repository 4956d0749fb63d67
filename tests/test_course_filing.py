"""Course filing (R7): every route of course_filing.bpmn, the filing number, the catalogue by R15."""

import pytest
from sqlalchemy import select

from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.courses.catalogue import search_courses
from domain.courses.catalogue import visible_course
from domain.courses.filing import CourseApplication
from domain.courses.filing import CourseRefused
from domain.courses.records import Course
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.records import Organisation
from engine.errors import TaskNotFound
from engine.tasks.commands import complete_task
from engine.tasks.commands import reject_task
from engine.tasks.commands import return_task
from engine.timers.sweep import sweep_timers
from services.courses import file_course
from services.courses import retire_course
from services.registration import withdraw_application
from tests.engine_helpers import audit_actions
from tests.engine_helpers import instance
from tests.engine_helpers import notices
from tests.engine_helpers import only_open_task


@pytest.fixture
def filers(session_factory, clock, world):
    """A county CE base (叶县), a city institution, a city health authority; each with its admin."""
    made = {}
    with session_factory() as s, s.begin():
        for key, kind, name, region, industry in [
            ("county_base", "institution", "叶县专业技术人员继续教育基地", "410422", None),
            ("city_institution", "institution", "平顶山市继续教育学院", "410400", None),
            ("authority", "authority", "平顶山市卫生健康委员会", "410400", "卫生"),
            ("other_base", "institution", "鲁山县继续教育基地", "410423", None),
        ]:
            org = Organisation(
                kind=kind,
                name=name,
                region_code=region,
                industry=industry,
                status="active",
                created_at=clock(),
            )
            s.add(org)
            s.flush()
            user = User(
                username=f"{key}-admin",
                password_hash="x",
                display_name=f"{name}管理员",
                organisation_id=org.id,
                roles="admin",
                created_at=clock(),
            )
            s.add(user)
            s.flush()
            made[key] = user.id
    return made


@pytest.fixture
def as_user(session_factory, filers, world):
    def get(name: str):
        with session_factory() as s:
            return actor_for(s, {**world, **filers}[name])

    return get


def application(**changes) -> CourseApplication:
    values = dict(
        title="专业技术人员职业道德", subject="public", hours=12, mode="online", year=2025, fee_cents=6000
    )
    values.update(changes)
    return CourseApplication(**values)


def course_of(session_factory, iid) -> Course:
    with session_factory() as s:
        return s.get(Course, int(instance(session_factory, iid).business_key.split(":")[1]))


def approve(rt, who, session_factory, iid, expected_step):
    task = only_open_task(session_factory, iid)
    assert task.spec_name == expected_step
    complete_task(rt, who, task.id, {}, "同意")


def test_a_county_base_is_checked_by_its_county_and_approved_by_the_city(rt, as_user, session_factory):
    iid = file_course(rt, as_user("county_base"), application())
    review = only_open_task(session_factory, iid)
    assert review.spec_name == "review" and review.due_at is not None
    with pytest.raises(TaskNotFound):  # another county's reviewer does not even see it
        complete_task(rt, as_user("410423-reviewer"), review.id, {}, "同意")
    approve(rt, as_user("410422-reviewer"), session_factory, iid, "review")
    approve(rt, as_user("410400-approver"), session_factory, iid, "city_review")
    course = course_of(session_factory, iid)
    assert (course.status, course.filing_number) == ("approved", "410400-2025-0001")
    assert instance(session_factory, iid).status == "completed"
    assert notices(session_factory, f"u:{as_user('county_base').id}")


def test_a_city_institution_and_an_authority_file_with_the_city_hrss_alone(rt, as_user, session_factory):
    first = file_course(rt, as_user("city_institution"), application(title="公需科目：法治建设"))
    approve(rt, as_user("410400-reviewer"), session_factory, first, "review")
    subject = application(title="基层医疗卫生新技术", subject="professional", hours=30, mode="face_to_face")
    second = file_course(rt, as_user("authority"), subject)
    approve(rt, as_user("410400-reviewer"), session_factory, second, "review")
    numbers = [course_of(session_factory, iid).filing_number for iid in (first, second)]
    assert numbers == ["410400-2025-0001", "410400-2025-0002"]  # one HRSS, one sequence a year
    assert course_of(session_factory, second).industry == "卫生"  # the authority's own industry


@pytest.mark.parametrize(
    ("who", "changes", "code"),
    [
        ("authority", {}, "course_authority_public"),
        ("county_base", {"subject": "professional"}, "course_industry_required"),
        ("county_base", {"hours": 0}, "course_hours"),
        ("county_base", {"hours": 500}, "course_hours"),
        ("county_base", {"fee_cents": -1}, "course_fee"),
        ("county_base", {"year": 2019}, "course_year"),
        ("county_base", {"mode": "radio"}, "course_mode"),
        ("county_base", {"title": "  "}, "course_title_empty"),
        ("410422-reviewer", {}, "course_filer_kind"),
        ("applicant", {}, "course_filer_kind"),
    ],
)
def test_a_filing_that_breaks_a_rule_is_refused_and_stores_nothing(
    rt, as_user, session_factory, who, changes, code
):
    with pytest.raises(CourseRefused) as refused:
        file_course(rt, as_user(who), application(**changes))
    assert refused.value.code == code
    with session_factory() as s:
        assert s.scalars(select(Course)).all() == []


def test_a_returned_filing_is_corrected_and_resubmitted(rt, as_user, session_factory):
    filer = as_user("county_base")
    iid = file_course(rt, filer, application())
    review = only_open_task(session_factory, iid)
    return_task(rt, as_user("410422-reviewer"), review.id, "收费标准与物价核定不符")
    again = only_open_task(session_factory, iid)
    assert again.spec_name == "submit"
    corrected = {"title": "职业道德（修订）", "fee": "45.50", "hours": 10}
    complete_task(rt, filer, again.id, corrected, "重新提交")
    course = course_of(session_factory, iid)
    assert (course.title, course.fee_cents, course.hours, course.status) == (
        "职业道德（修订）",
        4550,
        10,
        "pending",
    )
    task = only_open_task(session_factory, iid)
    assert task.spec_name == "review" and "修订" in task.subject


def test_a_rejected_or_withdrawn_filing_never_enters_the_catalogue(rt, as_user, session_factory):
    rejected = file_course(rt, as_user("county_base"), application())
    reject_task(
        rt, as_user("410422-reviewer"), only_open_task(session_factory, rejected).id, "与已备案课程重复"
    )
    withdrawn = file_course(rt, as_user("county_base"), application(title="撤回的课程"))
    withdraw_application(rt, as_user("county_base"), withdrawn)
    assert [course_of(session_factory, i).status for i in (rejected, withdrawn)] == ["rejected", "withdrawn"]
    with session_factory() as s:
        page = search_courses(s, as_user("applicant"), year=2025)
    assert page.items == ()


def test_an_overdue_review_is_escalated_to_the_hrss_above(rt, as_user, session_factory, clock):
    iid = file_course(rt, as_user("county_base"), application())
    clock.advance(days=30)
    sweep_timers(rt)
    review = only_open_task(session_factory, iid)
    assert "escalate" in " ".join(audit_actions(session_factory, iid)) or review.escalation_level == 1
    approve(rt, as_user("410400-reviewer"), session_factory, iid, "review")  # the city reviewer now holds it


def test_a_change_supersedes_the_approved_version_which_is_kept(rt, as_user, session_factory):
    filer = as_user("city_institution")
    first = file_course(rt, filer, application())
    approve(rt, as_user("410400-reviewer"), session_factory, first, "review")
    old = course_of(session_factory, first)
    second = file_course(rt, filer, application(hours=16), supersedes_id=old.id)
    assert course_of(session_factory, first).status == "approved"  # until the change is approved
    approve(rt, as_user("410400-reviewer"), session_factory, second, "review")
    assert [course_of(session_factory, i).status for i in (first, second)] == ["superseded", "approved"]
    with pytest.raises(CourseRefused):  # only an approved course of one's own can be changed
        file_course(rt, as_user("county_base"), application(), supersedes_id=old.id)


def test_the_catalogue_follows_r15(rt, as_user, session_factory):
    county = file_course(rt, as_user("county_base"), application(title="叶县课程"))
    approve(rt, as_user("410422-reviewer"), session_factory, county, "review")
    approve(rt, as_user("410400-approver"), session_factory, county, "city_review")
    pending = file_course(rt, as_user("other_base"), application(title="鲁山待审课程"))
    county_id, pending_id = course_of(session_factory, county).id, course_of(session_factory, pending).id

    def titles(who, **filters):
        with session_factory() as s:
            return sorted(row.title for row in search_courses(s, as_user(who), **filters).items)

    assert titles("county_base") == ["叶县课程"]
    assert titles("other_base") == ["鲁山待审课程"]  # an institution sees its own, nothing else
    assert titles("city_institution") == []
    assert titles("applicant") == ["叶县课程"]  # an employer reads the approved catalogue
    assert titles("410422-reviewer") == ["叶县课程"]  # 叶县's HRSS: its region's and the catalogue
    assert titles("410400-reviewer") == ["叶县课程", "鲁山待审课程"]  # the city sees its counties' filings
    assert titles("410400-reviewer", status="pending") == ["鲁山待审课程"]
    assert titles("applicant", year=2026) == []
    with session_factory() as s:
        with pytest.raises(NotVisible):
            visible_course(s, as_user("city_institution"), pending_id)
        assert visible_course(s, as_user("applicant"), county_id).filing_number == "410400-2025-0001"


def test_an_approved_course_is_retired_with_a_reason_and_keeps_its_number(
    rt, as_user, session_factory, clock
):
    iid = file_course(rt, as_user("city_institution"), application())
    approve(rt, as_user("410400-reviewer"), session_factory, iid, "review")
    course_id = course_of(session_factory, iid).id
    with pytest.raises(CourseRefused):
        retire_course(rt, as_user("county_base"), course_id, "不是我的课程")
    with pytest.raises(CourseRefused):
        retire_course(rt, as_user("city_institution"), course_id, " ")
    clock.advance(days=1)
    retire_course(rt, as_user("410400-reviewer"), course_id, "课程内容已过时")
    course = course_of(session_factory, iid)
    assert (course.status, course.filing_number, course.retired_reason) == (
        "retired",
        "410400-2025-0001",
        "课程内容已过时",
    )
