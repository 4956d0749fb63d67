"""The task page's and the API's side actions: countersign, reassign, terminate, urge; IDOR and CSRF."""

import pytest
from sqlalchemy import select

from engine.runtime.models import TaskCountersign
from tests.engine_helpers import audit_actions
from tests.engine_helpers import instance
from tests.engine_helpers import notices
from tests.web.conftest import csrf_token
from tests.web.test_inbox_api import signed_in_api
from tests.web.test_task_page import YEXIAN_SUBJECT
from tests.web.test_task_page import approve
from tests.web.test_task_page import at_city
from tests.web.test_task_page import claim
from tests.web.test_task_page import open_task
from tests.web.test_task_page import post_from_page
from tests.web.test_task_page import task_row
from tests.web.test_task_page import text
from tests.web.test_task_page import user_id


def countersign_states(session_factory, task_id: int) -> list[tuple[str, str]]:
    with session_factory() as session:
        rows = session.scalars(select(TaskCountersign).where(TaskCountersign.human_task_id == task_id))
        return [(row.position, row.state) for row in rows]


def flashed_error(response) -> bool:
    return 'class="flash error"' in text(response)


# --- countersign on the page ---------------------------------------------------------------


def test_countersign_after_me_through_the_page(app, client, login_as, session_factory):
    approver, city = at_city(app, client, login_as, session_factory)
    colleague = user_id(session_factory, "pds-reviewer")
    page = text(approver.get(f"/tasks/{city.id}"))
    assert 'id="countersign"' in page and f'<option value="{colleague}">' in page
    data = {"position": "after", "to_user_id": colleague, "opinion": "请您最后把关"}
    response = post_from_page(approver, city.id, f"/tasks/{city.id}/countersign", data, follow_redirects=True)
    assert not flashed_error(response) and 'id="countersigns"' in text(response)
    assert countersign_states(session_factory, city.id) == [("after", "pending")]

    approve(approver, city.id, "我同意")
    assert task_row(session_factory, city.id).assignee_id == colleague
    added = login_as("pds-reviewer", into=app.test_client())
    page = text(added.get(f"/tasks/{city.id}"))
    assert "请您最后把关" in page and 'value="return"' in page  # the last word: may still return
    approve(added, city.id, "同意")
    assert instance(session_factory, city.instance_id).status == "completed"
    assert audit_actions(session_factory, city.instance_id)[-3:] == [
        "approve",
        "countersign_approve",
        "approve",
    ]


def test_countersign_before_me_through_the_page_and_back(app, client, login_as, session_factory):
    approver, city = at_city(app, client, login_as, session_factory)
    colleague = user_id(session_factory, "pds-reviewer")
    data = {"position": "before", "to_user_id": colleague, "opinion": "请先核对"}
    response = post_from_page(approver, city.id, f"/tasks/{city.id}/countersign", data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")
    added = login_as("pds-reviewer", into=app.test_client())
    page = text(added.get(f"/tasks/{city.id}"))
    assert 'value="return"' not in page and 'value="reject"' not in page
    assert 'id="handover"' not in page and 'id="countersign"' not in page
    approve(added, city.id, "核对无误")
    assert task_row(session_factory, city.id).assignee_id == user_id(session_factory, "pds-approver")
    assert countersign_states(session_factory, city.id) == [("before", "done")]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"position": "after", "opinion": "请把关"}, "no user"),
        ({"position": "beside", "to_user_id": "COLLEAGUE", "opinion": "请把关"}, "no position"),
        ({"position": "after", "to_user_id": "COLLEAGUE", "opinion": " "}, "no opinion"),
        ({"position": "after", "to_user_id": "STRANGER", "opinion": "请把关"}, "outside"),
        ({"position": "after", "to_user_id": "SELF", "opinion": "请把关"}, "self"),
    ],
)
def test_a_refused_countersign_says_why_and_changes_nothing(
    app, client, login_as, session_factory, data, why
):
    approver, city = at_city(app, client, login_as, session_factory)
    names = {"COLLEAGUE": "pds-reviewer", "STRANGER": "lushan-reviewer", "SELF": "pds-approver"}
    if data.get("to_user_id") in names:
        data = {**data, "to_user_id": user_id(session_factory, names[data["to_user_id"]])}
    response = post_from_page(approver, city.id, f"/tasks/{city.id}/countersign", data, follow_redirects=True)
    assert flashed_error(response), why
    assert countersign_states(session_factory, city.id) == []


