"""No input makes a 500: every route of the URL map, walked with hostile ids, parameters and bodies."""

import logging
import re
import time
from urllib.parse import quote

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from domain.organisations.records import Organisation
from domain.registration.applications import RegistrationRefused
from engine.errors import TaskNotFound
from tests.test_registration import credit_code
from tests.test_registration import valid_id
from tests.web.conftest import csrf_token
from tests.web.test_inbox_api import signed_in_api
from tests.web.test_task_page import open_task
from webapp.messages import explain

TOO_LARGE = "9223372036854775808"  # 2^63: past what SQLite's driver converts (OverflowError)
# Past PostgreSQL's INTEGER ids, past SQLite's, a far larger number, a negative, zero, words, a NUL byte.
HOSTILE = ("2147483648", TOO_LARGE, str(10**30), "-1", "0", "abc", "名字", "\x00")
QUERY_NAMES = ("cursor", "after", "saved", "employer_id", "page", "view", "sort")
BODY_NAMES = (
    "to_user_id",
    "to_user_ids",
    "user_ids",
    "task_id",
    "task_ids",
    "authority_id",
    "employer_id",
    "successor",
    "certificate_year",
    "year",
    "action",
    "position",
)
# signing out would end the walk; the static files take no input
# readiness takes no input and answers 503 on this never-stamped database (tests/web/test_health.py)
SKIPPED = ("auth.logout", "static", "health.readyz")
PLACEHOLDER = re.compile(r"<(?:[^<>]*:)?(\w+)>")
OK_STATUSES = range(200, 500)


def _path(rule, value: str) -> str:
    """Return the rule's path with every placeholder filled with `value` (URL-quoted)."""
    return PLACEHOLDER.sub(lambda _: quote(value, safe=""), rule.rule)


def _reachable_path(rule, value: str) -> str:
    """Return the rule's path with ids filled with `value` and each action with one it accepts."""

    def fill(found: re.Match) -> str:
        if found.group(0).startswith("<any("):
            return found.group(0)[len("<any(") :].split(",")[0].split(")")[0].strip()
        return "transfer" if found.group(1) == "action" else quote(value, safe="")

    return PLACEHOLDER.sub(fill, rule.rule)


def _json_value(value: str):
    """Return the value as a JSON number where it reads as one, so numbers reach the code as numbers."""
    return int(value) if value.lstrip("-").isdigit() else value


def _status(client, method: str, url: str, **kwargs) -> int | str:
    """Return the response's status, or the name of the exception the app let escape."""
    try:
        return client.open(url, method=method, **kwargs).status_code
    except Exception as error:  # the test client re-raises what escapes a view while TESTING
        return f"{type(error).__name__}: {error}"[:160]


def _walk(app, client, token: str, api_token: str) -> list[tuple[str, str, int | str]]:
    """Request every route with each hostile value; return (method, url, status) of each request."""
    seen = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        for value in HOSTILE:
            path = _path(rule, value)
            if "GET" in rule.methods:
                seen.append(("GET", path, _status(client, "GET", path)))
                for name in QUERY_NAMES:  # one at a time: one parameter may end the reading (saved)
                    url = f"{_reachable_path(rule, '1')}?{name}={quote(value, safe='')}"
                    seen.append(("GET", url, _status(client, "GET", url)))
            for method in sorted(rule.methods & {"POST", "DELETE"}):
                for url in dict.fromkeys((path, _reachable_path(rule, "1"))):
                    form = {name: value for name in BODY_NAMES} | {"csrf_token": token}
                    seen.append((method, url, _status(client, method, url, data=form)))
                    body = {name: _json_value(value) for name in BODY_NAMES}
                    body |= {"task_ids": [_json_value(value)], "user_ids": [_json_value(value)]}
                    status = _status(client, method, url, json=body, headers={"X-CSRFToken": api_token})
                    seen.append((method, f"{url} (JSON)", status))
    return seen


@pytest.mark.parametrize("username", ["admin", "yexian-hr"])
def test_no_route_answers_500_to_hostile_input(app, login_as, username):
    """Finding "No 500 from input": ids of 2^63 and other hostile values in paths, queries and bodies."""
    client = login_as(username)
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    api_token = client.get("/api/inbox/csrf").get_json()["csrf_token"]
    started = time.monotonic()
    seen = _walk(app, client, token, api_token)
    rules = sum(1 for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED)
    print(
        f"{username}: {rules} routes x {len(HOSTILE)} values, {len(seen)} requests, "
        f"{time.monotonic() - started:.1f}s"
    )
    failed = [(method, url, status) for method, url, status in seen if status not in OK_STATUSES]
    assert not failed, "\n".join(f"{method} {url} -> {status}" for method, url, status in failed)


# --- each finding of the outside probe -------------------------------------------------------


def test_an_id_past_the_largest_id_in_a_path_is_a_404(login_as):
    """Finding: 2^63 as the id in a path made an OverflowError (500) on about 30 routes."""
    client, headers = signed_in_api(login_as, "admin")
    for path in (
        "/tasks/{id}",
        "/api/inbox/tasks/{id}",
        "/organisations/{id}",
        "/persons/{id}",
        "/attachments/{id}",
        "/supervision/{id}",
        "/instances/{id}/diagram.json",
        "/api/organisations/{id}",
        "/api/persons/{id}",
    ):
        for too_large in (TOO_LARGE, "2147483648"):  # past SQLite's driver; past PostgreSQL's INTEGER
            assert client.get(path.format(id=too_large)).status_code == 404, path
    for path in ("/api/inbox/tasks/{id}/claim", "/api/inbox/cc/{id}/read", "/notices/{id}/read"):
        assert client.post(path.format(id=TOO_LARGE), headers=headers).status_code == 404, path


