"""The holiday schedule page: an administrator enters a year, previews what moves, confirms; others 404."""

import re
from datetime import date
from datetime import datetime
from datetime import time

import pytest
from sqlalchemy import select
from sqlalchemy import update

from domain.calendar.deadlines import CHINA
from domain.calendar.holidays import CalendarYear
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate
from tests.web.conftest import csrf_token

SCHEDULE_2027 = {
    "holidays": "2027-01-01 元旦\n2027-02-08 ~ 2027-02-14 春节",
    "workdays": "2027-02-06 春节\n2027-02-20 春节",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=CHINA)


def row_of(page: str, year: int) -> str:
    match = re.search(rf'<tr id="year-{year}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {year}"
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1))


@pytest.fixture
def fixed_clock(app, clock):
    """Run the app on the fake clock (2025-11-03): the page lists 2015 to 2027."""
    app.extensions["ceflow.runtime"].clock = clock


@pytest.fixture
def two_open_tasks(session_factory):
    """Two open tasks due 5 working days on in the weekends-only 2027: over New Year, over Spring Festival."""
    with session_factory() as session, session.begin():
        session.execute(
            update(HumanTask).where(HumanTask.state == "open").values(due_at=end_of(date(2025, 11, 10)))
        )
        first, second = session.scalars(select(HumanTask.id).where(HumanTask.state == "open").limit(2)).all()
        moments = {
            first: (datetime(2026, 12, 30, 9, tzinfo=CHINA), end_of(date(2027, 1, 6))),
            second: (datetime(2027, 2, 5, 9, tzinfo=CHINA), end_of(date(2027, 2, 12))),
        }
        for task_id, (created, due) in moments.items():
            session.execute(
                update(HumanTask)
                .where(HumanTask.id == task_id)
                .values(created_at=created, due_at=due, due_sort=due)
            )
            session.execute(
                update(HumanTaskCandidate)
                .where(HumanTaskCandidate.human_task_id == task_id)
                .values(due_sort=due)
            )
    return first, second


def due_dates(session_factory, ids) -> list[datetime]:
    with session_factory() as session:
        return [session.get(HumanTask, task_id).due_at for task_id in ids]


@pytest.mark.parametrize("login", ["pds-approver", "yexian-hr"])
def test_only_an_administrator_sees_the_holiday_page(app, login_as, fixed_clock, login):
    browser = login_as(login, into=app.test_client())
    assert browser.get("/holidays").status_code == 404
    token = csrf_token(text(browser.get("/tasks")))
    assert browser.post("/holidays/2027", data={**SCHEDULE_2027, "csrf_token": token}).status_code == 404
    assert "/holidays" not in text(browser.get("/tasks"))


def test_the_page_says_which_years_are_seeded_and_that_2027_counts_weekends_only(app, login_as, fixed_clock):
    admin = login_as("admin", into=app.test_client())
    page = text(admin.get("/holidays/2027"))
    assert 'id="weekends-only"' in page and "只把周六、周日算作休息日" in page
    assert "预置（chinese-calendar）" in row_of(page, 2026)
    assert "无：仅按周末计算" in row_of(page, 2027)
    assert "/holidays" in text(admin.get("/tasks"))


def test_preview_counts_the_moved_due_dates_and_confirm_moves_them(
    app, login_as, session_factory, fixed_clock, two_open_tasks
):
    admin = login_as("admin", into=app.test_client())
    token = csrf_token(text(admin.get("/holidays/2027")))
    before = due_dates(session_factory, two_open_tasks)

    preview = text(admin.post("/holidays/2027", data={**SCHEDULE_2027, "csrf_token": token}))
    assert "保存此安排将调整 2 个未办结事项的办理期限" in preview
    assert due_dates(session_factory, two_open_tasks) == before
    with session_factory() as session:
        assert session.get(CalendarYear, 2027) is None

    confirm = admin.post("/holidays/2027", data={**SCHEDULE_2027, "csrf_token": token, "confirmed": "1"})
    assert confirm.status_code == 302
    # 5 working days: New Year's Day is skipped; the Saturday make-up day counts, the festival week does not
    assert due_dates(session_factory, two_open_tasks) == [end_of(date(2027, 1, 7)), end_of(date(2027, 2, 18))]
    with session_factory() as session:
        year = session.get(CalendarYear, 2027)
        assert (year.source, year.updated_by) == ("admin", "系统管理员")
        queued = session.scalars(
            select(HumanTaskCandidate.due_sort).where(HumanTaskCandidate.human_task_id.in_(two_open_tasks))
        ).all()
        assert all(due in (end_of(date(2027, 1, 7)), end_of(date(2027, 2, 18))) for due in queued)
        audited = session.scalars(
            select(AuditEvent.human_task_id).where(AuditEvent.action == "due_moved")
        ).all()
        assert sorted(audited) == sorted(two_open_tasks)
    page = text(admin.get("/holidays/2027"))
    assert "由 系统管理员 于" in row_of(page, 2027) and 'id="weekends-only"' not in page


def test_a_wrong_schedule_is_refused_in_chinese_and_stores_nothing(
    app, login_as, session_factory, fixed_clock
):
    admin = login_as("admin", into=app.test_client())
    token = csrf_token(text(admin.get("/holidays/2027")))
    data = {
        "holidays": "2027-01-02 元旦\n2026-12-31 元旦",
        "workdays": "2027-02-08 春节",
        "csrf_token": token,
    }
    page = text(admin.post("/holidays/2027", data={**data, "confirmed": "1"}))
    assert "以下日期不在 2027 年内：2026-12-31" in page
    assert "以下放假日是周六或周日" in page and "2027-01-02" in page
    assert "调休上班日必须是周六或周日，以下日期是工作日：2027-02-08" in page
    bad_line = text(admin.post("/holidays/2027", data={**data, "holidays": "2027-13-01 元旦"}))
    assert "第 1 行：2027-13-01 不是日期" in bad_line
    both = text(
        admin.post(
            "/holidays/2027", data={**data, "holidays": "2027-02-06 ~ 2027-02-12", "workdays": "2027-02-06"}
        )
    )
    assert "以下日期既是放假日又是调休上班日：2027-02-06" in both
    with session_factory() as session:
        assert session.get(CalendarYear, 2027) is None
