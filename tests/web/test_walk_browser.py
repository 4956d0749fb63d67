"""In Chromium, every demo login walks its main pages at 1366 px and 390 px wide.

Each page is saved as a screenshot under test-artifacts/walk/ and must show no English sentence in the
Chinese interface, be no wider than the screen and carry no serious or critical axe-core violation.
The walk follows the links the page offers (the menu, the inbox's tabs, the first record of a list), so
a page added to a role's menu is walked without changing this test.
"""

import re
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

import pytest

from seed.demo import DEMO_LOGINS
from tests.web.conftest import ARTIFACTS
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser
WIDE = {"width": 1366, "height": 900}
NARROW = {"width": 390, "height": 844}
AXE = "/static/vendor/axe-core/axe.min.js"  # served by the app itself: the CSP allows only 'self' scripts
SHOTS = ARTIFACTS / "walk"

# --- the English-sentence detector -------------------------------------------------------------
# A word is a run of letters, capitalised or lower case (not CODE_NAMES or camelCase); tokens with
# digits, underscores, dots, slashes, @ or hyphens inside are ids, usernames, addresses or codes.
WORD = re.compile(r"^[(\"'“‘]?([A-Z]?[a-z]+)[)\"'”’.,;:!?]*$")
BRANDS = re.compile(r"CE Flow|Excel|BPMN|PostgreSQL")
SENTENCE_WORDS = 3  # "An opinion is required", "hours must be more", "Bad Request: The CSRF"
# single English words that have no place on a Chinese page
LONE_WORDS = frozenset({"Bytes", "bytes", "None", "True", "False", "Field", "Required", "Invalid", "Not"})


def english_runs(text: str) -> list[str]:
    """Return the runs of English words in `text` that read as a sentence (or a known lone word)."""
    found = []
    for line in re.split(r"[^\x00-\x7f]+|\n", BRANDS.sub(" ", text)):  # Chinese text ends a run
        run: list[str] = []
        for token in [*line.split(), ""]:
            word = WORD.match(token)
            if word:
                run.append(token)
                continue
            if len(run) >= SENTENCE_WORDS or any(WORD.match(t).group(1) in LONE_WORDS for t in run):
                found.append(" ".join(run))
            run = []
    return found


def test_the_detector_catches_sentences_and_leaves_codes_alone():
    assert english_runs("意见：An opinion is required to 退回") == ["An opinion is required to"]
    assert english_runs("hours must be more than 0, not -5") == ["hours must be more than"]
    assert english_runs("附件 12.3 Bytes") == ["Bytes"]
    assert english_runs("Bad Request: The CSRF session token is missing.") != []
    assert english_runs("CE Flow 继续教育 · yexian-reviewer demo_approval v2 pds-hr@example.cn") == []
    assert english_runs("English") == []  # the language switch names the other language in itself


# --- one page, checked -------------------------------------------------------------------------


@dataclass
class Findings:
    """What the walk saw wrong, page by page; reported together so one run shows every leak."""

    english: list[str] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)
    menu_overflow: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    visited: int = 0
    axe_seen: set[str] = field(default_factory=set)  # kinds of page axe has checked, e.g. /tasks/<id>
    forms_failed: set[str] = field(default_factory=set)  # kinds of page whose forms were sent wrong


