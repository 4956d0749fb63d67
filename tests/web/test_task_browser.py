"""In Chromium: the task page's diagram, return to the applicant and resubmit, transfer, delegate and back."""

import re

import pytest
from sqlalchemy import select

from engine.runtime.models import HumanTask
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser
YEXIAN_SUBJECT = "叶县人民医院2025年度继续教育学时认定"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def open_from(page, view: str) -> None:
    """Open the Yexian application from one of the inbox lists."""
    page.locator("header nav").get_by_role("link", name="我的待办").click()
    if view == "queue":
        page.locator("nav.tabs").get_by_role("link", name=re.compile("^待认领")).click()
        page.wait_for_url(re.compile(r"view=queue"))
    page.get_by_role("row").filter(has_text=YEXIAN_SUBJECT).get_by_role("link").click()
    expect(page.locator("p.meta")).to_contain_text(YEXIAN_SUBJECT)


def claim_from_queue(page) -> None:
    open_from(page, "queue")
    page.get_by_role("button", name="认领").click()
    expect(page.get_by_role("alert")).to_contain_text("已认领")


def open_step(session_factory) -> str:
    with session_factory() as session:
        return session.scalar(
            select(HumanTask.spec_name).where(HumanTask.subject == YEXIAN_SUBJECT, HumanTask.state == "open")
        )


def test_the_diagram_renders_with_the_current_step_highlighted(live_server, new_page):
    reviewer = new_page()
    outside = []
    reviewer.on("request", lambda r: None if r.url.startswith(live_server) else outside.append(r.url))
    sign_in(reviewer, live_server, "yexian-reviewer")
    open_from(reviewer, "queue")

    current = reviewer.locator('#diagram svg .djs-element.ce-current[data-element-id="county_review"]')
    expect(current).to_have_count(1)
    expect(reviewer.locator("#diagram")).to_have_attribute("data-rendered", "true")
    for done in ("start", "submit"):
        expect(
            reviewer.locator(f'#diagram .djs-element.ce-completed[data-element-id="{done}"]')
        ).to_have_count(1)
    fill = current.locator(".djs-visual > :nth-child(1)").evaluate("shape => getComputedStyle(shape).fill")
    assert fill == "rgb(253, 230, 138)"  # amber
    assert outside == []  # bpmn-js is served by the app, no CDN


def test_return_to_the_applicant_who_resubmits_then_approval(live_server, new_page, session_factory):
    reviewer = new_page()
    sign_in(reviewer, live_server, "yexian-reviewer")
    claim_from_queue(reviewer)
    expect(reviewer.locator("#to_step")).to_have_value("submit")  # the applicant's step by default
    reviewer.get_by_label("审批意见").fill("请补充学时证明")
    reviewer.get_by_role("button", name="退回").click()
    expect(reviewer.locator("p.flash.success")).to_be_visible()
    assert open_step(session_factory) == "submit"

    applicant = new_page()
    sign_in(applicant, live_server, "yexian-hr")
    open_from(applicant, "mine")
    expect(applicant.locator("p.flash.warning")).to_contain_text("请补充学时证明")
    applicant.locator("textarea[name=description]").fill("已补充学时证明")
    applicant.get_by_role("button", name="提交").click()
    expect(applicant.get_by_role("alert")).to_contain_text("已办理")
    assert open_step(session_factory) == "county_review"

    claim_from_queue(reviewer)
    reviewer.get_by_label("审批意见").fill("材料齐全，同意")
    reviewer.get_by_role("button", name="通过", exact=True).click()
    expect(reviewer.get_by_role("alert")).to_contain_text("已办理")
    assert open_step(session_factory) == "city_approval"


