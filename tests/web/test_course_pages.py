"""Course pages: an institution files a course, the HRSS approves it in its inbox, an employer enrols its
persons in one order, the institution confirms the payment and records the invoice; each sees only its own."""

import re
from datetime import date

from sqlalchemy import select

from domain.accounts.users import User
from domain.courses.enrolment import Enrolment
from domain.courses.records import Course
from domain.organisations.records import Organisation
from domain.persons.records import Person
from tests.web.conftest import csrf_token
from tests.web.test_task_page import approve
from tests.web.test_task_page import claim


def text(response) -> str:
    return response.get_data(as_text=True)


def post_from(browser, page: str, path: str, data: dict, **options):
    token = csrf_token(text(browser.get(page)))
    return browser.post(path, data={"csrf_token": token, **data}, **options)


def active_persons(session_factory, employer_username: str, n: int) -> list[int]:
    with session_factory() as s, s.begin():
        employer = s.scalar(select(User.organisation_id).where(User.username == employer_username))
        made = []
        for i in range(n):
            person = Person(
                id_number=f"41042219800101{i:03d}9",
                name=f"课程学员{i}",
                gender="F",
                birth_date=date(1980, 1, 1),
                employer_id=employer,
                region_code="410422",
                title_level="intermediate",
                status="active",
                created_at=s.get(Organisation, employer).created_at,
            )
            s.add(person)
            s.flush()
            made.append(person.id)
        return made


def the_course(session_factory) -> Course:
    with session_factory() as s:
        return s.scalars(select(Course)).one()


def test_a_course_from_filing_to_paid_enrolments(app, login_as, session_factory):
    cebase = login_as("pds-cebase", into=app.test_client())
    form = text(cebase.get("/courses/new"))
    assert "课程名称" in form and "收费标准（元/人）" in form
    filed = post_from(
        cebase,
        "/courses/new",
        "/courses/new",
        {
            "title": "公需科目：数字经济概论",
            "course_subject": "public",
            "industry": "",
            "hours": "12",
            "mode": "online",
            "year": "2026",
            "fee": "60.00",
            "description": "第一讲 数字经济基础",
        },
        follow_redirects=True,
    )
    assert "已提交人社局备案" in text(filed) and "数字经济概论" in text(filed)
    course = the_course(session_factory)
    assert course.status == "pending" and course.fee_cents == 6000

    reviewer = login_as("pds-reviewer", into=app.test_client())
    assert "数字经济概论" in text(reviewer.get("/courses/?status=pending"))
    task_id = int(re.search(r'href="/tasks/(\d+)"', text(reviewer.get("/tasks?view=queue"))).group(1))
    claim(reviewer, task_id)
    approve(reviewer, task_id)
    course = the_course(session_factory)
    assert course.status == "approved" and course.filing_number == "410400-2026-0001"

    persons = active_persons(session_factory, "yexian-hr", 3)
    hr = login_as("yexian-hr", into=app.test_client())
    page = text(hr.get(f"/courses/{course.id}"))
    assert "为本单位人员报名" in page and "下架" not in page
    picker = f"/courses/{course.id}/enrol-persons"
    assert "课程学员2" in text(hr.get(picker))
    enrolled = post_from(hr, picker, picker, {"person": [str(p) for p in persons]}, follow_redirects=True)
    assert "3 人已报名" in text(enrolled)
    again = post_from(hr, picker, picker, {"person": [str(persons[0])]}, follow_redirects=True)
    assert "0 人已报名" in text(again)  # a second click orders no one twice
    with session_factory() as s:
        enrolment_ids = list(s.scalars(select(Enrolment.id).order_by(Enrolment.id)))
    assert len(enrolment_ids) == 3

    course_page = f"/courses/{course.id}"
    asked = post_from(
        hr,
        course_page,
        "/courses/enrolments/invoice",
        {"course_id": str(course.id), "enrolment": [str(i) for i in enrolment_ids], "title": "叶县人民医院"},
        follow_redirects=True,
    )
    assert "已向施教机构申请开具发票" in text(asked)
    listing = text(cebase.get(course_page))
    assert "课程学员0" in listing and "未缴费" in listing
    chosen = {"enrolment": [str(i) for i in enrolment_ids], "method": "transfer", "number": "No.20260001"}
    assert "已确认缴费" in text(
        post_from(cebase, course_page, f"/courses/{course.id}/payments", chosen, follow_redirects=True)
    )
    assert "已登记发票号码" in text(
        post_from(cebase, course_page, f"/courses/{course.id}/invoices", chosen, follow_redirects=True)
    )
    assert "No.20260001" in text(hr.get(course_page))


def test_each_sees_only_what_r15_allows(app, login_as, session_factory, client):
    cebase = login_as("pds-cebase", into=app.test_client())
    data = {
        "title": "待审课程",
        "course_subject": "public",
        "hours": "8",
        "mode": "online",
        "year": "2026",
        "fee": "0",
    }
    post_from(cebase, "/courses/new", "/courses/new", data)
    course = the_course(session_factory)
    for outsider in ("yexian-hr", "lushan-reviewer"):  # not yet in the catalogue, not their region
        assert login_as(outsider, into=app.test_client()).get(f"/courses/{course.id}").status_code == 404
    assert login_as("yexian-hr", into=app.test_client()).get("/courses/new").status_code == 403
    assert login_as("pds-reviewer", into=app.test_client()).get(f"/courses/{course.id}").status_code == 200
    stranger = login_as("yexian-hr", into=app.test_client())
    token = csrf_token(text(stranger.get("/courses/")))
    refused = stranger.post(
        f"/courses/{course.id}/payments", data={"csrf_token": token, "enrolment": "1", "method": "transfer"}
    )
    assert refused.status_code == 302
    with session_factory() as s:
        assert s.scalars(select(Enrolment)).all() == []