def test_a_step_without_countersign_offers_no_form_and_refuses_a_post(client, login_as, session_factory):
    task = open_task(session_factory)  # the county step does not list countersign
    login_as("yexian-reviewer")
    claim(client, task.id)
    assert 'id="countersign"' not in text(client.get(f"/tasks/{task.id}"))
    data = {
        "position": "after",
        "to_user_id": user_id(session_factory, "yexian-approver"),
        "opinion": "请把关",
    }
    response = post_from_page(client, task.id, f"/tasks/{task.id}/countersign", data, follow_redirects=True)
    assert flashed_error(response) and countersign_states(session_factory, task.id) == []


# --- reassign and terminate (administrators) ----------------------------------------------


def test_an_admin_reassigns_from_the_page(app, client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    assert 'id="reassign"' not in text(client.get(f"/tasks/{task.id}"))
    admin = login_as("admin", into=app.test_client())
    colleague = user_id(session_factory, "yexian-approver")
    page = text(admin.get(f"/tasks/{task.id}"))
    assert 'id="reassign"' in page and f'value="{colleague}"' in page and 'id="terminate"' in page
    data = {"to_user_id": colleague, "opinion": "审核员休假"}
    response = post_from_page(admin, task.id, f"/tasks/{task.id}/reassign", data, follow_redirects=True)
    assert not flashed_error(response)
    assert task_row(session_factory, task.id).assignee_id == colleague
    told = [n.recipient for n in notices(session_factory, kind="reassign")]
    assert told == [f"u:{colleague}", f"u:{user_id(session_factory, 'yexian-reviewer')}"]


def test_a_non_admin_cannot_reassign_or_terminate_through_the_page(client, login_as, session_factory):
    task = open_task(session_factory)
    reviewer = user_id(session_factory, "yexian-reviewer")
    login_as("yexian-reviewer")
    claim(client, task.id)
    page = text(client.get(f"/tasks/{task.id}"))
    assert 'id="terminate"' not in page
    data = {"to_user_id": user_id(session_factory, "yexian-approver"), "opinion": "改派"}
    assert flashed_error(
        post_from_page(client, task.id, f"/tasks/{task.id}/reassign", data, follow_redirects=True)
    )
    data = {"opinion": "终止"}
    assert flashed_error(
        post_from_page(client, task.id, f"/tasks/{task.id}/terminate", data, follow_redirects=True)
    )
    assert task_row(session_factory, task.id).assignee_id == reviewer
    assert instance(session_factory, task.instance_id).status == "running"


def test_an_admin_terminates_from_the_page_with_a_reason(app, login_as, session_factory):
    task = open_task(session_factory)
    admin = login_as("admin", into=app.test_client())
    response = post_from_page(
        admin, task.id, f"/tasks/{task.id}/terminate", {"opinion": ""}, follow_redirects=True
    )
    assert flashed_error(response) and instance(session_factory, task.instance_id).status == "running"
    response = post_from_page(
        admin, task.id, f"/tasks/{task.id}/terminate", {"opinion": "重复申报", "confirmed": "1"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")
    assert instance(session_factory, task.instance_id).status == "terminated"
    assert audit_actions(session_factory, task.instance_id)[-1] == "terminate"


# --- urge ----------------------------------------------------------------------------------


def test_the_applicant_urges_from_the_started_list_once_a_day(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-hr")
    page = text(client.get("/tasks?view=started"))
    assert f'action="/tasks/{task.id}/urge"' in page
    data = {"back": "/tasks?view=started"}
    token = csrf_token(page)
    response = client.post(f"/tasks/{task.id}/urge", data={"csrf_token": token, **data})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks?view=started")
    page = text(client.get("/tasks?view=started"))
    assert f'action="/tasks/{task.id}/urge"' not in page and 'class="flash success"' in page
    again = client.post(f"/tasks/{task.id}/urge", data={"csrf_token": token, **data}, follow_redirects=True)
    assert flashed_error(again)
    assert audit_actions(session_factory, task.instance_id).count("urge") == 1


def test_an_admin_urges_from_the_task_page(app, login_as, session_factory):
    task = open_task(session_factory)
    admin = login_as("admin", into=app.test_client())
    assert 'id="urge"' in text(admin.get(f"/tasks/{task.id}"))
    response = post_from_page(
        admin, task.id, f"/tasks/{task.id}/urge", {"note": "请加快"}, follow_redirects=True
    )
    assert not flashed_error(response) and 'id="urge_submit"' not in text(response)
    assert [n.body for n in notices(session_factory, kind="urge")] == ["请加快"]


# --- IDOR and CSRF --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["countersign", "reassign", "terminate", "urge", "transfer", "delegate"])
def test_someone_outside_the_task_gets_404_for_every_side_action(app, login_as, session_factory, action):
    task = open_task(session_factory)
    outsider = login_as("lushan-reviewer", into=app.test_client())
    token = csrf_token(text(outsider.get("/tasks")))
    data = {"csrf_token": token, "to_user_id": user_id(session_factory, "yexian-approver"), "opinion": "x"}
    data |= {"position": "before"}
    assert outsider.post(f"/tasks/{task.id}/{action}", data=data).status_code == 404
    assert outsider.post(f"/tasks/999999/{action}", data=data).status_code == 404
    assert instance(session_factory, task.instance_id).status == "running"
    assert task_row(session_factory, task.id).assignee_id is None


@pytest.mark.parametrize("action", ["countersign", "reassign", "terminate", "urge"])
def test_a_side_action_without_the_csrf_token_is_refused(app, login_as, session_factory, action):
    task = open_task(session_factory)
    admin = login_as("admin", into=app.test_client())
    data = {"to_user_id": user_id(session_factory, "yexian-approver"), "opinion": "x", "position": "before"}
    refused = admin.post(f"/tasks/{task.id}/{action}", data=data)
    assert refused.status_code == 303  # sent back with "页面已过期，请重新提交"
    assert instance(session_factory, task.instance_id).status == "running"
    assert task_row(session_factory, task.id).assignee_id is None


# --- the API --------------------------------------------------------------------------------


def test_api_countersign_after_then_the_added_approver_completes(app, login_as, session_factory):
    task = open_task(session_factory)
    reviewer, headers = signed_in_api(login_as, "yexian-reviewer")
    reviewer.post(f"/api/inbox/tasks/{task.id}/claim", headers=headers)
    reviewer.post(f"/api/inbox/tasks/{task.id}/complete", json={"opinion": "同意"}, headers=headers)
    city = open_task(session_factory)
    approver, headers = signed_in_api(login_as, "pds-approver", into=app.test_client())
    approver.post(f"/api/inbox/tasks/{city.id}/claim", headers=headers)
    colleague = user_id(session_factory, "pds-reviewer")
    body = {"position": "after", "to_user_id": colleague, "opinion": "请把关"}
    response = approver.post(f"/api/inbox/tasks/{city.id}/countersign", json=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["ok"] is True
    again = approver.post(f"/api/inbox/tasks/{city.id}/countersign", json=body, headers=headers)
    assert again.status_code == 422 and again.get_json()["reason"] == "countersign_pending"
    assert "已有待办的加签" in again.get_json()["message"]
    approver.post(f"/api/inbox/tasks/{city.id}/complete", json={"opinion": "同意"}, headers=headers)
    added, added_headers = signed_in_api(login_as, "pds-reviewer", into=app.test_client())
    done = added.post(f"/api/inbox/tasks/{city.id}/complete", json={"opinion": "同意"}, headers=added_headers)
    assert done.status_code == 200
    assert instance(session_factory, city.instance_id).status == "completed"


def test_api_transfer_and_delegate_keep_the_pages_colleague_rule(app, login_as, session_factory):
    task = open_task(session_factory)
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    client.post(f"/api/inbox/tasks/{task.id}/claim", headers=headers)
    stranger = {"to_user_id": user_id(session_factory, "pds-approver")}
    for action in ("transfer", "delegate"):
        response = client.post(f"/api/inbox/tasks/{task.id}/{action}", json=stranger, headers=headers)
        assert response.status_code == 422 and response.get_json()["error"] == "NotAColleague"
        assert response.get_json()["message"] == "请选择本单位在职的同事。"
    colleague = user_id(session_factory, "yexian-approver")
    body = {"to_user_id": colleague, "opinion": "请协助"}
    assert client.post(f"/api/inbox/tasks/{task.id}/delegate", json=body, headers=headers).status_code == 200
    row = task_row(session_factory, task.id)
    assert (row.assignee_id, row.owner_id) == (colleague, user_id(session_factory, "yexian-reviewer"))


def test_api_reassign_and_terminate_are_for_admins(app, login_as, session_factory):
    task = open_task(session_factory)
    colleague = user_id(session_factory, "yexian-approver")
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    body = {"to_user_id": colleague, "opinion": "改派"}
    assert client.post(f"/api/inbox/tasks/{task.id}/reassign", json=body, headers=headers).status_code == 403
    assert client.post(f"/api/inbox/tasks/{task.id}/terminate", json=body, headers=headers).status_code == 403
    admin, admin_headers = signed_in_api(login_as, "admin", into=app.test_client())
    missing = admin.post(f"/api/inbox/tasks/{task.id}/reassign", json={"opinion": "x"}, headers=admin_headers)
    assert missing.status_code == 422
    assert (
        admin.post(f"/api/inbox/tasks/{task.id}/reassign", json=body, headers=admin_headers).status_code
        == 200
    )
    assert task_row(session_factory, task.id).assignee_id == colleague
    no_reason = admin.post(f"/api/inbox/tasks/{task.id}/terminate", json={}, headers=admin_headers)
    assert no_reason.status_code == 422
    ended = admin.post(
        f"/api/inbox/tasks/{task.id}/terminate", json={"opinion": "重复"}, headers=admin_headers
    )
    assert ended.status_code == 200 and instance(session_factory, task.instance_id).status == "terminated"
    assert (
        admin.post(
            f"/api/inbox/tasks/{task.id}/terminate", json={"opinion": "x"}, headers=admin_headers
        ).status_code
        == 422  # already ended
    )


def test_api_urge_once_a_day_and_404_for_others(app, login_as, session_factory):
    task = open_task(session_factory)
    client, headers = signed_in_api(login_as, "yexian-hr")
    assert (
        client.post(f"/api/inbox/tasks/{task.id}/urge", json={"note": "请尽快"}, headers=headers).status_code
        == 200
    )
    again = client.post(f"/api/inbox/tasks/{task.id}/urge", json={}, headers=headers)
    assert again.status_code == 429 and again.get_json()["error"] == "AlreadyUrgedToday"
    outsider, outsider_headers = signed_in_api(login_as, "lushan-reviewer", into=app.test_client())
    assert (
        outsider.post(f"/api/inbox/tasks/{task.id}/urge", json={}, headers=outsider_headers).status_code
        == 404
    )


@pytest.mark.parametrize("action", ["transfer", "delegate", "countersign", "reassign", "terminate", "urge"])
def test_api_other_countys_task_is_404_for_every_new_action(app, login_as, session_factory, action):
    task = open_task(session_factory, YEXIAN_SUBJECT)
    client, headers = signed_in_api(login_as, "lushan-reviewer")
    body = {"to_user_id": user_id(session_factory, "lushan-reviewer"), "opinion": "x", "position": "before"}
    assert client.post(f"/api/inbox/tasks/{task.id}/{action}", json=body, headers=headers).status_code == 404


def test_openapi_lists_the_new_actions(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/inbox/tasks/{task_id}/{action}"]["post"]
    action = next(p for p in operation["parameters"] if p["name"] == "action")
    assert {"transfer", "delegate", "countersign", "reassign", "terminate", "urge"} <= set(
        action["schema"]["enum"]
    )
    body = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"opinion", "to_user_id", "position", "note"} <= set(body)
    assert "429" in operation["responses"]
