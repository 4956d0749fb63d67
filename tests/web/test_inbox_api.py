"""The inbox JSON API: same lists and rules as the pages, JSON errors, CSRF by header, an OpenAPI file."""

import re

from sqlalchemy import select

from engine.runtime.models import HumanTask

YEXIAN_SUBJECT = "叶县人民医院2025年度继续教育学时认定"
LUSHAN_SUBJECT = "鲁山县第一中学2025年度继续教育学时认定"
ORG_SUBJECT = "单位注册：叶县第二高级中学"


def open_task(session_factory, subject: str) -> HumanTask:
    with session_factory() as session:
        return session.execute(
            select(HumanTask).where(HumanTask.subject == subject, HumanTask.state == "open")
        ).scalar_one()


def signed_in_api(login_as, username: str, into=None):
    """Sign in and return (client, headers carrying the CSRF token)."""
    client = login_as(username, into=into)
    token = client.get("/api/inbox/csrf").get_json()["csrf_token"]
    return client, {"X-CSRFToken": token}


def test_api_answers_401_json_when_not_signed_in(client):
    for response in (
        client.get("/api/inbox/tasks"),
        client.get("/api/inbox/counts"),
        client.post("/api/inbox/bulk"),
    ):
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized" and response.get_json()["message"]


def test_api_lists_the_same_views_with_filters_and_cursor(login_as, session_factory):
    client, _ = signed_in_api(login_as, "yexian-reviewer")
    body = client.get("/api/inbox/tasks?view=queue").get_json()
    assert {item["subject"] for item in body["items"]} == {YEXIAN_SUBJECT, ORG_SUBJECT}
    assert body["next_cursor"] is None and body["view"] == "queue"
    first = client.get("/api/inbox/tasks?view=queue&limit=1").get_json()
    second = client.get(f"/api/inbox/tasks?view=queue&limit=1&cursor={first['next_cursor']}").get_json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [i["id"] for i in body["items"]]
    assert second["next_cursor"] is None
    demo = client.get("/api/inbox/tasks?view=queue&process=demo_approval").get_json()
    assert [item["subject"] for item in demo["items"]] == [YEXIAN_SUBJECT]


def test_api_refuses_malformed_parameters_with_a_json_400(login_as):
    client, _ = signed_in_api(login_as, "yexian-reviewer")
    for url in ("/api/inbox/tasks?view=all", "/api/inbox/tasks?limit=0", "/api/inbox/tasks?cursor=due_x_1"):
        response = client.get(url)
        assert response.status_code == 400 and response.get_json()["message"], url


def test_api_counts_every_list(login_as):
    client, _ = signed_in_api(login_as, "yexian-reviewer")
    body = client.get("/api/inbox/counts").get_json()
    assert body == {"counts": {"mine": 0, "queued": 2, "done": 0, "started": 0, "cc": 0}, "cap": 999}


