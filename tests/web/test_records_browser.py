"""In Chromium, at 1366 and 390 px: the directories page both ways with their position, the HRSS
allocates a number range and voids a number through the pages, and the notice, policy and
registration pages fit the screen. Every page is saved as a screenshot in test-artifacts/."""

import re
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select

from domain.certificates.numbers import draw_number
from domain.organisations.records import Organisation
from domain.supervision.notices import SupervisionNotice
from tests.factories import add_persons
from tests.web.conftest import ARTIFACTS
from tests.web.conftest import TIMEOUT_MS
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser
NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
WIDTHS = {"desktop": (1366, 800), "phone": (390, 844)}


@pytest.fixture
def hospital(app, session_factory) -> dict:
    """叶县人民医院 with sixty more professionals (排序1 … 排序60), one of them numbered."""
    with session_factory() as session:
        employer = session.scalar(select(Organisation.id).where(Organisation.name == "叶县人民医院"))
        ids = add_persons(
            session, employer, 60, lambda: NOW, start=700, names=[f"排序{n}" for n in range(60, 0, -1)]
        )
        number = draw_number(session, employer, ids[0], NOW)
        session.commit()
    return {"id": employer, "number": number}


@pytest.fixture
def open_at(chromium, request):
    """Return a function opening a signed-in page at a width; save a screenshot of every page it shows."""
    contexts = []

    def open_page(width: str):
        viewport_width, height = WIDTHS[width]
        # bypass_csp lets the test measure the page with a script; the pages themselves run none inline
        context = chromium.new_context(
            locale="zh-CN", viewport={"width": viewport_width, "height": height}, bypass_csp=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def shoot(page, name: str, width: str) -> None:
    """Save the whole page as test-artifacts/records-<name>-<width>.png and check it fits the screen."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"records-{name}-{width}.png"), full_page=True)
    main_width = page.evaluate("document.querySelector('main').scrollWidth")
    assert main_width <= WIDTHS[width][0], f"{name} is {main_width}px wide at {width}"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_persons_list_pages_both_ways_with_its_position(live_server, open_at, hospital, width):
    page = open_at(width)
    sign_in(page, live_server, "yexian-hr")
    page.goto(f"{live_server}/persons?q=排序")
    position = page.locator("#position")
    assert position.inner_text() == "第 1–50 条，共 60 条"
    assert page.locator("table.tasks tbody tr td:first-child").first.inner_text() == "排序1"
    shoot(page, "persons", width)
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url(re.compile(r"after="))
    assert position.inner_text() == "第 51–60 条，共 60 条"
    assert page.locator("table.tasks tbody tr td:first-child").last.inner_text() == "排序60"
    page.get_by_role("link", name="上一页").click()
    page.wait_for_url(re.compile(r"before="))
    assert position.inner_text() == "第 1–50 条，共 60 条"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_hrss_allocates_a_range_and_voids_a_number_in_the_browser(live_server, open_at, hospital, width):
    page = open_at(width)
    sign_in(page, live_server, "yexian-reviewer")
    page.goto(f"{live_server}/number-ranges")
    row = page.locator(f'tr[data-employer="{hospital["id"]}"]')
    before = [int(n) for n in row.locator("td.num").all_inner_texts()]
    shoot(page, "ranges", width)
    row.get_by_role("link", name="分配或作废").click()
    page.get_by_label("号码数量").fill("30")
    page.get_by_role("button", name="分配号段").click()
    assert "已分配号码" in page.locator(".flash.success").inner_text()
    assert int(page.locator("#total-size").inner_text()) == before[0] + 30
    page.locator("#numbers").get_by_role("link", name="作废").first.click()
    assert page.get_by_label("证书管理号").input_value() == hospital["number"]
    page.get_by_label("作废原因").fill("证书遗失，重新编号")
    page.get_by_role("button", name="作废该号码").click()
    assert f"证书管理号 {hospital['number']} 已作废" in page.locator(".flash.success").inner_text()
    voided = page.locator("#numbers tr", has_text=hospital["number"])
    assert "证书遗失，重新编号" in voided.inner_text() and "叶县人社局审核员" in voided.inner_text()
    shoot(page, "range-employer", width)
    page.goto(f"{live_server}/organisations/{hospital['id']}")
    assert "(yexian-hr)" in page.locator("#unit-admin").inner_text()
    shoot(page, "organisation", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_notice_policy_and_registration_pages_fit_the_screen(
    live_server, open_at, session_factory, width
):
    with session_factory() as session:
        notice = session.scalar(
            select(SupervisionNotice.id)
            .join(Organisation, Organisation.id == SupervisionNotice.hrss_id)
            .where(Organisation.region_code == "410400")
        )
    page = open_at(width)
    page.goto(f"{live_server}/register/person")
    page.locator("select[name=region]").select_option("410422")
    page.get_by_label("按名称查找单位").fill("叶县人民")
    page.locator("select[name=employer_id]").select_option(label="叶县人民医院")
    shoot(page, "register-person", width)
    sign_in(page, live_server, "pds-reviewer")
    page.goto(f"{live_server}/supervision/")
    shoot(page, "supervision", width)
    page.goto(f"{live_server}/supervision/{notice}")
    assert page.locator("#total-organisations").inner_text().startswith("合计：")
    shoot(page, "supervision-notice", width)
    page.goto(f"{live_server}/policy")
    assert page.get_by_label("1 学时的分钟数").input_value() == "45"
    shoot(page, "policy", width)
