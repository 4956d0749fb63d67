"""Directories page both ways and say where the page lies (第 51–60 条，共 60 条); names sort naturally
(第2 before 第10) in SQL on SQLite and PostgreSQL alike; an organisation's page shows its unit admin,
its registration with what the viewer may do there, and an employer's professionals, paged."""

import re
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select

from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.organisations.directory import search_organisations
from domain.organisations.records import Organisation
from domain.persons.directory import search_persons
from domain.text import sort_key
from infra.keyset import position_of
from tests.factories import add_persons

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
ROW_NAME = re.compile(r'<td><a href="/persons/\d+">([^<]+)</a></td>')


def text(response) -> str:
    return response.get_data(as_text=True)


def org_id(session_factory, name: str) -> int:
    with session_factory() as session:
        return session.scalar(select(Organisation.id).where(Organisation.name == name))


@pytest.fixture
def numbered(app, session_factory) -> int:
    """Sixty professionals of 叶县人民医院 named 排序1 … 排序60, stored in a shuffled order."""
    hospital = org_id(session_factory, "叶县人民医院")
    order = sorted(range(1, 61), key=lambda n: str(n))  # text order: 1, 10, 11 … 2, 20 …
    with session_factory() as session:
        add_persons(session, hospital, 60, lambda: NOW, start=500, names=[f"排序{n}" for n in order])
        session.commit()
    return hospital


def actor(session, username: str):
    return actor_for(session, session.scalar(select(User.id).where(User.username == username)))


def test_the_sort_key_pads_every_run_of_digits():
    assert sort_key("第2中学") < sort_key("第10中学") < sort_key("第10中学2") < sort_key("第11中学")
    assert sort_key("排序007") == sort_key("排序7")  # leading zeros do not change the order
    assert sort_key("叶县人民医院") == "叶县人民医院"


@pytest.mark.parametrize("q", [None, "排序"])  # read in the (sort_name, id) index, or a name search sorted
def test_persons_sort_naturally_and_page_forward_and_back(session_factory, numbered, q):
    with session_factory() as session:
        hr = actor(session, "yexian-hr")
        first = search_persons(session, hr, q=q, employer_id=numbered, limit=25)
        if q is None:  # the employer's own demo professionals come first (张…, 李…): keep only ours
            assert [row.name for row in first.items if row.name.startswith("排序")][:3] == [
                "排序1",
                "排序2",
                "排序3",
            ]
            return
        second = search_persons(session, hr, q=q, after=first.next_cursor, limit=25)
        third = search_persons(session, hr, q=q, after=second.next_cursor, limit=25)
        back = search_persons(session, hr, q=q, before=third.previous_cursor, limit=25)
        home = search_persons(session, hr, q=q, before=back.previous_cursor, limit=25)

    names = [row.name for page in (first, second, third) for row in page.items]
    assert names == [f"排序{n}" for n in range(1, 61)]
    assert third.next_cursor is None and first.previous_cursor is None
    assert back.items == second.items and back.next_cursor == second.next_cursor
    assert home.items == first.items and home.previous_cursor is None

    assert (position_of(first, 0, 25).first, position_of(first, 0, 25).last) == (1, 25)
    at_third = position_of(third, 50, 25)
    assert (at_third.first, at_third.last, at_third.total, at_third.previous_start) == (51, 60, 60, 25)
    assert position_of(home, 7, 25).first == 1  # the first page is row 1 whatever its link said


def test_organisations_sort_naturally(session_factory, app):
    with session_factory() as session:
        for name in ("叶县第10中学", "叶县第2中学", "叶县第1中学"):
            session.add(Organisation(kind="employer", name=name, region_code="410422", created_at=NOW))
        session.commit()
        found = search_organisations(session, actor(session, "yexian-reviewer"), q="叶县第")
    assert [row.name for row in found.items if "中学" in row.name and "高级" not in row.name] == [
        "叶县第1中学",
        "叶县第2中学",
        "叶县第10中学",
    ]


def test_the_persons_page_shows_its_position_and_links_both_ways(login_as, numbered):
    client = login_as("yexian-hr")
    first = text(client.get("/persons?q=排序"))
    assert "第 1–50 条，共 60 条" in first and 'rel="prev"' not in first
    assert ROW_NAME.findall(first)[:11] == [f"排序{n}" for n in range(1, 12)]
    following = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(client.get(following))
    assert "第 51–60 条，共 60 条" in second and 'rel="next"' not in second
    assert ROW_NAME.findall(second) == [f"排序{n}" for n in range(51, 61)]
    previous = re.search(r'<a rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    again = text(client.get(previous))
    assert "第 1–50 条，共 60 条" in again and ROW_NAME.findall(again) == ROW_NAME.findall(first)


def test_a_forged_cursor_going_back_is_a_bad_request(login_as, numbered):
    assert login_as("yexian-hr").get("/persons?before=x_1_2").status_code == 400


def test_the_organisations_table_is_headed_by_the_organisation_name(login_as):
    page = text(login_as("yexian-reviewer").get("/organisations"))
    headings = re.findall(r"<th[^>]*>([^<]+)</th>", page)
    assert headings[0] == "单位名称" and "姓名" not in headings


def test_an_employers_page_shows_its_admin_and_its_professionals_paged(login_as, numbered):
    client = login_as("yexian-reviewer")
    page = text(client.get(f"/organisations/{numbered}?status=active"))
    assert re.search(r'id="unit-admin">[^<]*\(yexian-hr\)', page)
    assert "第 1–50 条" in page and 'id="professionals"' in page
    assert f'href="/number-ranges/{numbered}"' in page  # an HRSS allocates and voids there
    assert "/handover" not in page  # only the unit admin (or a system admin) hands over
    own = text(login_as("yexian-hr", into=client.application.test_client()).get(f"/organisations/{numbered}"))
    assert f"/organisations/{numbered}/handover" in own


def test_a_pending_organisations_page_offers_the_reviewer_its_registration_step(login_as, session_factory):
    pending = org_id(session_factory, "叶县第二高级中学")
    reviewer = text(login_as("yexian-reviewer").get(f"/organisations/{pending}"))
    section = reviewer[reviewer.index('id="registrations"') :]
    step = re.search(r'<a href="/tasks/(\d+)" data-task="\d+">([^<]+)</a>', section)
    assert step and "认领" in step.group(2)


def test_another_region_cannot_open_the_organisation_page(app, login_as, session_factory):
    pending = org_id(session_factory, "叶县第二高级中学")
    assert (
        login_as("lushan-reviewer", into=app.test_client()).get(f"/organisations/{pending}").status_code
        == 404
    )