def test_an_id_past_the_largest_id_in_a_query_is_a_400(login_as):
    """Finding: ?saved=2^63 on the inbox and ?employer_id=2^63 on the directory made a 500."""
    client = login_as("admin")
    assert client.get(f"/tasks?saved={TOO_LARGE}").status_code == 400
    assert client.get(f"/persons?employer_id={TOO_LARGE}").status_code == 400
    assert client.get(f"/api/persons?employer_id={TOO_LARGE}").status_code == 400


def test_bulk_api_refuses_task_ids_past_the_largest_id(login_as):
    """Finding: POST /api/inbox/bulk with 2^63 in task_ids made a 500."""
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    body = {"action": "approve", "task_ids": [int(TOO_LARGE)], "opinion": "同意"}
    response = client.post("/api/inbox/bulk", json=body, headers=headers)
    assert response.status_code == 400 and response.get_json()["message"]


def test_transfer_to_a_user_id_past_the_largest_id_is_refused(login_as, session_factory):
    """Finding: POST /api/inbox/tasks/<id>/transfer with to_user_id 2^63 made a 500."""
    task = open_task(session_factory)
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    assert client.post(f"/api/inbox/tasks/{task.id}/claim", headers=headers).status_code == 200
    for to_user in (int(TOO_LARGE), TOO_LARGE):
        body = {"to_user_id": to_user, "opinion": "请办理"}
        response = client.post(f"/api/inbox/tasks/{task.id}/transfer", json=body, headers=headers)
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["message"] == "请从列表中选择。"


def _registration_form(client, path: str, **values) -> dict:
    return values | {"csrf_token": csrf_token(client.get(path).get_data(as_text=True))}


def test_registering_an_employer_under_an_authority_id_past_the_largest_id_is_a_form_error(client):
    """Finding: POST /register/organisation with authority_id 2^63 reached the database and failed there."""
    form = _registration_form(
        client,
        "/register/organisation",
        kind="employer",
        name="叶县第三高级中学",
        region_code="410422",
        credit_code=credit_code(),
        authority_id=TOO_LARGE,
        admin_name="王五",
        admin_username="yx3gz-admin",
        password="secret-123",
        confirm="secret-123",
    )
    response = client.post("/register/organisation", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # the form again, with the field's error; nothing registered
    assert "OverflowError" not in html  # it used to reach the database and fail as a broken step
    assert '<label class="has-error">行业主管部门' in html  # the authority box shows its error


def test_a_taken_2014_certificate_number_at_person_registration_is_a_form_message(
    app, client, session_factory
):
    """Finding: a 2013/2014 certificate number already taken made a 500 (an uncaught CertificateError)."""
    with session_factory() as session:
        employer = session.scalars(
            select(Organisation).where(Organisation.kind == "employer", Organisation.status == "active")
        ).first()
    path = f"/register/person?region={employer.region_code}"

    def register(id_number: str):
        form = _registration_form(
            client,
            path,
            region=employer.region_code,
            employer_id=str(employer.id),
            id_number=id_number,
            name="李四",
            title_level="intermediate",
            password="secret-123",
            confirm="secret-123",
            certificate_year="2014",
            certificate_number="豫继2014-000123",
        )
        return client.post(path, data=form)

    assert register(valid_id("41040219850612001")).status_code == 302
    second = register(valid_id("41040219900101002"))
    assert second.status_code == 200
    with app.test_request_context(), force_locale("zh_CN"):
        message = explain(RegistrationRefused("certificate_number_taken", number="豫继2014-000123"))
    assert message in second.get_data(as_text=True)


# --- the error pages ---------------------------------------------------------------------------


@pytest.fixture
def failing_routes(app):
    """Routes that let a refusal or a fault escape, as a view with a bug would."""

    def refuse():
        raise TaskNotFound(7)

    def crash():
        raise RuntimeError("a bug")

    app.add_url_rule("/test-refusal", "test_refusal", refuse)
    app.add_url_rule("/api/test-refusal", "test_api_refusal", refuse)
    app.add_url_rule("/test-crash", "test_crash", crash)
    app.add_url_rule("/api/test-crash", "test_api_crash", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not re-raise into the test
    return app


def test_a_refusal_that_escapes_a_view_is_explained_in_the_site_layout_or_as_json(failing_routes, login_as):
    """Finding: a domain or engine refusal no view caught became a 500; now its message, with a 4xx."""
    client = login_as("yexian-reviewer")
    with failing_routes.test_request_context(), force_locale("zh_CN"):
        message = explain(TaskNotFound(7))
    page = client.get("/test-refusal")
    assert page.status_code == 404 and message in page.get_data(as_text=True)
    assert "我的待办" in page.get_data(as_text=True) and "返回首页" in page.get_data(
        as_text=True
    )  # layout, menu
    api = client.get("/api/test-refusal")
    assert api.status_code == 404
    assert api.get_json() == {"error": "TaskNotFound", "message": message, "reason": "not_found"}


def test_a_fault_renders_the_sites_error_page_and_logs_the_traceback(failing_routes, login_as, caplog):
    """Finding: an unforeseen fault showed Werkzeug's English 500 page."""
    client = login_as("yexian-reviewer")
    with caplog.at_level(logging.ERROR):
        page = client.get("/test-crash")
    assert page.status_code == 500
    assert "Internal Server Error" not in page.get_data(as_text=True)
    assert "出错" in page.get_data(as_text=True) and "返回首页" in page.get_data(as_text=True)
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)
    api = client.get("/api/test-crash")
    assert api.status_code == 500 and api.get_json()["error"] == "internal_server_error"
