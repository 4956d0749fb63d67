"""In Chromium: a county reviewer claims and approves the demo application; the city approver gets it."""

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from webapp.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
YEXIAN_SUBJECT = "叶县人民医院2025年度继续教育学时认定"
TIMEOUT_MS = 5_000


@pytest.fixture
def live_server(app):
    """Serve the app over real HTTP on 127.0.0.1 and a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="ceflow-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def chromium():
    """Debian's chromium, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, request):
    """Return a function opening a page in a fresh context; screenshot every page when the test fails."""
    pages = []

    def open_page():
        context = chromium.new_context(locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(pages, start=1):
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{number}.png"), full_page=True)
    for page in pages:
        page.context.close()


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("用户名或身份证号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/tasks"))


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