TEXT_OF_PAGE = """() => {
  const skip = document.querySelectorAll('form.lang, code, pre, svg, .diagram, [translate="no"]');
  const before = [...skip].map(e => e.style.display);
  skip.forEach(e => { e.style.display = 'none'; });
  const text = document.body.innerText + '\\n' + document.title + '\\n' +
    [...document.querySelectorAll('[placeholder],[aria-label],[title]')]
      .map(e => [e.getAttribute('placeholder'), e.getAttribute('aria-label'), e.getAttribute('title')]
      .filter(Boolean).join('\\n')).join('\\n');
  skip.forEach((e, i) => { e.style.display = before[i]; });
  return text;
}"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# the same, with the header's menu out of the way: is it the menu that is too wide, or the page?
WIDTH_WITHOUT_MENU = """() => {
  const header = document.querySelector('header');
  header.style.display = 'none';
  const wide = document.documentElement.scrollWidth;
  header.style.display = '';
  return wide;
}"""


def kind_of(url: str) -> str:
    """Return the kind of page an address shows: its path with record ids left out."""
    return re.sub(r"/\d+", "/<id>", urlsplit(url).path)


def check(page, label: str, findings: Findings, shoot: bool = True) -> None:
    """Check the page shown at both widths; run axe once per kind of page; screenshot it if `shoot`."""
    findings.visited += 1
    path = urlsplit(page.url).path
    kind = kind_of(page.url)
    text = page.evaluate(TEXT_OF_PAGE)
    findings.english += [f"{label} {path}: {run}" for run in english_runs(text)]
    if kind not in findings.axe_seen:
        findings.axe_seen.add(kind)
        if not page.evaluate("() => typeof axe !== 'undefined'"):
            origin = urlsplit(page.url)
            page.add_script_tag(url=f"{origin.scheme}://{origin.netloc}{AXE}")
        findings.axe += [f"{label} {path}: {v}" for v in page.evaluate(AXE_RUN)]
    shown = page.viewport_size
    for size in (shown, NARROW if shown == WIDE else WIDE):  # the width it has, then the other one
        if size != shown:
            page.set_viewport_size(size)
        name = str(size["width"])
        wide, inner = page.evaluate(WIDTH)
        if wide > inner:
            too_wide = f"{label} {path} at {name}px: {wide} > {inner}"
            menu_only = page.evaluate(WIDTH_WITHOUT_MENU) <= inner
            (findings.menu_overflow if menu_only else findings.overflow).append(too_wide)
        if shoot:
            shot = SHOTS / label / f"{findings.visited:03d}-{name}-{_slug(path)}.png"
            page.screenshot(path=str(shot), full_page=True, animations="disabled")


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


# --- the walk ----------------------------------------------------------------------------------


def links(page, selector: str) -> list[str]:
    """Return the same-site addresses of the links matched by `selector`, in page order."""
    found = page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
    origin = urlsplit(page.url)
    same = [u for u in found if urlsplit(u).netloc == origin.netloc]
    return list(dict.fromkeys(same))


def first_link(page, pattern: str) -> str | None:
    """Return the first link in the page's main part whose path matches `pattern`."""
    for url in links(page, "main a[href]"):
        if re.fullmatch(pattern, urlsplit(url).path):
            return url
    return None


def fail_a_form(page, label, findings) -> None:
    """Submit the page's forms that are easy to get wrong (once per kind of page), to show their messages."""
    path = urlsplit(page.url).path
    if kind_of(page.url) in findings.forms_failed:
        return
    if path == "/account/password":
        findings.forms_failed.add(kind_of(page.url))
        page.locator("main input[type=password]").nth(0).fill("wrong-old-password")
        page.locator("main input[type=password]").nth(1).fill("new-password-1")
        page.locator("main input[type=password]").nth(2).fill("new-password-2")
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        check(page, label, findings)
    if re.fullmatch(r"/policy(/\d+)?", path) and page.locator("main form input[type=number]").count():
        findings.forms_failed.add(kind_of(page.url))
        page.locator("main form input[type=number]").first.fill("-5")
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        check(page, label, findings)
    if re.fullmatch(r"/tasks/\d+", path):
        claim = page.get_by_role("button", name="认领", exact=True)
        if claim.count():
            claim.click()
            page.wait_for_load_state()
        buttons = [
            b
            for b in ("#cc_submit", "button[value=return]", "button[value=reject]")
            if page.locator(b).count()
        ]
        if len(buttons) > 1:  # the opinion form is there: this task page's forms are the ones to fail
            findings.forms_failed.add(kind_of(page.url))
        for button in buttons:
            page.goto(page.url)
            page.locator(button).first.click()
            page.wait_for_load_state()
            check(page, label, findings)
    submit = page.locator("main form[method=post] button[type=submit]")
    if path.startswith("/register/") and submit.count():
        findings.forms_failed.add(kind_of(page.url))
        submit.last.click()
        page.wait_for_load_state()
        check(page, label, findings)


