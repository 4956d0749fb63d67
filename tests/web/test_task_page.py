"""The task page: diagram data, attachments, return to a chosen step, transfer, delegate, due dates."""

import io
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select
from sqlalchemy import update

from domain.accounts.users import User
from domain.attachments import Attachment
from engine.runtime.definitions import deploy
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from tests.web.conftest import csrf_token

YEXIAN_SUBJECT = "叶县人民医院2025年度继续教育学时认定"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


def text(response) -> str:
    return response.get_data(as_text=True)


def open_task(session_factory, subject: str = YEXIAN_SUBJECT) -> HumanTask:
    with session_factory() as session:
        return session.execute(
            select(HumanTask).where(HumanTask.subject == subject, HumanTask.state == "open")
        ).scalar_one()


def task_row(session_factory, task_id: int) -> HumanTask:
    with session_factory() as session:
        return session.get(HumanTask, task_id)


def user_id(session_factory, username: str) -> int:
    with session_factory() as session:
        return session.scalar(select(User.id).where(User.username == username))


def post_from_page(client, task_id: int, path: str, data: dict, **options):
    """Open the task page, then post to one of its forms with the page's CSRF token."""
    token = csrf_token(text(client.get(f"/tasks/{task_id}")))
    return client.post(path, data={"csrf_token": token, **data}, **options)


def claim(client, task_id: int) -> None:
    response = post_from_page(client, task_id, f"/tasks/{task_id}/claim", {})
    assert response.status_code == 302


def approve(client, task_id: int, opinion: str = "同意"):
    data = {"opinion": opinion, "action": "approve"}
    return post_from_page(client, task_id, f"/tasks/{task_id}/complete", data, follow_redirects=True)


def upload(client, task_id: int, name: str, data: bytes):
    return post_from_page(
        client,
        task_id,
        f"/tasks/{task_id}/attachments",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def stored_attachments(session_factory) -> list[Attachment]:
    with session_factory() as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


# --- the diagram -------------------------------------------------------------------------


def test_diagram_json_gives_the_instance_version_with_done_and_current_steps(
    client, login_as, session_factory
):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    body = client.get(f"/instances/{task.instance_id}/diagram.json").get_json()
    assert 'id="county_review"' in body["xml"]
    assert body["current"] == ["county_review"]
    assert {"start", "submit"} <= set(body["completed"])
    assert not {"county_review", "city_approval", "notify", "remind_county"} & set(body["completed"])

    claim(client, task.id)
    approve(client, task.id)
    login_as("pds-approver")
    body = client.get(f"/instances/{task.instance_id}/diagram.json").get_json()
    assert body["current"] == ["city_approval"]
    assert {"start", "submit", "county_review"} <= set(body["completed"])


def test_diagram_json_stays_on_the_version_the_instance_started_on(app, client, login_as, session_factory):
    task = open_task(session_factory)
    with session_factory() as session:
        first = session.scalar(
            select(ProcessDefinition.bpmn_xml)
            .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.id == task.instance_id)
        )
    second = first.replace(
        'id="county_review" name="县级人社局审核"', 'id="county_review" name="初审（第二版）"'
    )
    deploy(app.extensions["ceflow.runtime"], second.encode("utf-8"), "demo_approval.bpmn", "test")
    login_as("yexian-reviewer")
    body = client.get(f"/instances/{task.instance_id}/diagram.json").get_json()
    assert body["xml"] == first and "第二版" not in body["xml"]


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("yexian-reviewer", 200),  # a candidate of the open task
        ("yexian-hr", 200),  # the applicant who started it
        ("admin", 200),
        ("lushan-reviewer", 404),  # another county
        ("pds-approver", 404),  # not (yet) involved
    ],
)
def test_diagram_json_is_only_for_those_who_may_see_the_task(
    client, login_as, session_factory, username, status
):
    task = open_task(session_factory)
    login_as(username)
    assert client.get(f"/instances/{task.instance_id}/diagram.json").status_code == status


def test_diagram_json_of_an_unknown_instance_is_404(client, login_as):
    login_as("admin")
    assert client.get("/instances/999999/diagram.json").status_code == 404


