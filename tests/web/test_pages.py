"""The pages: sign-in, CSRF, jurisdiction, claim and approve, double submit, language, safe redirects."""

import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from tests.web.conftest import csrf_token

YEXIAN_SUBJECT = "叶县人民医院2025年度继续教育学时认定"


def text(response) -> str:
    return response.get_data(as_text=True)


def open_task(session_factory, subject: str = YEXIAN_SUBJECT) -> HumanTask:
    with session_factory() as session:
        return session.execute(
            select(HumanTask).where(HumanTask.subject == subject, HumanTask.state == "open")
        ).scalar_one()


def audit_count(session_factory, instance_id: int, action: str) -> int:
    with session_factory() as session:
        return session.scalar(
            select(func.count()).where(AuditEvent.instance_id == instance_id, AuditEvent.action == action)
        )


def signed_in(client) -> bool:
    with client.session_transaction() as browser_session:
        return "_user_id" in browser_session


def claim_and_approve(client, task_id: int, opinion: str = "材料齐全，同意"):
    """Claim a queued task through its page, then post its approve form; return (form data, response)."""
    page = client.get(f"/tasks/{task_id}")
    client.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(text(page))})
    page = client.get(f"/tasks/{task_id}")
    assert f'action="/tasks/{task_id}/complete"' in text(page)
    form = {"csrf_token": csrf_token(text(page)), "opinion": opinion, "action": "approve"}
    return form, client.post(f"/tasks/{task_id}/complete", data=form, follow_redirects=True)


def test_login_page_is_in_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in text(page) and "密码" in text(page)
    assert "Sign in" not in text(page)


def test_wrong_password_says_so_and_signs_nobody_in(client):
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login", data={"username": "yexian-reviewer", "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "用户名或密码错误" in text(response)
    assert not signed_in(client)
    assert client.get("/tasks").status_code == 302


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    response = client.post(f"/tasks/{task.id}/claim", data={})
    assert response.status_code == 303  # sent back with "页面已过期，请重新提交"
    assert open_task(session_factory).assignee_id is None
    assert audit_count(session_factory, task.instance_id, "claim") == 0


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "yexian-reviewer", "password": "demo1234"})
    assert response.status_code == 400
    assert not signed_in(client)


def test_task_list_requires_login(client):
    response = client.get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_county_hrss_sees_its_own_county_application_in_the_queue(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    queue = text(client.get("/tasks?view=queue"))
    assert "待认领" in queue
    assert YEXIAN_SUBJECT in queue
    assert f'href="/tasks/{task.id}"' in queue
    assert client.get(f"/tasks/{task.id}").status_code == 200


def test_county_hrss_cannot_see_other_county_tasks(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("lushan-reviewer")
    queue = text(client.get("/tasks?view=queue"))
    assert "鲁山县第一中学2025年度继续教育学时认定" in queue
    assert YEXIAN_SUBJECT not in queue
    assert f'href="/tasks/{task.id}"' not in queue
    assert client.get(f"/tasks/{task.id}").status_code == 404


def test_claim_then_approve_sends_the_application_to_the_city_approver(
    app, client, login_as, session_factory
):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    _, response = claim_and_approve(client, task.id)
    assert "已办理" in text(response)
    assert YEXIAN_SUBJECT not in text(client.get("/tasks?view=mine"))
    assert YEXIAN_SUBJECT not in text(client.get("/tasks?view=queue"))
    assert YEXIAN_SUBJECT in text(client.get("/tasks?view=done"))

    city_task = open_task(session_factory)
    assert city_task.spec_name == "city_approval" and city_task.instance_id == task.instance_id
    approver = login_as("pds-approver", into=app.test_client())
    queue = text(approver.get("/tasks?view=queue"))
    assert YEXIAN_SUBJECT in queue and f'href="/tasks/{city_task.id}"' in queue


def test_double_submit_is_reported_as_already_handled_and_recorded_once(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    form, _ = claim_and_approve(client, task.id)
    assert audit_count(session_factory, task.instance_id, "approve") == 1  # the review (the seed submits)

    again = client.post(f"/tasks/{task.id}/complete", data=form, follow_redirects=True)
    assert again.status_code == 200
    assert re.search(r"该事项已由叶县人社局审核员(于.+)?办理", text(again))
    assert audit_count(session_factory, task.instance_id, "approve") == 1
    assert open_task(session_factory).spec_name == "city_approval"


def test_language_switch_to_english_shows_my_tasks(client, login_as):
    login_as("yexian-reviewer")
    page = text(client.get("/tasks"))
    assert "我的待办" in page
    client.post("/lang/en", data={"csrf_token": csrf_token(page)})
    english = text(client.get("/tasks"))
    assert "My tasks" in english and "我的待办" not in english


def test_login_does_not_follow_next_to_another_site(client):
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login?next=//evil.example",
        data={"username": "yexian-reviewer", "password": "demo1234", "csrf_token": token},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
    assert response.headers["Location"] == "/"  # the workplace


@pytest.mark.parametrize("disguised", ["/\t/evil.example", "/\n/evil.example"])
def test_login_does_not_follow_next_disguised_with_control_characters(client, disguised):
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login",
        query_string={"next": disguised},
        data={"username": "yexian-reviewer", "password": "demo1234", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"  # the workplace


def test_login_follows_next_to_a_page_of_this_site(client):
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/login?next=/tasks?view=queue",
        data={"username": "yexian-reviewer", "password": "demo1234", "csrf_token": token},
    )
    assert response.headers["Location"] == "/tasks?view=queue"


def test_language_switch_never_redirects_to_another_site(client):
    token = csrf_token(text(client.get("/login")))
    response = client.post(
        "/lang/en", data={"csrf_token": token}, headers={"Referer": "https://evil.example/x"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
