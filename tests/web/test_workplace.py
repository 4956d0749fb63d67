"""Each role's workplace (工作台): what waits with links, its actions, a menu of what it may use; the start
rule; the administrator's open work with reassign (改派) and terminate (终止)."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from lxml import html as lxml_html
from sqlalchemy import update

from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate
from tests.engine_helpers import audit_actions
from tests.engine_helpers import instance
from tests.web.conftest import csrf_token
from tests.web.test_task_page import YEXIAN_SUBJECT
from tests.web.test_task_page import claim
from tests.web.test_task_page import open_task
from tests.web.test_task_page import post_from_page
from tests.web.test_task_page import task_row
from tests.web.test_task_page import text
from tests.web.test_task_page import user_id

PROFESSIONAL = "410422198801010018"
# what each demo role's menu holds, in order: what the role may use and nothing else
MENUS = {
    "admin": [
        "在办事项",
        "流程",
        "课程",
        "单位",
        "专业技术人员",
        "节假日安排",
        "督导通报",
        "异常事件",
        "通知",
    ],
    "yexian-reviewer": [
        "我的待办",
        "课程",
        "单位",
        "专业技术人员",
        "号段",
        "年度工作日程",
        "督导通报",
        "通知",
    ],
    "pds-approver": ["我的待办", "课程", "单位", "专业技术人员", "号段", "年度工作日程", "督导通报", "通知"],
    "pds-education": [
        "我的待办",
        "我的申请",
        "流程",
        "课程",
        "单位",
        "专业技术人员",
        "年度工作日程",
        "督导通报",
        "通知",
    ],
    "yexian-hr": [
        "我的待办",
        "我的申请",
        "流程",
        "课程",
        "专业技术人员",
        "号段",
        "年度工作日程",
        "督导通报",
        "通知",
    ],
    "pds-cebase": ["我的待办", "我的申请", "流程", "课程", "年度工作日程", "通知"],
    PROFESSIONAL: ["我的待办", "我的申请", "我的课程", "课程", "年度工作日程", "通知"],  # their deadlines too
}


def page_of(response):
    return lxml_html.fromstring(text(response))


def menu(response) -> list[str]:
    return [" ".join(a.text.split()) for a in page_of(response).xpath('//nav[@id="site-menu"]/a')]


def figures(response) -> dict[str, int]:
    """Return the home page's figures by name, e.g. {"queued": 2}."""
    found = page_of(response).xpath('//a[contains(@class, "figure")]')
    return {a.get("id").removeprefix("home-"): int(a.xpath('.//*[@class="value"]')[0].text) for a in found}


def figure_link(response, name: str) -> str:
    return page_of(response).xpath(f'//a[@id="home-{name}"]')[0].get("href")


def actions(response) -> list[str]:
    return [a.text for a in page_of(response).xpath('//ul[@class="home-actions"]//a')]


@pytest.mark.parametrize("username", sorted(MENUS))
def test_each_role_signs_in_to_its_workplace_with_a_menu_of_only_what_it_may_use(client, login_as, username):
    signed_in = login_as(username)
    home = signed_in.get("/")
    assert home.status_code == 200 and "工作台" in text(home)
    assert menu(home) == MENUS[username]


def test_sign_in_lands_on_the_workplace(client):
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login", data={"username": "yexian-reviewer", "password": "demo1234", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("yexian-reviewer", {"mine": 0, "queued": 2, "returned": 0, "unread": 1}),
        ("yexian-hr", {"mine": 0, "queued": 3, "started": 1}),
        ("pds-approver", {"mine": 0, "queued": 0}),
        (PROFESSIONAL, {"mine": 0, "queued": 0, "started": 1}),
    ],
)
def test_the_workplace_counts_what_waits_with_links_to_the_lists(client, login_as, username, expected):
    home = login_as(username).get("/")
    found = figures(home)
    assert {name: found[name] for name in expected} == expected
    queue = client.get(figure_link(home, "queued"))
    assert queue.status_code == 200
    listed = page_of(queue).xpath('//table[@class="tasks"]//tr[@data-task]')
    assert len(listed) == found["queued"]


