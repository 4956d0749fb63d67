"""The inbox pages: five lists with badges, filters, saved filters, due colours, bulk actions, scoping."""

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from domain.accounts.users import User
from domain.accounts.users import actor_for
from engine.inbox.saved_filters import SavedFilter
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import TaskCc
from engine.tasks.assignment import claim_task
from engine.tasks.assignment import delegate_task
from engine.tasks.commands import complete_task
from engine.tasks.commands import return_task
from tests.web.conftest import csrf_token
from tests.web.conftest import sign_in

YEXIAN_SUBJECT = "叶县人民医院2025年度继续教育学时认定"
LUSHAN_SUBJECT = "鲁山县第一中学2025年度继续教育学时认定"
ORG_SUBJECT = "单位注册：叶县第二高级中学"


def text(response) -> str:
    return response.get_data(as_text=True)


def open_task(session_factory, subject: str) -> HumanTask:
    with session_factory() as session:
        return session.execute(
            select(HumanTask).where(HumanTask.subject == subject, HumanTask.state == "open")
        ).scalar_one()


def user_id(session_factory, username: str) -> int:
    with session_factory() as session:
        return session.scalar(select(User.id).where(User.username == username))


def audit_count(session_factory, action: str) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).where(AuditEvent.action == action))


def bulk(client, action: str, task_ids, opinion: str = "同意", back: str = "/tasks?view=queue"):
    """Post the bulk form of the queue page; follow the redirect back to the list."""
    token = csrf_token(text(client.get("/tasks?view=queue")))
    form = {
        "csrf_token": token,
        "action": action,
        "task_id": list(task_ids),
        "opinion": opinion,
        "back": back,
        "confirmed": "1",
    }
    return client.post("/tasks/bulk", data=form, follow_redirects=True)


def said(app, msgid: str, **params) -> str:
    """Return a message as the pages say it (in Chinese once translated), escaped as in HTML."""
    with app.test_request_context():
        return str(escape(gettext(msgid, **params)))


def tally(app, done: int, total: int) -> str:
    return said(app, "%(done)s of %(total)s done.", done=done, total=total)


def badge(page: str, name: str) -> str:
    found = re.search(rf'id="count-{name}"[^>]*>([^<]*)<', page)
    assert found, f"no {name} badge"
    return found.group(1)


def test_every_list_has_a_tab_with_a_count_badge(client, login_as):
    login_as("yexian-reviewer")
    page = text(client.get("/tasks?view=queue"))
    assert [badge(page, name) for name in ("mine", "queued", "done", "started", "cc")] == [
        "0",
        "2",
        "0",
        "0",
        "0",
    ]
    for view in ("mine", "queue", "done", "started", "cc"):
        assert client.get(f"/tasks?view={view}").status_code == 200, view


def test_queue_lists_the_county_applications_with_checkboxes_for_bulk_actions(
    client, login_as, session_factory
):
    login_as("yexian-reviewer")
    page = text(client.get("/tasks?view=queue"))
    for subject in (YEXIAN_SUBJECT, ORG_SUBJECT):
        task = open_task(session_factory, subject)
        assert f'name="task_id" value="{task.id}"' in page
    assert LUSHAN_SUBJECT not in page
    assert 'action="/tasks/bulk"' in page


def test_a_list_offers_bulk_actions_only_where_the_engine_allows_them(app, client, login_as, session_factory):
    """The rows show the permission function's answer: a delegate may finish, never return, in bulk."""
    task = open_task(session_factory, YEXIAN_SUBJECT)
    runtime = app.extensions["ceflow.runtime"]
    with session_factory() as session:
        owner = actor_for(session, user_id(session_factory, "yexian-reviewer"))
    claim_task(runtime, owner, task.id)
    delegate_task(runtime, owner, task.id, user_id(session_factory, "yexian-approver"), "请协助")
    login_as("yexian-approver")
    page = text(client.get("/tasks?view=mine"))
    assert f'name="task_id" value="{task.id}"' in page
    assert 'name="action" value="approve"' in page
    assert 'name="action" value="return"' not in page


