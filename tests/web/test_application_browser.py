"""In Chromium, the applicant's story: an organisation applies, is returned for its credit code, fixes it,
resubmits and is approved; another withdraws; a rejected one signs in and reads why. Each of these pages
is saved as a screenshot at 1366 and 390 px (test-artifacts/) and its content must fit the narrow screen."""

import re

import pytest
from sqlalchemy import select
from stdnum.cn import uscc

from domain.organisations.records import Organisation
from tests.web.conftest import ARTIFACTS
from tests.web.conftest import sign_in
from tests.web.test_applications import PASSWORD
from tests.web.test_applications import RIGHT_CODE
from tests.web.test_applications import WRONG_CODE

pytestmark = pytest.mark.browser
WIDTHS = (1366, 390)


def code(body: str) -> str:
    """Return a valid credit code with this 17-character body."""
    return body + uscc.calc_check_digit(body)


def shoot(page, name: str) -> None:
    """Save the page at each width and check that nothing is wider than the narrow screen."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"applicant-{name}-{width}.png"), full_page=True)
        # the page's own content; the site menu's narrow-screen layout is the layout's concern
        overflow = page.evaluate(
            "(() => { const main = document.querySelector('main');"
            " return Math.max(main.scrollWidth - main.clientWidth,"
            " main.getBoundingClientRect().right - window.innerWidth); })()"
        )
        assert overflow <= 0, f"{name} is {overflow}px wider than {width}px"
    page.set_viewport_size({"width": 1366, "height": 900})


def apply(page, base: str, name: str, username: str, credit_code: str) -> None:
    page.goto(f"{base}/register/organisation")
    page.locator("select[name=kind]").select_option("employer")
    page.locator("input[name=name]").fill(name)
    page.locator("select[name=region_code]").select_option("410422")
    page.locator("input[name=credit_code]").fill(credit_code)
    page.locator("select[name=authority_id]").select_option(label="平顶山市·平顶山市教育局")
    page.locator("input[name=industry]").fill("教育")
    page.locator("input[name=admin_name]").fill("王人事")
    page.locator("input[name=admin_username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=confirm]").fill(PASSWORD)
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/login"))


def applicant_signs_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名或身份证号").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def open_review(page, base: str, subject: str) -> None:
    page.goto(f"{base}/tasks?view=queue")
    page.get_by_role("row").filter(has_text=subject).get_by_role("link").first.click()
    page.get_by_role("button", name="认领").click()


def accept_dialogs(page) -> list[str]:
    said: list[str] = []

    def accept(dialog) -> None:
        said.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return said


def status_of(session_factory, name: str) -> str:
    with session_factory() as s:
        return s.scalars(select(Organisation.status).where(Organisation.name == name)).one()


def test_the_applicant_story_in_the_browser(live_server, new_page, session_factory):
    from playwright.sync_api import expect

    # an organisation applies with a mistyped credit code and is returned for it
    applicant = new_page()
    apply(applicant, live_server, "叶县第三高级中学", "yx3gz", WRONG_CODE)
    reviewer = new_page()
    asked = accept_dialogs(reviewer)
    sign_in(reviewer, live_server, "yexian-reviewer")
    open_review(reviewer, live_server, "单位注册：叶县第三高级中学")
    expect(reviewer.locator("#application")).to_contain_text(WRONG_CODE)
    expect(reviewer.locator("#application")).to_contain_text("平顶山市教育局")
    shoot(reviewer, "review")
    reviewer.get_by_label("审批意见").fill("统一社会信用代码与营业执照不符，请更正")
    reviewer.get_by_role("button", name="退回").click()
    expect(reviewer.get_by_role("alert").first).to_contain_text("已退回")

    # the applicant reads why, fixes the credit code and resubmits
    applicant_signs_in(applicant, live_server, "yx3gz")
    applicant.wait_for_url(re.compile(r"/applications$"))
    shoot(applicant, "list")
    applicant.get_by_role("link", name="单位注册：叶县第三高级中学").click()
    expect(applicant.locator("#decision")).to_contain_text("统一社会信用代码与营业执照不符")
    shoot(applicant, "returned")
    applicant.get_by_role("link", name="修改并重新提交").click()
    expect(applicant.locator("input[name=credit_code]")).to_have_value(WRONG_CODE)
    shoot(applicant, "correct")
    applicant.locator("input[name=credit_code]").fill("91410422MA44L5XD")
    applicant.get_by_role("button", name="重新提交").click()
    expect(applicant.locator(".field-error").first).to_contain_text("18")  # checked like the first form
    applicant.locator("input[name=credit_code]").fill(RIGHT_CODE)
    applicant.get_by_role("button", name="重新提交").click()
    expect(applicant.get_by_role("alert").first).to_contain_text("已重新提交审核")
    expect(applicant.locator("ol.timeline")).to_contain_text("重新提交")

    # the reviewer sees the corrected code and approves
    open_review(reviewer, live_server, "单位注册：叶县第三高级中学")
    expect(reviewer.locator("#application")).to_contain_text(RIGHT_CODE)
    reviewer.get_by_label("审批意见").fill("同意")
    reviewer.get_by_role("button", name="通过", exact=True).click()
    expect(reviewer.get_by_role("alert").first).to_contain_text("已办理")
    assert status_of(session_factory, "叶县第三高级中学") == "active"

    # another applicant withdraws, after the browser asks
    other = new_page()
    said = accept_dialogs(other)
    apply(other, live_server, "叶县第四高级中学", "yx4gz", code("91410422MA44L5XE4"))
    applicant_signs_in(other, live_server, "yx4gz")
    other.get_by_role("link", name="单位注册：叶县第四高级中学").click()
    shoot(other, "pending")
    other.get_by_label("理由（可不填）").fill("重复申请")
    other.get_by_role("button", name="撤回").click()
    expect(other.get_by_role("alert").first).to_contain_text("申请已撤回")
    assert said and said[0].startswith("撤回“单位注册：叶县第四高级中学”")
    expect(other.locator("#status")).to_have_text("已撤回")
    assert status_of(session_factory, "叶县第四高级中学") == "withdrawn"

    # a third is rejected, after the reviewer confirms; its admin signs in and reads why
    third = new_page()
    apply(third, live_server, "叶县第七高级中学", "yx7gz", code("91410422MA44L5XF2"))
    open_review(reviewer, live_server, "单位注册：叶县第七高级中学")
    reviewer.get_by_label("审批意见").fill("非法人单位，不予注册")
    reviewer.get_by_role("button", name="不通过").click()
    expect(reviewer.get_by_role("alert").first).to_contain_text("已办理")
    assert asked and asked[-1].startswith("不通过“单位注册：叶县第七高级中学”")
    applicant_signs_in(third, live_server, "yx7gz")
    third.wait_for_url(re.compile(r"/login/application$"))
    expect(third.locator("#reason")).to_have_text("非法人单位，不予注册")
    expect(third.locator("#status")).to_have_text("未通过")
    shoot(third, "rejected")
    third.get_by_role("button", name="返回登录").click()
    third.get_by_label("用户名或身份证号").fill("yx7gz")
    third.get_by_label("密码").fill("wrong-password")
    third.get_by_role("button", name="登录").click()
    expect(third.get_by_role("alert").first).to_have_text("用户名或密码错误。")


def test_without_javascript_the_server_asks_before_withdrawing(live_server, chromium, session_factory):
    from playwright.sync_api import expect

    context = chromium.new_context(locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        apply(page, live_server, "叶县第八高级中学", "yx8gz", code("91410422MA44L5XG0"))
        applicant_signs_in(page, live_server, "yx8gz")
        page.get_by_role("link", name="单位注册：叶县第八高级中学").click()
        page.get_by_role("button", name="撤回").click()
        expect(page.get_by_role("heading", name="确认撤回申请？")).to_be_visible()
        shoot(page, "confirm")
        assert status_of(session_factory, "叶县第八高级中学") == "pending"
        page.locator("#confirm_submit").click()
        expect(page.get_by_role("alert").first).to_contain_text("申请已撤回")
        assert status_of(session_factory, "叶县第八高级中学") == "withdrawn"
    finally:
        context.close()


def test_the_reviewer_sees_the_warning_about_a_second_hospital_of_the_same_name(live_server, new_page):
    from playwright.sync_api import expect

    applicant = new_page()
    apply(applicant, live_server, "叶县人民医院", "yxrmyy2", code("91410422MA44L5XH9"))
    reviewer = new_page()
    sign_in(reviewer, live_server, "yexian-reviewer")
    open_review(reviewer, live_server, "单位注册：叶县人民医院")
    expect(reviewer.locator("#warnings")).to_contain_text("叶县 已有同名单位“叶县人民医院”（已注册）")
    expect(reviewer.get_by_role("button", name="通过", exact=True)).to_be_enabled()
    shoot(reviewer, "warning")
