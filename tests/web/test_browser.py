"""In Chromium: a county reviewer claims and approves the demo application; the city approver gets it."""

import re

import pytest

from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser
YEXIAN_SUBJECT = "叶县人民医院2025年度继续教育学时认定"


def open_queue(page) -> None:
    page.locator("header nav").get_by_role("link", name="我的待办").click()
    page.locator("nav.tabs").get_by_role("link", name=re.compile("^待认领")).click()
    page.wait_for_url(re.compile(r"view=queue"))


def test_county_reviewer_approves_in_the_browser_and_the_city_approver_receives_it(live_server, new_page):
    from playwright.sync_api import expect

    reviewer = new_page()
    sign_in(reviewer, live_server, "yexian-reviewer")
    open_queue(reviewer)
    reviewer.get_by_role("row").filter(has_text=YEXIAN_SUBJECT).get_by_role("link").click()
    expect(reviewer.locator("p.meta")).to_contain_text(YEXIAN_SUBJECT)
    reviewer.get_by_role("button", name="认领").click()
    expect(reviewer.get_by_role("alert")).to_contain_text("已认领")
    reviewer.get_by_label("审批意见").fill("材料齐全，同意")
    reviewer.get_by_role("button", name="通过", exact=True).click()

    expect(reviewer.get_by_role("alert")).to_contain_text("已办理")
    expect(reviewer.locator("main")).not_to_contain_text(YEXIAN_SUBJECT)
    open_queue(reviewer)
    expect(reviewer.locator("main")).not_to_contain_text(YEXIAN_SUBJECT)

    approver = new_page()
    sign_in(approver, live_server, "pds-approver")
    open_queue(approver)
    expect(approver.get_by_role("row").filter(has_text=YEXIAN_SUBJECT)).to_have_count(1)