def test_started_by_me_shows_the_current_step_and_who_holds_it(client, login_as, session_factory):
    login_as("yexian-hr")
    page = text(client.get("/tasks?view=started"))
    task = open_task(session_factory, YEXIAN_SUBJECT)
    assert YEXIAN_SUBJECT in page and f'data-instance="{task.instance_id}"' in page
    assert task.name in page
    assert "叶县人力资源和社会保障局" in page  # the queue it waits in: the county HRSS


def test_filters_narrow_the_list_and_bad_values_are_refused(client, login_as):
    login_as("yexian-reviewer")
    demo = text(client.get("/tasks?view=queue&process=demo_approval"))
    assert YEXIAN_SUBJECT in demo and ORG_SUBJECT not in demo
    organisations = text(client.get("/tasks?view=queue&process=register_organisation&region=410400"))
    assert ORG_SUBJECT in organisations and YEXIAN_SUBJECT not in organisations
    assert YEXIAN_SUBJECT in text(client.get("/tasks?view=queue&applicant=叶县人民医院"))
    assert "暂无事项" in text(client.get("/tasks?view=queue&applicant=鲁山"))
    assert "暂无事项" in text(client.get("/tasks?view=queue&created_to=2020-01-01"))
    assert client.get("/tasks?view=queue&due_within=abc").status_code == 400
    assert client.get("/tasks?view=everything").status_code == 400
    assert client.get("/tasks?view=queue&cursor=due_garbage_1").status_code == 400


def test_overdue_rows_are_red_and_rows_due_within_48_hours_amber(client, login_as, session_factory):
    now = datetime.now(UTC)
    yexian, org = open_task(session_factory, YEXIAN_SUBJECT), open_task(session_factory, ORG_SUBJECT)
    with session_factory() as session, session.begin():
        for task, due in ((yexian, now - timedelta(hours=3)), (org, now + timedelta(hours=20))):
            session.execute(update(HumanTask).where(HumanTask.id == task.id).values(due_at=due))
    login_as("yexian-reviewer")
    page = text(client.get("/tasks?view=queue"))
    assert re.search(rf'<tr class="due-overdue" data-task="{yexian.id}"', page)
    assert re.search(rf'<tr class="due-soon" data-task="{org.id}"', page)


def test_bulk_approve_with_one_item_already_handled_does_the_others_and_lists_the_failure(
    app, client, login_as, session_factory
):
    yexian, org = open_task(session_factory, YEXIAN_SUBJECT), open_task(session_factory, ORG_SUBJECT)
    runtime = app.extensions["ceflow.runtime"]
    with session_factory() as session:
        admin = actor_for(session, user_id(session_factory, "admin"))
    complete_task(runtime, admin, yexian.id, {}, "管理员先办了")
    login_as("yexian-reviewer")
    page = text(bulk(client, "approve", [yexian.id, org.id]))
    assert tally(app, 1, 2) in page
    assert re.search(r"已由系统管理员(于.+)?办理", page)
    with session_factory() as session:
        assert session.get(HumanTask, org.id).state == "done"
        assert session.get(HumanTask, org.id).completed_by_name == "叶县人社局审核员"


def test_bulk_double_submit_acts_once_and_says_already_handled(app, client, login_as, session_factory):
    yexian, org = open_task(session_factory, YEXIAN_SUBJECT), open_task(session_factory, ORG_SUBJECT)
    login_as("yexian-reviewer")
    before = audit_count(session_factory, "approve")
    assert tally(app, 2, 2) in text(bulk(client, "approve", [yexian.id, org.id]))
    again = text(bulk(client, "approve", [yexian.id, org.id]))
    assert tally(app, 0, 2) in again
    assert len(re.findall(r"已由叶县人社局审核员(于[^<]+)?办理", again)) == 2
    assert audit_count(session_factory, "approve") == before + 2


