"""In Chromium: a county CE base files a course, its county HRSS checks it, the city HRSS approves it, and a
professional enrols; each page is saved as a screenshot at 1366 px and 390 px and must fit the screen."""

import re
from datetime import date

from sqlalchemy import select

from domain.accounts.users import User
from domain.courses.enrolment import Enrolment
from domain.courses.records import Course
from domain.persons.records import Person
from tests.web.conftest import ARTIFACTS
from tests.web.conftest import sign_in

WIDTHS = (1366, 390)


def look(page, name: str) -> None:
    """Save the page at both widths and check that nothing is wider than the screen."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"course-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px wider than {width} px"
    page.set_viewport_size({"width": 1366, "height": 900})


def decide(page, base_url: str, username: str, subject: str) -> None:
    sign_in(page, base_url, username)
    page.locator("nav.tabs").get_by_role("link", name=re.compile("^待认领")).click()
    page.get_by_role("row").filter(has_text=subject).get_by_role("link").first.click()
    page.get_by_role("button", name="认领").click()
    page.get_by_label("审批意见").fill("同意备案")
    page.get_by_role("button", name="通过", exact=True).click()


def a_professional(session_factory) -> str:
    """An active professional of 叶县人民医院 who signs in with the demo password."""
    with session_factory() as s, s.begin():
        hr = s.scalars(select(User).where(User.username == "yexian-hr")).one()
        user = User(
            username="410422198001010016",
            password_hash=hr.password_hash,
            display_name="周学员",
            created_at=hr.created_at,
        )
        s.add(user)
        s.flush()
        s.add(
            Person(
                id_number=user.username,
                name="周学员",
                gender="M",
                birth_date=date(1980, 1, 1),
                employer_id=hr.organisation_id,
                region_code="410422",
                title_level="intermediate",
                status="active",
                user_id=user.id,
                created_at=hr.created_at,
            )
        )
    return user.username


def test_a_county_base_files_a_course_two_hrss_approve_it_and_a_professional_enrols(
    live_server, new_page, session_factory
):
    from playwright.sync_api import expect

    base = new_page()
    sign_in(base, live_server, "yexian-cebase")
    base.get_by_role("link", name="课程", exact=True).click()
    base.get_by_role("link", name="申请课程备案").click()
    base.get_by_label("课程名称").fill("公需科目：专业技术人员职业道德")
    base.get_by_label("学时").fill("12")
    base.get_by_label("收费标准（元/人）").fill("60")
    base.get_by_label("课程大纲").fill("第一讲 职业道德概论\n第二讲 诚信建设")
    look(base, "filing-form")
    base.get_by_role("button", name="提交人社局备案").click()
    expect(base.get_by_role("alert")).to_contain_text("已提交人社局备案")
    look(base, "catalogue-institution")

    subject = "课程备案：公需科目：专业技术人员职业道德"
    decide(new_page(), live_server, "yexian-reviewer", subject)
    city = new_page()
    decide(city, live_server, "pds-approver", subject)
    with session_factory() as s:
        course = s.scalars(select(Course)).one()
    assert (course.status, course.filing_number) == ("approved", f"410400-{course.year}-0001")

    person = new_page()
    username = a_professional(session_factory)
    person.goto(f"{live_server}/login")
    person.get_by_label("用户名或身份证号").fill(username)
    person.get_by_label("密码").fill("demo1234")
    person.get_by_role("button", name="登录").click()
    person.goto(f"{live_server}/courses/")
    look(person, "catalogue-person")
    person.get_by_role("link", name="公需科目：专业技术人员职业道德").click()
    person.get_by_role("button", name="报名").click()
    expect(person.get_by_role("alert")).to_contain_text("报名成功")
    look(person, "course-person")
    with session_factory() as s:
        assert len(s.scalars(select(Enrolment)).all()) == 1

    base.goto(f"{live_server}/courses/{course.id}")
    expect(base.get_by_role("cell", name="周学员", exact=True)).to_be_visible()
    look(base, "course-institution")