def test_api_post_without_the_csrf_header_is_refused(login_as, session_factory):
    task = open_task(session_factory, YEXIAN_SUBJECT)
    client, _ = signed_in_api(login_as, "yexian-reviewer")
    response = client.post(f"/api/inbox/tasks/{task.id}/claim")
    assert response.status_code == 400 and response.get_json()["error"] == "csrf"
    forged = client.post(f"/api/inbox/tasks/{task.id}/claim", headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400 and forged.get_json()["error"] == "csrf"
    assert client.delete("/api/inbox/filters/1").get_json()["error"] == "csrf"
    assert open_task(session_factory, YEXIAN_SUBJECT).assignee_id is None


def test_api_claim_complete_and_a_second_complete_is_409_already_handled(login_as, session_factory):
    task = open_task(session_factory, YEXIAN_SUBJECT)
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    assert client.post(f"/api/inbox/tasks/{task.id}/claim", headers=headers).get_json()["ok"] is True
    mine = client.get("/api/inbox/tasks?view=mine").get_json()["items"]
    assert [item["id"] for item in mine] == [task.id]
    done = client.post(f"/api/inbox/tasks/{task.id}/complete", json={"opinion": "同意"}, headers=headers)
    assert done.status_code == 200
    again = client.post(f"/api/inbox/tasks/{task.id}/complete", json={"opinion": "同意"}, headers=headers)
    assert again.status_code == 409
    assert re.search(r"该事项已由叶县人社局审核员(于.+)?办理", again.get_json()["message"])


def test_api_return_without_opinion_is_422_with_the_reason(login_as, session_factory):
    task = open_task(session_factory, YEXIAN_SUBJECT)
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    response = client.post(f"/api/inbox/tasks/{task.id}/return", json={}, headers=headers)
    assert response.status_code == 422 and response.get_json()["reason"] == "opinion_required"
    assert response.get_json()["message"] == "退回前请填写审批意见。"


def test_api_complete_checks_the_steps_form(app, login_as, session_factory):
    task = open_task(session_factory, YEXIAN_SUBJECT)
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    client.post(f"/api/inbox/tasks/{task.id}/return", json={"opinion": "请补充"}, headers=headers)
    resubmit = open_task(session_factory, YEXIAN_SUBJECT)
    hr, hr_headers = signed_in_api(login_as, "yexian-hr", into=app.test_client())
    bad = hr.post(
        f"/api/inbox/tasks/{resubmit.id}/complete", json={"data": {"subject": ""}}, headers=hr_headers
    )
    assert bad.status_code == 422 and "subject" in bad.get_json()["message"]
    good = {"data": {"subject": YEXIAN_SUBJECT, "description": "已补充"}}
    assert (
        hr.post(f"/api/inbox/tasks/{resubmit.id}/complete", json=good, headers=hr_headers).status_code == 200
    )
    assert open_task(session_factory, YEXIAN_SUBJECT).spec_name == "county_review"


def test_api_other_countys_task_is_404_for_reading_and_every_action(login_as, session_factory):
    lushan = open_task(session_factory, LUSHAN_SUBJECT)
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    assert client.get(f"/api/inbox/tasks/{lushan.id}").status_code == 404
    for action in ("claim", "unclaim", "complete", "return", "reject"):
        response = client.post(
            f"/api/inbox/tasks/{lushan.id}/{action}", json={"opinion": "越权"}, headers=headers
        )
        assert response.status_code == 404, action
        assert response.get_json()["error"] == "TaskNotFound"
    assert open_task(session_factory, LUSHAN_SUBJECT).id == lushan.id


def test_api_task_detail_of_a_visible_task(login_as, session_factory):
    task = open_task(session_factory, YEXIAN_SUBJECT)
    client, _ = signed_in_api(login_as, "yexian-reviewer")
    body = client.get(f"/api/inbox/tasks/{task.id}").get_json()
    assert body["item"]["id"] == task.id and body["state"] == "open" and "return" in body["allowed_actions"]


def test_api_bulk_approve_reports_each_task_and_one_failure_spares_the_others(login_as, session_factory):
    yexian, org = open_task(session_factory, YEXIAN_SUBJECT), open_task(session_factory, ORG_SUBJECT)
    lushan = open_task(session_factory, LUSHAN_SUBJECT)
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    body = {"action": "approve", "task_ids": [yexian.id, lushan.id, org.id], "opinion": "同意"}
    response = client.post("/api/inbox/bulk", json=body, headers=headers).get_json()
    assert response["succeeded"] == 2 and response["failed"] == 1
    assert [(r["task_id"], r["ok"]) for r in response["results"]] == [
        (yexian.id, True),
        (lushan.id, False),
        (org.id, True),
    ]
    again = client.post("/api/inbox/bulk", json=body, headers=headers).get_json()
    assert again["succeeded"] == 0
    assert all("已由叶县人社局审核员" in r["message"] for r in again["results"] if r["task_id"] != lushan.id)


def test_api_bulk_refuses_a_malformed_request(login_as):
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    for body in (
        {"action": "reject", "task_ids": [1]},
        {"action": "approve", "task_ids": []},
        {"action": "approve"},
    ):
        assert client.post("/api/inbox/bulk", json=body, headers=headers).status_code == 400
    assert (
        client.post(
            "/api/inbox/bulk", json={"action": "approve", "task_ids": ["1"]}, headers=headers
        ).status_code
        == 400
    )


def test_api_saved_filters_are_per_user(app, login_as):
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    made = client.post(
        "/api/inbox/filters", json={"name": "逾期", "query": {"view": "queue", "overdue": 1}}, headers=headers
    )
    assert made.status_code == 201
    saved = made.get_json()
    assert saved["query"] == {"view": "queue", "overdue": "1"} and saved["view"] == "queue"
    assert [f["name"] for f in client.get("/api/inbox/filters").get_json()["filters"]] == ["逾期"]
    other, other_headers = signed_in_api(login_as, "lushan-reviewer", into=app.test_client())
    assert other.get("/api/inbox/filters").get_json()["filters"] == []
    assert other.get(f"/api/inbox/filters/{saved['id']}").status_code == 404
    assert other.delete(f"/api/inbox/filters/{saved['id']}", headers=other_headers).status_code == 404
    assert client.delete(f"/api/inbox/filters/{saved['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/inbox/filters/{saved['id']}").status_code == 404
    bad = client.post("/api/inbox/filters", json={"name": "x", "query": {"view": "nope"}}, headers=headers)
    assert bad.status_code == 400


def test_openapi_describes_every_api_route(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(method, path) for path, operations in spec["paths"].items() for method in operations}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
