"""The policy calendar page: the city HRSS edits it, others read it; a refused calendar stores nothing."""

import re
from datetime import date

import pytest
from sqlalchemy import delete
from sqlalchemy import select

from domain.calendar.policy import EDITABLE
from domain.calendar.policy import PolicyYear
from domain.calendar.policy import policy_for
from domain.organisations.shipped_regions import PINGDINGSHAN
from domain.persons.records import Person
from tests.web.conftest import csrf_token

INPUT = re.compile(r"<input[^>]*>")
NAME = re.compile(r'name="([^"]*)"')
VALUE = re.compile(r'value="([^"]*)"')


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def fixed_year(app, clock):
    """Run the app on the fake clock (2025-11-03): this year is 2025, next year 2026 (both seeded)."""
    app.extensions["ceflow.runtime"].clock = clock
    return 2025


def stored(session_factory, year: int):
    with session_factory() as session:
        return policy_for(session, year, PINGDINGSHAN)


def form_data(policy, token: str, **changes) -> dict:
    values = {name: getattr(policy, name) for name in EDITABLE}
    values.update(changes)
    return {"csrf_token": token, **{name: str(value) for name, value in values.items()}}


def test_the_city_hrss_edits_this_years_calendar(app, login_as, session_factory, fixed_year):
    city = login_as("pds-approver", into=app.test_client())
    page = city.get("/policy")
    assert page.status_code == 200
    assert 'name="public_hours_junior"' in text(page) and 'value="22"' in text(page)
    before = stored(session_factory, 2025)
    response = city.post(
        "/policy/2025", data=form_data(before, csrf_token(text(page)), public_hours_junior=24)
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/policy/2025")
    after = stored(session_factory, 2025)
    assert after.public_hours_junior == 24 and after.updated_by == "平顶山市人社局审批人"
    assert after.org_registration_deadline == before.org_registration_deadline
    assert stored(session_factory, 2026).public_hours_junior == 22


@pytest.mark.parametrize("login", ["yexian-reviewer", "pds-education", "yexian-hr"])
def test_others_read_the_citys_calendar_and_may_not_post(app, login_as, session_factory, fixed_year, login):
    browser = login_as(login, into=app.test_client())
    page = browser.get("/policy")
    assert page.status_code == 200
    assert 'id="policy-read-only"' in text(page) and "2025-03-20" in text(page)
    assert 'name="public_hours_junior"' not in text(page)
    before = stored(session_factory, 2025)
    token = csrf_token(text(page))
    response = browser.post("/policy/2025", data=form_data(before, token, public_hours_junior=1))
    assert response.status_code == 403
    assert stored(session_factory, 2025) == before


def test_a_professional_reads_the_calendar_of_their_city(app, login_as, session_factory, fixed_year):
    with session_factory() as session:
        login = session.scalar(select(Person.id_number).where(Person.name == "赵一"))
    browser = login_as(login, into=app.test_client())
    page = text(browser.get("/policy/2026"))
    assert 'id="policy-read-only"' in page and "2026-04-15" in page


def test_invalid_values_show_the_problems_and_store_nothing(app, login_as, session_factory, fixed_year):
    city = login_as("pds-reviewer", into=app.test_client())
    token = csrf_token(text(city.get("/policy")))
    before = stored(session_factory, 2025)
    refused = city.post(
        "/policy/2025",
        data=form_data(
            before,
            token,
            person_registration_deadline=date(2025, 3, 1),
            certificate_deadline_others=date(2026, 1, 5),
            public_hours_senior=0,
        ),
    )
    page = text(refused)
    assert refused.status_code == 200 and 'id="policy-problems"' in page
    assert "2025-03-01 早于“单位注册截止日期”（2025-03-20）。" in page
    assert "2026-01-05 不在2025年内。" in page and "学时须大于0，不能是0。" in page
    assert page.count('class="field-error"') == 3
    assert 'value="2025-03-01"' in page  # the entered values stay in the form to be corrected
    assert stored(session_factory, 2025) == before
    malformed = city.post("/policy/2025", data=form_data(before, token, review_working_days="five"))
    assert malformed.status_code == 200 and 'class="field-error"' in text(malformed)
    assert stored(session_factory, 2025) == before


def test_next_years_calendar_starts_from_this_years_and_is_created(
    app, login_as, session_factory, fixed_year
):
    with session_factory() as session, session.begin():
        session.execute(delete(PolicyYear).where(PolicyYear.year == 2026))
    city = login_as("pds-reviewer", into=app.test_client())
    page = text(city.get("/policy/2026"))
    offered = input_values(page)
    assert offered["org_registration_deadline"] == "2026-03-20"
    assert offered["certificate_deadline_others"] == "2026-12-30"
    response = city.post("/policy/2026", data=offered)
    assert response.status_code == 302
    created = stored(session_factory, 2026)
    assert created.region_code == PINGDINGSHAN and created.person_registration_deadline == date(2026, 4, 15)


def test_only_this_year_and_next_are_offered(app, login_as, fixed_year):
    city = login_as("pds-reviewer", into=app.test_client())
    assert city.get("/policy/2024").status_code == 404
    assert city.get("/policy/2027").status_code == 404


def input_values(page: str) -> dict[str, str]:
    """Return the name and value of every input on a page."""
    found = {}
    for tag in INPUT.findall(page):
        name, value = NAME.search(tag), VALUE.search(tag)
        if name:
            found[name.group(1)] = value.group(1) if value else ""
    return found


def test_the_city_edits_every_r16_setting_under_chinese_labels(app, login_as, session_factory, fixed_year):
    city = login_as("pds-reviewer", into=app.test_client())
    page = text(city.get("/policy"))
    for label in ("每年总学时（公需科目与专业科目合计）", "专业科目占总学时比例（%）", "1 学时的分钟数"):
        assert label in page
    before = stored(session_factory, 2025)
    assert (before.national_total_hours, before.professional_share_percent, before.hour_unit_minutes) == (
        90,
        67,
        45,
    )
    saved = city.post(
        "/policy/2025",
        data=form_data(
            before,
            csrf_token(page),
            national_total_hours=96,
            professional_share_percent=70,
            hour_unit_minutes=50,
        ),
    )
    assert saved.status_code == 302
    after = stored(session_factory, 2025)
    assert (after.national_total_hours, after.professional_share_percent, after.hour_unit_minutes) == (
        96,
        70,
        50,
    )


def test_implausible_values_are_warned_about_and_saved_only_when_confirmed(
    app, login_as, session_factory, fixed_year
):
    city = login_as("pds-reviewer", into=app.test_client())
    token = csrf_token(text(city.get("/policy")))
    before = stored(session_factory, 2025)
    odd = form_data(before, token, public_hours_junior=30, professional_share_percent=95)
    warned = city.post("/policy/2025", data=odd)
    page = text(warned)
    assert warned.status_code == 200 and 'id="policy-warnings"' in page
    assert "初级职称的公需科目学时（30）高于高级和中级职称（26）" in page
    assert "专业科目占 95%，即 86 学时；加上 26 个公需科目学时，超过全年 90 学时。" in page
    assert stored(session_factory, 2025) == before
    key = re.search(r'name="confirmed" value="([0-9a-f]+)"', page).group(1)

    changed = city.post("/policy/2025", data={**odd, "public_hours_junior": "31", "confirmed": key})
    assert 'id="policy-warnings"' in text(changed) and stored(session_factory, 2025) == before
    confirmed = city.post("/policy/2025", data={**odd, "confirmed": key})
    assert confirmed.status_code == 302
    after = stored(session_factory, 2025)
    assert (after.public_hours_junior, after.professional_share_percent) == (30, 95)


def test_a_share_over_100_percent_is_refused_in_chinese(app, login_as, session_factory, fixed_year):
    city = login_as("pds-reviewer", into=app.test_client())
    before = stored(session_factory, 2025)
    refused = city.post(
        "/policy/2025",
        data=form_data(before, csrf_token(text(city.get("/policy"))), professional_share_percent=120),
    )
    assert "比例应在 0 至 100% 之间，不能是 120。" in text(refused)
    assert stored(session_factory, 2025) == before