def test_the_task_page_links_its_diagram_and_serves_bpmn_js_locally(client, login_as, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    page = text(client.get(f"/tasks/{task.id}"))
    assert f'data-src="/instances/{task.instance_id}/diagram.json"' in page
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == ["/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js", "/static/diagram.js"]
    for script in scripts:
        assert client.get(script).status_code == 200


# --- attachments -------------------------------------------------------------------------


def test_the_holder_uploads_and_those_who_see_the_task_download(
    app, client, login_as, session_factory, files
):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    page = text(upload(client, task.id, "../../继续教育证明.pdf", PDF))
    assert "继续教育证明.pdf" in page and 'class="flash error"' not in page
    [record] = stored_attachments(session_factory)
    assert record.filename == "继续教育证明.pdf" and record.instance_id == task.instance_id
    assert files() == [record.stored_name]  # in the database, where every web node reads it

    download = client.get(f"/attachments/{record.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('继续教育证明.pdf')}" in disposition
    applicant = login_as("yexian-hr", into=app.test_client())
    assert applicant.get(f"/attachments/{record.id}").data == PDF


@pytest.mark.parametrize("outsider", ["lushan-reviewer", "pds-approver", "yexian-approver"])
def test_someone_who_may_not_see_the_task_gets_404_for_its_attachment(
    app, client, login_as, session_factory, files, outsider
):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    upload(client, task.id, "a.pdf", PDF)
    [record] = stored_attachments(session_factory)
    stranger = login_as(outsider, into=app.test_client())
    assert stranger.get(f"/attachments/{record.id}").status_code == 404
    assert stranger.get("/attachments/999999").status_code == 404


def test_only_the_holder_of_the_open_task_may_upload(app, client, login_as, session_factory, files):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    assert upload(client, task.id, "a.pdf", PDF).status_code == 403  # visible in the queue, not claimed
    page = text(client.get(f"/tasks/{task.id}"))
    assert 'name="file"' not in page
    outsider = login_as("lushan-reviewer", into=app.test_client())
    token = csrf_token(text(outsider.get("/tasks")))
    data = {"csrf_token": token, "file": (io.BytesIO(PDF), "a.pdf")}
    assert outsider.post(f"/tasks/{task.id}/attachments", data=data).status_code == 404

    claim(client, task.id)
    approve(client, task.id)
    assert upload(client, task.id, "late.pdf", PDF).status_code == 403  # the task is closed
    assert stored_attachments(session_factory) == []
    assert files() == []


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        ("run.exe", b"MZ\x90", "run.exe 的文件类型不允许；允许的类型为 pdf"),
        ("fake.pdf", b"MZ\x90 renamed", "fake.pdf 并非真正的 PDF 文件：内容与文件名不符。"),
        ("empty.pdf", b"", "文件 empty.pdf 为空。"),
        ("big.pdf", PDF + b"0" * 2048, "文件 big.pdf 超过 0.000976562 MB。"),
    ],
)
def test_a_refused_upload_says_why_in_chinese_and_stores_nothing(
    app, client, login_as, session_factory, files, name, data, shown
):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    page = text(upload(client, task.id, name, data))
    error = re.search(r'<p class="flash error" role="alert">([^<]*)</p>', page)
    assert error and shown in error.group(1)
    assert stored_attachments(session_factory) == []


def test_a_request_over_the_whole_request_ceiling_is_explained_on_the_task_page(
    app, client, login_as, session_factory, files
):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    response = upload(client, task.id, "huge.pdf", PDF + b"0" * 8192)
    assert response.status_code == 200 and 'class="flash error"' in text(response)
    assert stored_attachments(session_factory) == []


# --- return, transfer, delegate -----------------------------------------------------------


def at_city(app, client, login_as, session_factory):
    """Approve the Yexian application at the county; return the city approver's client and claimed task."""
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    approve(client, task.id)
    city = open_task(session_factory)
    approver = login_as("pds-approver", into=app.test_client())
    claim(approver, city.id)
    return approver, city