def walk_signed_out(page, base: str, findings: Findings) -> None:
    """Visit what a stranger sees: sign-in (a wrong password), the registration forms, a missing page."""
    for url in ("/login", "/register/person", "/register/organisation", "/no-such-page"):
        page.goto(base + url)
        check(page, "signed-out", findings)
        fail_a_form(page, "signed-out", findings)
    page.goto(base + "/login")
    page.get_by_label("用户名或身份证号").fill("nobody")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    check(page, "signed-out", findings)
    page.locator("form.lang button").click()  # the detector is no dead letter: it sees the English page
    page.wait_for_load_state()
    assert english_runs(page.evaluate(TEXT_OF_PAGE)), "no English found on the English sign-in page"


def walk(page, base: str, label: str, findings: Findings) -> None:
    """Visit the role's home, every menu link, the inbox's tabs, a task and a record of each list."""
    page.goto(base + "/")
    check(page, label, findings)
    menu = links(page, "header a[href]")
    queue = [*menu]
    if "/account/password" not in findings.forms_failed:  # the same for everyone: once is enough
        queue += [base + "/account/password", base + "/tasks/999999", base + "/no-such-page"]
    seen = {page.url}
    shot = {kind_of(page.url)}
    while queue:
        url = queue.pop(0)
        if url in seen or urlsplit(url).path.endswith((".xlsx", ".json")):
            continue
        seen.add(url)
        page.goto(url)
        check(page, label, findings, shoot=kind_of(page.url) not in shot)  # one picture of each kind
        shot.add(kind_of(page.url))
        path = urlsplit(page.url).path
        if path == "/tasks":  # the inbox: its tabs, then the first task of any of them
            tabs = page.eval_on_selector_all(  # the tabs with something in them: an empty list is one page
                "main nav.tabs a[href]",
                "els => els.filter(e => e.querySelector('.badge')?.textContent.trim() !== '0')"
                ".map(e => e.href)",
            )
            queue += [u for u in tabs if u not in seen and u not in queue]
        for pattern in (r"/tasks/\d+", r"/organisations/\d+", r"/persons/\d+", r"/supervision/\d+"):
            if not any(re.fullmatch(pattern, urlsplit(s).path) for s in [*seen, *queue]):
                found = first_link(page, pattern)
                if found:
                    queue.append(found)
        fail_a_form(page, label, findings)


def test_every_demo_login_walks_its_pages_in_chinese_within_the_screen(
    live_server, new_page, session_factory
):
    from sqlalchemy import select

    from domain.accounts.users import User
    from seed.courses import ENROLLED_PROFESSIONAL

    with session_factory() as s:
        present = set(s.scalars(select(User.username)))
    logins = [(role, name) for role, name in DEMO_LOGINS if name in present]
    assert {name for _, name in DEMO_LOGINS} - present == {
        ENROLLED_PROFESSIONAL
    }  # the course demo's, not loaded here
    findings = Findings()
    (SHOTS / "signed-out").mkdir(parents=True, exist_ok=True)
    walk_signed_out(new_page(), live_server, findings)
    for _role, username in logins:
        label = re.sub(r"[^a-z0-9-]+", "-", username.lower())
        (SHOTS / label).mkdir(parents=True, exist_ok=True)
        page = new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # confirmations say yes: the walk acts on nothing
        page.set_viewport_size(WIDE)
        sign_in(page, live_server, username)
        walk(page, live_server, label, findings)
    assert findings.visited > 10 * len(logins) // 2
    report = "\n".join([*findings.english, *findings.overflow, *findings.axe])
    print(report)
    assert not findings.english, "English on a Chinese page:\n" + "\n".join(findings.english)
    assert not findings.overflow, "Pages wider than the screen:\n" + "\n".join(findings.overflow)
    assert not findings.axe, "axe-core violations:\n" + "\n".join(findings.axe)
    if findings.menu_overflow:  # the small-screen menu button in base.html is being built separately
        pytest.xfail(
            f"the header's menu (base.html) alone is wider than a 390 px screen on"
            f" {len(findings.menu_overflow)} pages, e.g. " + "; ".join(findings.menu_overflow[:3])
        )