def test_bulk_return_needs_an_opinion_and_reports_it_per_task(app, client, login_as, session_factory):
    yexian = open_task(session_factory, YEXIAN_SUBJECT)
    login_as("yexian-reviewer")
    page = text(bulk(client, "return", [yexian.id], opinion=""))
    assert tally(app, 0, 1) in page and "请填写审批意见" in page
    page = text(bulk(client, "return", [yexian.id], opinion="材料不全，请补充"))
    assert tally(app, 1, 1) in page
    assert open_task(session_factory, YEXIAN_SUBJECT).spec_name == "submit"


def test_bulk_action_on_another_countys_task_is_refused_and_changes_nothing(
    app, client, login_as, session_factory
):
    lushan = open_task(session_factory, LUSHAN_SUBJECT)
    login_as("yexian-reviewer")
    page = text(bulk(client, "approve", [lushan.id]))
    assert tally(app, 0, 1) in page and f"#{lushan.id}" in page and LUSHAN_SUBJECT not in page
    assert open_task(session_factory, LUSHAN_SUBJECT).id == lushan.id
    assert client.get(f"/tasks/{lushan.id}").status_code == 404


def test_bulk_approve_leaves_steps_with_their_own_form_to_their_page(app, client, login_as, session_factory):
    yexian = open_task(session_factory, YEXIAN_SUBJECT)
    runtime = app.extensions["ceflow.runtime"]
    with session_factory() as session:
        reviewer = actor_for(session, user_id(session_factory, "yexian-reviewer"))
    return_task(runtime, reviewer, yexian.id, "请补充说明")
    resubmit = open_task(session_factory, YEXIAN_SUBJECT)
    assert resubmit.form_key == "demo_application"
    login_as("yexian-hr")
    page = text(bulk(client, "approve", [resubmit.id], back="/tasks"))
    assert tally(app, 0, 1) in page and said(app, "This step has its own form: open it.") in page
    assert open_task(session_factory, YEXIAN_SUBJECT).id == resubmit.id


def test_bulk_form_without_csrf_token_is_refused(client, login_as, session_factory):
    yexian = open_task(session_factory, YEXIAN_SUBJECT)
    login_as("yexian-reviewer")
    response = client.post("/tasks/bulk", data={"action": "approve", "task_id": [yexian.id]})
    assert response.status_code == 303  # sent back with "页面已过期，请重新提交"
    assert open_task(session_factory, YEXIAN_SUBJECT).id == yexian.id


def test_bulk_never_redirects_to_another_site(client, login_as, session_factory):
    yexian = open_task(session_factory, YEXIAN_SUBJECT)
    login_as("yexian-reviewer")
    token = csrf_token(text(client.get("/tasks?view=queue")))
    form = {"csrf_token": token, "action": "return", "task_id": [yexian.id], "back": "//evil.example/tasks"}
    response = client.post("/tasks/bulk", data=form)
    assert response.headers["Location"] == "/tasks"


def test_saved_filters_are_mine_alone(app, client, login_as, session_factory):
    login_as("yexian-reviewer")
    token = csrf_token(text(client.get("/tasks?view=queue")))
    form = {"csrf_token": token, "name": "演示审批", "view": "queue", "process": "demo_approval"}
    saved = client.post("/tasks/filters", data=form)
    assert saved.status_code == 302
    with session_factory() as session:
        filter_id = session.scalar(select(SavedFilter.id).where(SavedFilter.name == "演示审批"))
    opened = client.get(f"/tasks?saved={filter_id}")
    assert opened.headers["Location"] == "/tasks?view=queue&process=demo_approval"
    assert "演示审批" in text(client.get("/tasks"))

    other = login_as("lushan-reviewer", into=app.test_client())
    assert other.get(f"/tasks?saved={filter_id}").status_code == 404
    assert "演示审批" not in text(other.get("/tasks"))
    token = csrf_token(text(other.get("/tasks")))
    assert other.post(f"/tasks/filters/{filter_id}/delete", data={"csrf_token": token}).status_code == 404

    token = csrf_token(text(client.get("/tasks")))
    assert client.post(f"/tasks/filters/{filter_id}/delete", data={"csrf_token": token}).status_code == 302
    assert client.get(f"/tasks?saved={filter_id}").status_code == 404