def test_transfer_to_a_colleague_who_then_approves(live_server, new_page, session_factory):
    reviewer = new_page()
    sign_in(reviewer, live_server, "yexian-reviewer")
    claim_from_queue(reviewer)
    reviewer.locator("#to_user_id").select_option(label="叶县人社局审批人")
    reviewer.locator("#handover_opinion").fill("本人出差，请您办理")
    reviewer.locator("#transfer").click()
    expect(reviewer.locator("p.flash.success")).to_be_visible()
    expect(reviewer.locator("main")).not_to_contain_text(YEXIAN_SUBJECT)

    colleague = new_page()
    sign_in(colleague, live_server, "yexian-approver")
    open_from(colleague, "mine")
    expect(colleague.locator("ol.timeline")).to_contain_text("本人出差，请您办理")
    colleague.get_by_label("审批意见").fill("同意")
    colleague.get_by_role("button", name="通过", exact=True).click()
    expect(colleague.get_by_role("alert")).to_contain_text("已办理")
    assert open_step(session_factory) == "city_approval"


def test_delegate_to_a_colleague_and_the_task_comes_back(live_server, new_page, session_factory):
    reviewer = new_page()
    sign_in(reviewer, live_server, "yexian-reviewer")
    claim_from_queue(reviewer)
    reviewer.locator("#to_user_id").select_option(label="叶县人社局审批人")
    reviewer.locator("#handover_opinion").fill("请协助核对学时")
    reviewer.locator("#delegate").click()
    expect(reviewer.locator("#delegation")).to_contain_text("叶县人社局审批人")
    task_url = reviewer.url

    colleague = new_page()
    sign_in(colleague, live_server, "yexian-approver")
    open_from(colleague, "mine")
    expect(colleague.locator("#delegation")).to_contain_text("叶县人社局审核员")
    expect(colleague.locator("#handover")).to_have_count(0)
    colleague.get_by_label("审批意见").fill("学时核对无误")
    colleague.locator("button[name=action][value=approve]").click()
    expect(colleague.get_by_role("alert")).to_contain_text("已办理")

    reviewer.goto(task_url)
    expect(reviewer.locator("#delegation")).to_have_count(0)
    expect(reviewer.locator("ol.timeline")).to_contain_text("学时核对无误")
    reviewer.get_by_label("审批意见").fill("同意")
    reviewer.get_by_role("button", name="通过", exact=True).click()
    expect(reviewer.get_by_role("alert")).to_contain_text("已办理")
    assert open_step(session_factory) == "city_approval"


def test_countersign_after_me_then_the_added_approver_moves_the_process_on(
    live_server, new_page, session_factory
):
    reviewer = new_page()
    sign_in(reviewer, live_server, "yexian-reviewer")
    claim_from_queue(reviewer)
    reviewer.get_by_label("审批意见").fill("材料齐全")
    reviewer.get_by_role("button", name="通过", exact=True).click()
    expect(reviewer.get_by_role("alert")).to_contain_text("已办理")
    assert open_step(session_factory) == "city_approval"

    approver = new_page()
    sign_in(approver, live_server, "pds-approver")
    claim_from_queue(approver)
    approver.locator("#countersign_after").check()
    approver.locator("#countersign_user").select_option(label="平顶山市人社局审核员")
    approver.locator("#countersign_opinion").fill("请审核员最后把关")
    approver.locator("#countersign_submit").click()
    expect(approver.locator("p.flash.success")).to_be_visible()
    expect(approver.locator("#countersigns")).to_contain_text("平顶山市人社局审核员")
    approver.get_by_label("审批意见").fill("同意")
    approver.get_by_role("button", name="通过", exact=True).click()
    expect(approver.get_by_role("alert")).to_contain_text("已办理")
    assert open_step(session_factory) == "city_approval"  # held open for the added approver

    added = new_page()
    sign_in(added, live_server, "pds-reviewer")
    open_from(added, "mine")
    expect(added.locator("#countersigns")).to_contain_text("请审核员最后把关")
    added.get_by_label("审批意见").fill("把关无误，同意")
    added.get_by_role("button", name="通过", exact=True).click()
    expect(added.get_by_role("alert")).to_contain_text("已办理")
    assert open_step(session_factory) is None  # the city step is done and the process has ended