def test_the_return_select_lists_the_earlier_steps_with_the_applicants_first(
    app, client, login_as, session_factory
):
    approver, city = at_city(app, client, login_as, session_factory)
    page = text(approver.get(f"/tasks/{city.id}"))
    select_html = re.search(r'<select name="to_step".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]*)<', select_html)
    assert options == [("submit", " selected", "提交申请"), ("county_review", "", "县级人社局审核")]
    assert f'formaction="/tasks/{city.id}/return"' in page


def test_return_to_a_chosen_step_through_the_page(app, client, login_as, session_factory):
    approver, city = at_city(app, client, login_as, session_factory)
    data = {"to_step": "county_review", "opinion": "请县级复核学时", "action": "return"}
    response = post_from_page(approver, city.id, f"/tasks/{city.id}/return", data)
    assert response.status_code == 302
    reopened = open_task(session_factory)
    assert reopened.spec_name == "county_review" and reopened.instance_id == city.instance_id
    with session_factory() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.instance_id == city.instance_id, AuditEvent.action == "return"
            )
        ).one()
    assert event.details["to_step"] == "county_review" and event.opinion == "请县级复核学时"
    page = text(client.get(f"/tasks/{reopened.id}"))
    assert "请县级复核学时" in page


def test_return_without_an_opinion_is_refused_and_changes_nothing(app, client, login_as, session_factory):
    approver, city = at_city(app, client, login_as, session_factory)
    data = {"to_step": "submit", "opinion": "  "}
    response = post_from_page(approver, city.id, f"/tasks/{city.id}/return", data, follow_redirects=True)
    assert 'class="flash error"' in text(response) and "审批意见" in text(response)
    assert task_row(session_factory, city.id).state == "open"


def test_transfer_through_the_page_hands_the_task_to_a_colleague(app, client, login_as, session_factory):
    task = open_task(session_factory)
    colleague = user_id(session_factory, "yexian-approver")
    login_as("yexian-reviewer")
    claim(client, task.id)
    page = text(client.get(f"/tasks/{task.id}"))
    picker = re.search(r'<select name="to_user_id".*?</select>', page, re.S).group(0)
    assert f'value="{colleague}"' in picker
    assert f'value="{user_id(session_factory, "lushan-reviewer")}"' not in picker

    response = post_from_page(client, task.id, f"/tasks/{task.id}/transfer", {"to_user_id": colleague})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")
    row = task_row(session_factory, task.id)
    assert row.assignee_id == colleague and row.owner_id is None
    taker = login_as("yexian-approver", into=app.test_client())
    assert f'action="/tasks/{task.id}/complete"' in text(taker.get(f"/tasks/{task.id}"))


@pytest.mark.parametrize("action", ["transfer", "delegate"])
def test_handing_over_outside_ones_organisation_is_refused(client, login_as, session_factory, action):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    claim(client, task.id)
    stranger = user_id(session_factory, "pds-approver")
    data = {"to_user_id": stranger}
    response = post_from_page(client, task.id, f"/tasks/{task.id}/{action}", data, follow_redirects=True)
    assert 'class="flash error"' in text(response) and "请选择本单位在职的同事。" in text(response)
    row = task_row(session_factory, task.id)
    assert row.assignee_id == user_id(session_factory, "yexian-reviewer") and row.owner_id is None


def test_delegate_through_the_page_and_the_task_comes_back(app, client, login_as, session_factory):
    task = open_task(session_factory)
    reviewer, colleague = (user_id(session_factory, n) for n in ("yexian-reviewer", "yexian-approver"))
    login_as("yexian-reviewer")
    claim(client, task.id)
    data = {"to_user_id": colleague, "opinion": "请协助核对学时"}
    response = post_from_page(client, task.id, f"/tasks/{task.id}/delegate", data, follow_redirects=True)
    assert 'id="delegation"' in text(response) and "审核员" not in _delegation(text(response))
    assert "人社局审批人" in _delegation(text(response))
    row = task_row(session_factory, task.id)
    assert (row.assignee_id, row.owner_id) == (colleague, reviewer)

    delegate = login_as("yexian-approver", into=app.test_client())
    page = text(delegate.get(f"/tasks/{task.id}"))
    assert "人社局审核员" in _delegation(page) and 'name="to_user_id"' not in page
    assert 'value="return"' not in page and 'value="reject"' not in page
    approve(delegate, task.id, "学时核对无误")
    row = task_row(session_factory, task.id)
    assert (row.state, row.assignee_id, row.owner_id) == ("open", reviewer, None)

    page = text(approve(client, task.id, "同意"))
    assert 'class="flash error"' not in page
    assert open_task(session_factory).spec_name == "city_approval"