def test_copied_to_me_lists_the_copy_lets_me_read_the_task_and_mark_it_read(
    client, login_as, session_factory
):
    yexian = open_task(session_factory, YEXIAN_SUBJECT)
    hr = user_id(session_factory, "yexian-hr")
    with session_factory() as session, session.begin():
        copy = TaskCc(
            instance_id=yexian.instance_id,
            human_task_id=yexian.id,
            principal=f"u:{hr}",
            by_user_id=user_id(session_factory, "yexian-reviewer"),
            at=datetime.now(UTC),
        )
        session.add(copy)
        session.flush()
        copy_id = copy.id
    login_as("yexian-hr")
    page = text(client.get("/tasks?view=cc"))
    assert badge(page, "cc") == "1" and f'data-copy="{copy_id}"' in page and "叶县人社局审核员" in page
    assert client.get(f"/tasks/{yexian.id}").status_code == 200
    token = csrf_token(page)
    assert client.post(f"/tasks/cc/{copy_id}/read", data={"csrf_token": token}).status_code == 302
    assert badge(text(client.get("/tasks?view=cc")), "cc") == "0"


def test_copy_of_someone_else_cannot_be_marked_read(app, client, login_as, session_factory):
    yexian = open_task(session_factory, YEXIAN_SUBJECT)
    with session_factory() as session, session.begin():
        copy = TaskCc(
            instance_id=yexian.instance_id,
            human_task_id=yexian.id,
            principal=f"u:{user_id(session_factory, 'yexian-hr')}",
            at=datetime.now(UTC),
        )
        session.add(copy)
        session.flush()
        copy_id = copy.id
    login_as("lushan-reviewer")
    token = csrf_token(text(client.get("/tasks")))
    assert client.post(f"/tasks/cc/{copy_id}/read", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/tasks/{yexian.id}").status_code == 404


@pytest.mark.browser
def test_in_the_browser_select_all_approves_in_bulk_and_a_copy_is_marked_read_in_place(
    app, live_server, new_page, session_factory
):
    from playwright.sync_api import expect

    yexian = open_task(session_factory, YEXIAN_SUBJECT)
    page = new_page()
    sign_in(page, live_server, "yexian-reviewer")
    page.goto(f"{live_server}/tasks?view=queue")
    page.locator("input.select-all").check()
    expect(page.locator('input[name="task_id"]:checked')).to_have_count(2)
    page.get_by_label("审批意见").fill("同意")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.locator('button[name="action"][value="approve"]').click()
    expect(page.get_by_role("alert").first).to_contain_text(tally(app, 2, 2))
    assert asked and "所选" in asked[0]  # the browser asked first, naming what would happen

    with session_factory() as session, session.begin():
        reviewer = user_id(session_factory, "yexian-reviewer")
        session.add(
            TaskCc(
                instance_id=yexian.instance_id,
                human_task_id=yexian.id,
                principal=f"u:{reviewer}",
                at=datetime.now(UTC),
            )
        )
    page.goto(f"{live_server}/tasks?view=cc")
    expect(page.locator("#count-cc")).to_have_text("1")
    page.evaluate("window.stillThisPage = true")
    page.get_by_role("button", name="标为已读").click()  # the page's script posts to the API with X-CSRFToken
    expect(page.locator("tr.unread")).to_have_count(0)
    expect(page.locator("#count-cc")).to_have_text("0")
    assert page.evaluate("window.stillThisPage === true")  # no reload: the API call did it
    with session_factory() as session:
        assert session.scalar(select(TaskCc.read_at)) is not None
