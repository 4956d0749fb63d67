"""Who may view a task page, its diagram, history and files (readers get no forms); 抄送 by page and API."""

import io
import re

import pytest
from sqlalchemy import select

from engine.runtime.models import AuditEvent
from engine.runtime.models import TaskCc
from tests.web.conftest import csrf_token
from tests.web.test_inbox_api import signed_in_api
from tests.web.test_task_page import PDF
from tests.web.test_task_page import approve
from tests.web.test_task_page import claim
from tests.web.test_task_page import open_task
from tests.web.test_task_page import post_from_page
from tests.web.test_task_page import stored_attachments
from tests.web.test_task_page import task_row
from tests.web.test_task_page import text
from tests.web.test_task_page import upload
from tests.web.test_task_page import user_id

ACTION_FORMS = re.compile(
    r'<form[^>]*action="/tasks/\d+/(complete|claim|unclaim|return|transfer|delegate|cc|attachments)"'
)


@pytest.fixture
def copied(client, login_as, session_factory, files):
    """The county reviewer claims the Yexian application, attaches a file and copies it to a colleague."""
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    upload(client, task.id, "证明.pdf", PDF)
    colleague = user_id(session_factory, "yexian-approver")
    data = {"to_user_ids": [str(colleague)], "note": "请知悉"}
    response = post_from_page(client, task.id, f"/tasks/{task.id}/cc", data, follow_redirects=True)
    assert 'class="flash success"' in text(response), text(response)
    return task


def cc_badge(browser) -> int:
    return browser.get("/api/inbox/counts").get_json()["counts"]["cc"]


# --- copying through the page ------------------------------------------------------------