def test_overdue_counts_the_queue_and_leads_to_the_filtered_list(client, login_as, session_factory):
    task = open_task(session_factory)
    late = datetime.now(UTC) - timedelta(hours=1)
    with session_factory() as session, session.begin():  # the queue rows carry the task's due date
        session.execute(update(HumanTask).where(HumanTask.id == task.id).values(due_at=late, due_sort=late))
        queued = update(HumanTaskCandidate).where(HumanTaskCandidate.human_task_id == task.id)
        session.execute(queued.values(due_sort=late))
    home = login_as("yexian-reviewer").get("/")
    assert figures(home)["queued-overdue"] == 1 and figures(home)["queued-soon"] == 0
    overdue = client.get(figure_link(home, "queued-overdue"))
    assert [tr.get("data-task") for tr in page_of(overdue).xpath("//tr[@data-task]")] == [str(task.id)]


def test_an_application_sent_back_shows_as_returned_to_its_applicant(app, client, login_as, session_factory):
    task = open_task(session_factory)
    reviewer = login_as("yexian-reviewer")
    claim(reviewer, task.id)
    sent_back = post_from_page(reviewer, task.id, f"/tasks/{task.id}/return", {"opinion": "请补充材料"})
    assert sent_back.status_code == 302
    applicant = login_as("yexian-hr", into=app.test_client())
    home = applicant.get("/")
    assert figures(home)["returned"] == 1 and figures(home)["mine"] == 1
    returned = applicant.get(figure_link(home, "returned"))
    assert YEXIAN_SUBJECT in text(returned)


def test_actions_follow_the_role(client, login_as):
    assert "审核专业技术人员注册" in actions(login_as("yexian-hr").get("/"))
    reviewer = actions(login_as("yexian-reviewer").get("/"))
    assert "审核单位注册" in reviewer and "编辑年度工作日程" not in reviewer
    assert "编辑年度工作日程" in actions(login_as("pds-reviewer").get("/"))
    assert actions(login_as(PROFESSIONAL).get("/")) == ["课程目录", "查看我的申请", "查看通知"]
    assert "申请课程备案" in actions(login_as("pds-cebase").get("/"))
    assert "申请课程备案" not in actions(login_as("yexian-hr").get("/"))


# --- the start rule ------------------------------------------------------------------------


