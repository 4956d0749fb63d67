"""In Chromium: the Content-Security-Policy refuses nothing the app itself needs (diagram, sign-in, forms)."""

import pytest

from tests.web.conftest import sign_in
from tests.web.test_task_browser import expect
from tests.web.test_task_browser import open_from

pytestmark = pytest.mark.browser


def watch_violations(page) -> list[str]:
    """Collect every CSP violation the page reports, from the console and the DOM event alike."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.expose_function("reportViolation", lambda text: seen.append(text))
    page.add_init_script(
        """document.addEventListener("securitypolicyviolation", function (e) {
             window.reportViolation(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
           });"""
    )
    return seen


def test_the_task_page_draws_its_diagram_without_a_csp_violation(live_server, new_page):
    """Finding: pages sent no CSP; the one they send now must not break bpmn-js or any page script."""
    page = new_page()
    violations = watch_violations(page)
    sign_in(page, live_server, "yexian-reviewer")
    open_from(page, "queue")
    expect(page.locator("#diagram")).to_have_attribute("data-rendered", "true")
    current = page.locator('#diagram svg .djs-element.ce-current[data-element-id="county_review"]')
    fill = current.locator(".djs-visual > :nth-child(1)").evaluate("shape => getComputedStyle(shape).fill")
    assert fill == "rgb(253, 230, 138)"  # the app's stylesheet still colours the current step
    for path in ("/persons", "/organisations", "/notices", "/account", "/register/person"):
        page.goto(f"{live_server}{path}")
    assert violations == []