def test_the_demo_courses_show_every_state(app, session_factory):
    from domain.accounts.passwords import hash_password
    from engine.runtime.models import HumanTask
    from seed.courses import load_demo_courses

    assert load_demo_courses(app.extensions["ceflow.runtime"], hash_password("demo1234")) == 5
    with session_factory() as s:
        courses = {c.title: c for c in s.scalars(select(Course))}
        waiting = dict(
            s.execute(select(HumanTask.subject, HumanTask.spec_name).where(HumanTask.state == "open")).all()
        )
        payments = sorted(s.scalars(select(Enrolment.payment_state)))
    assert sorted(c.status for c in courses.values()) == [
        "approved",
        "approved",
        "pending",
        "pending",
        "pending",
    ]
    steps = {
        title: waiting[f"课程备案：{title}（{c.year}年）"]
        for title, c in courses.items()
        if c.status == "pending"
    }
    assert sorted(steps.values()) == ["city_review", "review", "submit"]  # at the city, the county, returned
    assert any(subject.startswith("成绩报送：") and step == "review" for subject, step in waiting.items())
    assert payments == [
        "online_confirmed",
        "transfer_confirmed",
        "transfer_confirmed",
        "transfer_confirmed",
        "unpaid",
    ]


def test_the_catalogue_filters_by_industry_and_institution(app, session_factory, login_as):
    from domain.accounts.passwords import hash_password
    from seed.courses import load_demo_courses

    load_demo_courses(app.extensions["ceflow.runtime"], hash_password("demo1234"))
    reviewer = login_as("pds-reviewer", into=app.test_client())
    with session_factory() as s:
        cebase = s.scalar(
            select(Organisation.id).where(Organisation.name == "平顶山市专业技术人员继续教育基地")
        )
    listed = text(reviewer.get("/courses/", query_string={"industry": "教育"}))
    assert "中小学教师信息技术应用能力提升" in listed and "职业道德" not in listed
    listed = text(reviewer.get("/courses/", query_string={"filer_id": cebase}))
    assert "职业道德与诚信建设" in listed and "数字经济与创新驱动" in listed and "中小学教师" not in listed
    assert reviewer.get("/courses/", query_string={"filer_id": "x"}).status_code == 400


def test_only_an_hrss_over_its_region_is_offered_to_take_a_course_out(app, login_as, session_factory):
    from domain.accounts.passwords import hash_password
    from seed.courses import load_demo_courses

    load_demo_courses(app.extensions["ceflow.runtime"], hash_password("demo1234"))
    with session_factory() as s:
        city_course = s.scalar(select(Course.id).where(Course.title.like("公需科目：专业技术人员职业道德%")))
    assert "从目录中下架" in text(
        login_as("pds-reviewer", into=app.test_client()).get(f"/courses/{city_course}")
    )
    assert "从目录中下架" not in text(
        login_as("yexian-reviewer", into=app.test_client()).get(f"/courses/{city_course}")
    )


def test_a_returned_score_file_leads_the_institution_to_the_course_to_correct_it(
    app, login_as, session_factory
):
    """The returned step's page names the course and where the corrected file goes: no dead end."""
    from domain.accounts.passwords import hash_password
    from engine.runtime.models import HumanTask
    from seed.courses import load_demo_courses

    load_demo_courses(app.extensions["ceflow.runtime"], hash_password("demo1234"))
    with session_factory() as s:
        review = s.scalars(
            select(HumanTask).where(HumanTask.process_key == "score_submission", HumanTask.state == "open")
        ).one()
    reviewer = login_as("pds-reviewer", into=app.test_client())
    page = text(reviewer.get(f"/tasks/{review.id}"))
    course_id = int(re.search(r'id="course-link">课程: <a href="/courses/(\d+)"', page).group(1))
    assert 'id="correct-scores"' not in page  # the reviewer decides; nothing to correct
    claim(reviewer, review.id)
    returned = post_from(
        reviewer,
        f"/tasks/{review.id}",
        f"/tasks/{review.id}/return",
        {"opinion": "少报了一人", "action": "return", "to_step": "submit"},
    )
    assert returned.status_code == 302
    with session_factory() as s:
        back = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == review.instance_id, HumanTask.state == "open")
        ).one()
    assert back.spec_name == "submit"
    cebase = login_as("pds-cebase", into=app.test_client())
    page = text(cebase.get(f"/tasks/{back.id}"))
    assert "少报了一人" in page
    assert 'value="approve">重新提交</button>' in page  # the institution resubmits; it approves nothing
    assert "给审核人的说明" in page and "审批意见" not in page  # its words go to the reviewer
    hint = re.search(r'id="correct-scores">([^<]*)<a href="([^"]+)"', page)
    assert hint and hint.group(1).startswith("如需更正成绩")
    assert hint.group(2) == f"/courses/{course_id}#scores"
    scores = text(cebase.get(f"/courses/{course_id}"))
    assert f'action="/courses/{course_id}/scores/{back.id}/correct"' in scores  # where the hint leads
