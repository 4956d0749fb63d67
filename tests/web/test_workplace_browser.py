"""In Chromium: each demo role's workplace and menu, at 1366 px and at 390 px (the menu folds behind a
button, no page is wider than the screen), and the administrator's reassign and terminate from the list."""

import re

import pytest

from tests.web.conftest import ARTIFACTS
from tests.web.conftest import sign_in
from tests.web.test_workplace import MENUS
from tests.web.test_workplace import PROFESSIONAL

pytestmark = pytest.mark.browser
WIDE, NARROW = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
# the pages each role reaches from its menu, walked at both widths
PAGES = {
    "yexian-reviewer": ["/", "/tasks?view=queue", "/organisations", "/persons", "/policy", "/notices"],
    "yexian-hr": ["/", "/tasks?view=queue", "/processes/", "/persons"],
    "admin": ["/", "/oversight", "/processes/", "/incidents"],
    PROFESSIONAL: ["/", "/tasks?view=started", "/notices"],
}


def figure(page, name: str) -> int:
    return int(page.locator(f"#home-{name} .value").inner_text())


def wider_than_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def keep_screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("yexian-reviewer", {"queued": 2, "mine": 0}),
        ("yexian-hr", {"queued": 3, "started": 1}),
        (PROFESSIONAL, {"started": 1, "mine": 0}),
        ("admin", {"open": 6, "open-queued": 6}),
    ],
)
def test_each_role_lands_on_its_workplace_with_its_counts_and_menu(live_server, new_page, username, expected):
    page = new_page()
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, username)
    assert page.url == f"{live_server}/"
    assert {name: figure(page, name) for name in expected} == expected
    entries = page.locator("#site-menu a").all_inner_texts()
    assert [re.sub(r"\s*\d+$", "", t.strip()) for t in entries] == MENUS[username]  # less an unread badge
    first = next(iter(expected))
    page.locator(f"#home-{first}").click()  # a figure leads to the list it counts
    page.wait_for_load_state()
    assert page.url != f"{live_server}/"


@pytest.mark.parametrize("username", sorted(PAGES))
def test_pages_fit_the_screen_at_1366_and_390_and_the_menu_folds_behind_its_button(
    live_server, new_page, username
):
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, live_server, username)
    slug = re.sub(r"\W", "-", username)
    for width in (WIDE, NARROW):
        page.set_viewport_size(width)
        for path in PAGES[username]:
            page.goto(f"{live_server}{path}")
            assert not wider_than_the_screen(page), f"{path} is wider than {width['width']} px"
            name = re.sub(r"\W+", "-", path).strip("-") or "home"
            keep_screenshot(page, f"workplace-{slug}-{width['width']}-{name}")
    page.goto(f"{live_server}/")
    button, menu = page.get_by_role("button", name="菜单"), page.locator("#site-menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    keep_screenshot(page, f"workplace-{slug}-390-menu-open")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    page.set_viewport_size(WIDE)  # wide: the menu shows and the button does not
    expect(menu).to_be_visible()
    expect(button).to_be_hidden()


def test_the_administrator_reassigns_and_terminates_from_the_open_work_list(live_server, new_page):
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, live_server, "admin")
    page.locator("#site-menu").get_by_role("link", name="在办事项").click()
    rows = page.locator("#open-work tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#position")).to_have_text("第 1–6 条，共 6 条")

    page.get_by_label("地区").select_option(label="叶县")
    page.get_by_role("button", name="查询").click()
    first = rows.filter(has_text="叶县人民医院2025年度继续教育学时认定")
    first.get_by_role("link", name="改派").click()
    approver = page.locator("#reassign_user option", has_text="叶县人社局审批人").get_attribute("value")
    page.get_by_label("改派给").select_option(approver)
    page.get_by_label("改派原因").fill("审核员休假")
    page.get_by_role("button", name="改派").click()
    expect(page.get_by_role("alert")).to_contain_text("已改派")
    assert "region=410422" in page.url  # back on the list as it was filtered
    expect(first).to_contain_text("叶县人社局审批人")

    first.get_by_role("link", name="终止").click()
    expect(page.locator("main")).to_contain_text("无法撤销")
    page.get_by_label("终止原因").fill("重复申请")
    page.get_by_role("button", name="终止流程").click()
    expect(page.get_by_role("alert")).to_contain_text("流程已终止")
    expect(first).to_have_count(0)


def test_a_professional_gets_no_start_button(live_server, new_page):
    page = new_page()
    sign_in(page, live_server, PROFESSIONAL)
    page.goto(f"{live_server}/processes/")
    assert page.get_by_role("button", name=re.compile("发起")).count() == 0
    assert page.locator("#site-menu").get_by_role("link", name="流程").count() == 0