def test_a_professional_is_offered_no_process_and_may_not_start_one_by_post(client, login_as):
    professional = login_as(PROFESSIONAL)
    assert professional.get("/processes/").status_code == 403  # not in its menu: not its page
    home = professional.get("/")
    assert not page_of(home).xpath('//form[contains(@action, "/start")]')
    token = csrf_token(text(home))
    refused = professional.post("/processes/demo_approval/start", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "您的角色不能发起此流程" in text(refused)


def test_an_employer_starts_the_demo_process_from_its_workplace(client, login_as, session_factory):
    hr = login_as("yexian-hr")
    home = hr.get("/")
    forms = page_of(home).xpath('//form[@action="/processes/demo_approval/start"]')
    assert len(forms) == 1 and forms[0].xpath(".//button")[0].text == "发起示例审批"
    started = hr.post("/processes/demo_approval/start", data={"csrf_token": csrf_token(text(home))})
    assert started.status_code == 302 and "/tasks/" in started.headers["Location"]


def test_an_approver_may_start_nothing_and_the_processes_page_is_not_theirs(client, login_as):
    assert login_as("yexian-reviewer").get("/processes/").status_code == 403


# each menu entry's list page: a role opens those in its menu; the others answer that they are not its own
MENU_PAGES = {
    "在办事项": "/oversight",
    "流程": "/processes/",
    "我的课程": "/my/courses",
    "单位": "/organisations",
    "专业技术人员": "/persons",
    "号段": "/number-ranges",
    "年度工作日程": "/policy",
    "节假日安排": "/holidays",
    "督导通报": "/supervision/",
    "异常事件": "/incidents",
}


@pytest.mark.parametrize("username", sorted(MENUS))
def test_a_list_page_outside_the_menu_is_refused_not_shown(client, login_as, username):
    signed_in = login_as(username)
    for label, path in MENU_PAGES.items():
        answer = signed_in.get(path, follow_redirects=True)  # an employer's ranges open its own
        if label in MENUS[username]:
            assert answer.status_code == 200, (label, path)
        else:
            assert answer.status_code in (403, 404), (label, path)  # the administrator's pages: 404
            assert "您无权打开此页面" in text(answer) or "页面不存在" in text(answer)


def test_bulk_approve_is_not_offered_for_a_step_with_its_own_form(client, login_as):
    hr = login_as("yexian-hr")
    home = hr.get("/")
    hr.post("/processes/demo_approval/start", data={"csrf_token": csrf_token(text(home))})
    mine = page_of(hr.get("/tasks?view=mine"))
    assert mine.xpath("//tr[@data-task]") and not mine.xpath('//button[@value="approve"]')


# --- the administrator's open work ---------------------------------------------------------


def open_work_rows(response) -> list[str]:
    return [tr.get("data-task") for tr in page_of(response).xpath('//table[@id="open-work"]//tr[@data-task]')]


def test_only_the_administrator_has_the_open_work_list(client, login_as):
    assert login_as("yexian-reviewer").get("/oversight").status_code == 404
    admin = login_as("admin", into=client.application.test_client())
    listed = admin.get("/oversight")
    assert listed.status_code == 200 and len(open_work_rows(listed)) == figures(admin.get("/"))["open"] == 6


def test_the_open_work_list_filters_by_process_state_region_holder_and_overdue(
    app, client, login_as, session_factory
):
    task = open_task(session_factory)
    claim(login_as("yexian-reviewer", into=app.test_client()), task.id)
    admin = login_as("admin")
    assert open_work_rows(admin.get("/oversight?process=demo_approval&region=410422")) == [str(task.id)]
    assert open_work_rows(admin.get("/oversight?state=held")) == [str(task.id)]
    assert str(task.id) not in open_work_rows(admin.get("/oversight?state=queued"))
    assert open_work_rows(admin.get("/oversight?assignee=叶县")) == [str(task.id)]
    assert open_work_rows(admin.get("/oversight?overdue=1")) == []
    assert admin.get("/oversight?state=bogus").status_code == 400
    assert "第 1–1 条，共 1 条" in text(admin.get("/oversight?state=held"))


def test_the_administrator_reassigns_from_the_open_work_list(app, client, login_as, session_factory):
    task = open_task(session_factory)
    admin = login_as("admin")
    back = "/oversight?process=demo_approval"
    form = admin.get(f"/oversight/tasks/{task.id}/reassign?back={back}")
    colleague = user_id(session_factory, "yexian-approver")
    assert page_of(form).xpath(f'//select[@name="to_user_id"]/option[@value="{colleague}"]')
    data = {
        "csrf_token": csrf_token(text(form)),
        "to_user_id": colleague,
        "opinion": "审核员休假",
        "back": back,
    }
    done = admin.post(f"/tasks/{task.id}/reassign", data=data)
    assert done.status_code == 302 and done.headers["Location"] == back
    assert task_row(session_factory, task.id).assignee_id == colleague
    assert "改派" in text(admin.get(back)) and "yexian" not in text(admin.get(back))


def test_the_administrator_terminates_from_the_open_work_list_with_a_reason(
    app, client, login_as, session_factory
):
    task = open_task(session_factory)
    admin = login_as("admin")
    confirm = admin.get(f"/oversight/tasks/{task.id}/terminate?back=/oversight")
    assert "无法撤销" in text(confirm) and YEXIAN_SUBJECT in text(confirm)
    form = page_of(confirm).xpath('//form[contains(@action, "/terminate")]')[0]
    assert form.xpath('.//input[@name="confirmed"]/@value') == ["1"]  # this page is the confirmation
    data = {
        "csrf_token": csrf_token(text(confirm)),
        "opinion": "重复申请",
        "back": "/oversight",
        "confirmed": "1",
    }
    done = admin.post(f"/tasks/{task.id}/terminate", data=data)
    assert done.status_code == 302 and done.headers["Location"] == "/oversight"
    assert instance(session_factory, task.instance_id).status == "terminated"
    assert audit_actions(session_factory, task.instance_id)[-1] == "terminate"
    assert str(task.id) not in open_work_rows(admin.get("/oversight"))


def test_the_open_work_back_link_never_leaves_the_site(client, login_as, session_factory):
    task = open_task(session_factory)
    admin = login_as("admin")
    confirm = page_of(admin.get(f"/oversight/tasks/{task.id}/terminate?back=//evil.example/oversight"))
    assert confirm.xpath('//input[@name="back"]')[0].get("value") == "/oversight"