def test_the_holder_copies_the_task_from_its_page(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    page = text(client.get(f"/tasks/{task.id}"))
    picker = re.search(r'<fieldset class="choices" id="cc_user_ids">.*?</fieldset>', page, re.S).group(0)
    colleague = user_id(session_factory, "yexian-approver")
    assert f'type="checkbox" name="to_user_ids" value="{colleague}"' in picker
    data = {"to_user_ids": [str(colleague)], "note": "请知悉"}
    response = post_from_page(client, task.id, f"/tasks/{task.id}/cc", data, follow_redirects=True)
    assert 'class="flash success"' in text(response)
    with session_factory() as s:
        assert s.scalars(select(TaskCc.principal).where(TaskCc.human_task_id == task.id)).all() == [
            f"u:{colleague}"
        ]
    again = post_from_page(client, task.id, f"/tasks/{task.id}/cc", data, follow_redirects=True)
    assert 'class="flash success"' in text(again)  # says the colleague had a copy already
    assert "→" in text(again) and "请知悉" in text(again)  # the history names the recipient and the note


def test_copying_to_nobody_is_refused_on_the_page(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    response = post_from_page(client, task.id, f"/tasks/{task.id}/cc", {"note": "x"}, follow_redirects=True)
    assert 'class="flash error"' in text(response)


# --- readers: a copy's, the initiator, an earlier handler -----------------------------------


def test_a_copys_reader_sees_the_task_read_only_and_opening_it_reads_the_copy(
    app, login_as, session_factory, copied
):
    reader = login_as("yexian-approver", into=app.test_client())
    assert cc_badge(reader) == 1
    listed = text(reader.get("/tasks?view=cc"))
    assert f'href="/tasks/{copied.id}"' in listed and 'class="unread"' in listed
    page = text(reader.get(f"/tasks/{copied.id}"))
    assert 'id="read-only"' in page and ACTION_FORMS.search(page) is None
    assert "证明.pdf" in page and "请知悉" in page
    assert cc_badge(reader) == 0
    assert 'class="unread"' not in text(reader.get("/tasks?view=cc"))
    assert reader.get(f"/instances/{copied.instance_id}/diagram.json").status_code == 200
    [record] = stored_attachments(session_factory)
    assert reader.get(f"/attachments/{record.id}").data == PDF


def test_a_copys_reader_is_refused_every_action(app, login_as, session_factory, copied):
    reader = login_as("yexian-approver", into=app.test_client())
    holder = user_id(session_factory, "yexian-reviewer")
    for path, data in (
        (f"/tasks/{copied.id}/complete", {"opinion": "我来批", "action": "approve"}),
        (f"/tasks/{copied.id}/claim", {}),
        (f"/tasks/{copied.id}/cc", {"to_user_ids": [str(holder)]}),
    ):
        response = post_from_page(reader, copied.id, path, data, follow_redirects=True)
        assert response.status_code == 200 and 'class="flash error"' in text(response), path
    token = csrf_token(text(reader.get(f"/tasks/{copied.id}")))
    sent = {"csrf_token": token, "file": (io.BytesIO(PDF), "b.pdf")}
    assert reader.post(f"/tasks/{copied.id}/attachments", data=sent).status_code == 403
    api, headers = signed_in_api(login_as, "yexian-approver", into=app.test_client())
    refused = api.post(f"/api/inbox/tasks/{copied.id}/complete", json={"opinion": "越权"}, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["error"] == "NotAllowed"
    row = task_row(session_factory, copied.id)
    assert (row.state, row.assignee_id) == ("open", holder)


def test_the_initiator_and_an_earlier_handler_see_the_task_read_only(
    app, client, login_as, session_factory, files
):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    approve(client, task.id)
    city = open_task(session_factory)
    for username in ("yexian-hr", "yexian-reviewer"):
        browser = login_as(username, into=app.test_client())
        page = text(browser.get(f"/tasks/{city.id}"))
        assert 'id="read-only"' in page and ACTION_FORMS.search(page) is None, username
        assert browser.get(f"/instances/{city.instance_id}/diagram.json").status_code == 200
        assert "县级人社局审核" in page  # the history
    approver = login_as("pds-approver", into=app.test_client())
    page = text(approver.get(f"/tasks/{city.id}"))
    assert 'id="read-only"' not in page and f'action="/tasks/{city.id}/claim"' in page


# --- strangers: 404 everywhere -----------------------------------------------------------------


@pytest.mark.parametrize("stranger", ["lushan-reviewer", "pds-approver", "yexian-approver"])
def test_a_stranger_gets_404_for_the_task_its_diagram_its_files_and_the_api(
    app, login_as, session_factory, files, stranger
):
    task = open_task(session_factory)
    holder = login_as("yexian-reviewer", into=app.test_client())
    claim(holder, task.id)
    upload(holder, task.id, "a.pdf", PDF)
    [record] = stored_attachments(session_factory)
    browser, headers = signed_in_api(login_as, stranger, into=app.test_client())
    assert browser.get(f"/tasks/{task.id}").status_code == 404
    assert browser.get(f"/instances/{task.instance_id}/diagram.json").status_code == 404
    assert browser.get(f"/attachments/{record.id}").status_code == 404
    assert browser.get(f"/api/inbox/tasks/{task.id}").status_code == 404
    token = csrf_token(text(browser.get("/tasks")))
    assert (
        browser.post(f"/tasks/{task.id}/cc", data={"csrf_token": token, "to_user_ids": "1"}).status_code
        == 404
    )
    copy = browser.post(f"/api/inbox/tasks/{task.id}/cc", json={"user_ids": [1]}, headers=headers)
    assert copy.status_code == 404 and copy.get_json()["error"] == "TaskNotFound"


# --- the API --------------------------------------------------------------------------------


def test_api_copies_a_task_once_per_reader_and_checks_the_recipients(app, login_as, session_factory):
    task = open_task(session_factory)
    api, headers = signed_in_api(login_as, "yexian-reviewer", into=app.test_client())
    colleague, me = (user_id(session_factory, n) for n in ("yexian-approver", "yexian-reviewer"))
    url = f"/api/inbox/tasks/{task.id}/cc"
    first = api.post(url, json={"user_ids": [colleague], "note": "请知悉"}, headers=headers)
    assert first.status_code == 200
    assert first.get_json() == {
        "task_id": task.id,
        "copied": [{"id": colleague, "name": "叶县人社局审批人"}],
        "already": [],
    }
    again = api.post(url, json={"user_ids": [colleague]}, headers=headers).get_json()
    assert again["copied"] == [] and [r["id"] for r in again["already"]] == [colleague]
    for body in ({"user_ids": []}, {"user_ids": [me]}, {"user_ids": [999999]}, {"user_ids": "x"}, {}):
        refused = api.post(url, json=body, headers=headers)
        assert refused.status_code == 422 and refused.get_json()["error"] == "InvalidCommand", body
    assert api.post(url, json={"user_ids": [colleague]}).status_code == 400  # no CSRF header
    with session_factory() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "cc")).all()
    assert [e.details["to_user_ids"] for e in events] == [[colleague]]


def test_openapi_describes_the_copy_route(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/inbox/tasks/{task_id}/cc"]["post"]
    assert set(operation["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {
        "user_ids",
        "note",
    }
