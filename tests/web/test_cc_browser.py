"""In Chromium: the holder copies a task (抄送) to a colleague, who finds it under 抄送我的 and reads it."""

import re

import pytest

from tests.web.conftest import sign_in
from tests.web.test_task_browser import YEXIAN_SUBJECT
from tests.web.test_task_browser import claim_from_queue
from tests.web.test_task_browser import expect

pytestmark = pytest.mark.browser


def test_a_copied_task_shows_under_copied_to_me_with_a_badge_and_opens_read_only(live_server, new_page):
    reviewer = new_page()
    sign_in(reviewer, live_server, "yexian-reviewer")
    claim_from_queue(reviewer)
    reviewer.locator("#cc_user_ids").get_by_label("叶县人社局审批人").check()
    reviewer.locator("#cc_note").fill("请知悉本单位学时认定")
    reviewer.locator("#cc_submit").click()
    expect(reviewer.locator("p.flash.success")).to_contain_text("叶县人社局审批人")
    expect(reviewer.locator("ol.timeline")).to_contain_text("请知悉本单位学时认定")

    colleague = new_page()
    sign_in(colleague, live_server, "yexian-approver")
    expect(colleague.locator("#home-cc .value")).to_have_text("1")  # the workplace counts the unread copy
    colleague.locator("#home-cc").click()
    colleague.wait_for_url(re.compile(r"view=cc"))
    row = colleague.get_by_role("row").filter(has_text=YEXIAN_SUBJECT)
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    row.get_by_role("link").click()

    expect(colleague.locator("#read-only")).to_be_visible()
    expect(colleague.locator("form.task-form")).to_have_count(0)
    expect(colleague.locator("#cc")).to_have_count(0)
    expect(colleague.locator("#diagram")).to_have_attribute("data-rendered", "true")
    colleague.locator("header nav").get_by_role("link", name="我的待办").click()
    expect(colleague.locator("#count-cc")).to_have_text("0")