def _delegation(page: str) -> str:
    found = re.search(r'<p class="flash info delegation" id="delegation">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    ("due_in", "css"),
    [(timedelta(hours=-1), "due overdue"), (timedelta(hours=24), "due soon"), (timedelta(days=5), "due ")],
)
def test_the_due_date_is_red_when_overdue_and_amber_within_48_hours(
    client, login_as, session_factory, due_in, css
):
    task = open_task(session_factory)
    with session_factory() as session, session.begin():
        due = datetime.now(UTC) + due_in
        session.execute(update(HumanTask).where(HumanTask.id == task.id).values(due_at=due, due_sort=due))
    login_as("yexian-reviewer")
    page = text(client.get(f"/tasks/{task.id}"))
    assert f'<span class="{css}" id="due">' in page


def test_diagram_json_of_a_finished_process_marks_the_path_it_took(app, client, login_as, session_factory):
    approver, city = at_city(app, client, login_as, session_factory)
    approve(approver, city.id)
    body = client.get(f"/instances/{city.instance_id}/diagram.json").get_json()
    assert body["current"] == []
    assert {"start", "submit", "county_review", "city_approval", "notify", "approved"} <= set(
        body["completed"]
    )
    assert not {"remind_timer", "remind_county", "reminded", "escalated"} & set(body["completed"])


def test_diagram_json_marks_a_fired_reminder_and_the_steps_after_it(client, login_as, session_factory):
    task = open_task(session_factory)
    with session_factory() as session, session.begin():
        session.add(
            AuditEvent(
                instance_id=task.instance_id,
                action="timer_fired",
                actor_name="system",
                details={"timer": "remind_timer"},
                created_at=datetime.now(UTC),
            )
        )
    login_as("yexian-reviewer")
    body = client.get(f"/instances/{task.instance_id}/diagram.json").get_json()
    assert {"remind_timer", "remind_county", "reminded"} <= set(body["completed"])
    assert not {"escalate_timer", "escalate_county", "escalated", "approved"} & set(body["completed"])


def test_an_escalated_task_shows_where_it_went(app, client, login_as, session_factory):
    from engine.timers.sweep import sweep_timers

    task = open_task(session_factory)
    runtime = app.extensions["ceflow.runtime"]
    runtime.clock = lambda: datetime.now(UTC) + timedelta(days=30)  # past the 5-working-day deadline
    sweep_timers(runtime)
    escalated = task_row(session_factory, task.id)
    assert escalated.escalation_level == 1 and escalated.candidates == "g:hrss:410400:reviewer"
    login_as("pds-reviewer")
    page = text(client.get(f"/tasks/{task.id}"))
    banner = re.search(r'<p class="flash warning escalated" id="escalated">(.*?)</p>', page, re.S)
    assert banner and "平顶山市人力资源和社会保障局" in banner.group(1)
    assert "升级" in banner.group(1)


def test_the_task_page_shows_the_application_labelled_before_anyone_claims_it(
    client, login_as, session_factory
):
    task = open_task(session_factory, subject="单位注册：叶县第二高级中学")
    login_as("yexian-reviewer")
    page = text(client.get(f"/tasks/{task.id}"))
    section = re.search(r'<section class="card" id="application">(.*?)</section>', page, re.S)
    assert section, "the application is not on the page"
    fields = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section.group(1)))
    assert fields["单位名称"] == "叶县第二高级中学"
    assert fields["地区"] == "叶县（410422）"
    assert fields["类型"] in {"法人单位", "用人单位", "行业主管部门", "施教机构"}
    assert "organisation_id" not in section.group(1)
