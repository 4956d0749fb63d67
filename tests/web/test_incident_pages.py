"""The incident page (异常事件): administrators list failed steps, retry them, or end the process."""

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.accounts.users import User
from domain.accounts.users import actor_for
from engine.errors import StepFailed
from engine.runtime.definitions import deploy
from engine.runtime.models import Incident
from engine.runtime.models import ProcessInstance
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from tests.engine_helpers import only_open_task
from tests.test_incidents import RECORDS_AFTER_REVIEW
from tests.test_incidents import archive_broken
from tests.test_incidents import archive_fixed
from tests.web.conftest import csrf_token
from tests.web.test_auth import text


@pytest.fixture
def failed(app, session_factory):
    """An instance of the web app whose archiving step failed after the county review."""
    rt = app.extensions["ceflow.runtime"]
    rt.operations["archive_application"] = archive_broken
    deploy(rt, RECORDS_AFTER_REVIEW, "records_after_review.bpmn", "test")
    with session_factory() as session:
        reviewer_id = session.scalar(select(User.id).where(User.username == "yexian-reviewer"))
        reviewer = actor_for(session, reviewer_id)
    iid = start_instance(rt, "records_after_review", reviewer, {"subject": "归档测试"})
    with pytest.raises(StepFailed):
        complete_task(rt, reviewer, only_open_task(session_factory, iid).id, {}, "同意")
    return iid


def incident_rows(session_factory, iid):
    with session_factory() as session:
        return session.execute(
            select(Incident.state, Incident.tries).where(Incident.instance_id == iid)
        ).all()


def status_of(session_factory, iid) -> str:
    with session_factory() as session:
        return session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == iid))


def test_an_administrator_retries_a_fixed_step_from_the_page(app, login_as, session_factory, failed):
    client = login_as("admin")
    page = client.get("/incidents")
    assert page.status_code == 200 and f'value="{failed}"' in text(page)
    assert 'href="/incidents"' in text(client.get("/", follow_redirects=True))  # the menu entry
    app.extensions["ceflow.runtime"].operations["archive_application"] = archive_fixed
    answer = client.post(
        "/incidents/retry", data={"csrf_token": csrf_token(text(page)), "instance_id": [failed]}
    )
    assert answer.status_code == 302
    assert status_of(session_factory, failed) == "completed"
    assert incident_rows(session_factory, failed) == [("resolved", 2)]


def test_an_administrator_ends_the_process_from_the_page(login_as, session_factory, failed):
    client = login_as("admin")
    token = csrf_token(text(client.get("/incidents")))
    client.post(f"/incidents/{failed}/end", data={"csrf_token": token, "reason": ""})
    assert status_of(session_factory, failed) == "running"  # no reason, no ending
    client.post(f"/incidents/{failed}/end", data={"csrf_token": token, "reason": "人工归档"})
    assert status_of(session_factory, failed) == "terminated"
    assert incident_rows(session_factory, failed) == [("resolved", 1)]


def test_anyone_but_an_administrator_finds_no_incident_page(app, login_as, session_factory, failed):
    client = login_as("yexian-reviewer", into=FlaskClient(app, use_cookies=True))
    home = client.get("/", follow_redirects=True)
    token = csrf_token(text(home))
    assert client.get("/incidents").status_code == 404
    assert (
        client.post("/incidents/retry", data={"csrf_token": token, "instance_id": [failed]}).status_code
        == 404
    )
    assert (
        client.post(f"/incidents/{failed}/end", data={"csrf_token": token, "reason": "x"}).status_code == 404
    )
    assert 'href="/incidents"' not in text(home)
    assert incident_rows(session_factory, failed) == [("open", 1)]
