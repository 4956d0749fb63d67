"""Pages never dead-end: HTTP errors are Chinese pages in the site layout with a way back, the JSON API
keeps answering JSON, an expired form comes back filled in, and `ceflow run` keeps its secret key."""

import re

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func
from sqlalchemy import select

from engine.runtime.models import AuditEvent
from tests.web.conftest import csrf_token
from tests.web.test_pages import open_task
from webapp.cli import create_cli_app
from webapp.sizes import file_size

EXPIRED = "页面已过期，请重新提交。"
TITLE = re.compile(r"<h1>(.*?)</h1>", re.S)


def text(response) -> str:
    return response.get_data(as_text=True)


def title(response) -> str:
    found = TITLE.search(text(response))
    assert found, "the page has no heading"
    return found.group(1).strip()


def has_menu(response) -> bool:
    """Say whether the page carries the signed-in layout: the menu and the sign-out button."""
    page = text(response)
    return "<nav" in page and 'action="/logout"' in page


@pytest.mark.parametrize(
    ("method", "path", "status", "heading"),
    [
        ("get", "/no-such-page", 404, "页面不存在"),
        ("get", "/tasks/999999", 404, "页面不存在"),
        ("get", "/tasks?saved=abc", 400, "无法处理该请求"),
        ("get", "/logout", 405, "此操作不可用"),
        ("get", "/account/handover", 403, "您无权打开此页面"),
    ],
)
def test_an_http_error_is_a_chinese_page_with_the_menu_and_a_way_home(
    login_as, client, method, path, status, heading
):
    login_as("410422198801010018")
    response = getattr(client, method)(path, headers={"Referer": "http://localhost/notices"})
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert title(response) == heading
    assert has_menu(response)
    assert 'href="/"' in text(response) and "返回首页" in text(response)
    assert 'href="http://localhost/notices"' in text(response)  # back where the user came from


def test_a_method_not_allowed_still_names_the_methods_that_work(login_as, client):
    login_as("yexian-hr")
    response = client.get("/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_a_stranger_gets_the_error_page_with_a_way_to_sign_in(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and title(response) == "页面不存在"
    assert not has_menu(response) and "登录" in text(response)


def test_a_request_over_the_size_limit_says_the_limit_in_kb_or_mb(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    response = client.post("/register/person", data={"name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert title(response) == "上传的内容过大"
    assert "2 MB" in text(response)


def test_the_json_api_keeps_answering_json_errors(login_as, client):
    login_as("yexian-reviewer")
    for path in ("/api/inbox/tasks/999999", "/api/no-such-thing"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path
        assert response.get_json()["message"]
    refused = client.post("/api/inbox/filters", json={"name": "x"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"


def test_an_expired_sign_in_form_comes_back_with_the_username_and_a_message(client):
    response = client.post(
        "/login", data={"username": "yexian-hr", "password": "demo1234", "csrf_token": "old"}
    )
    assert response.status_code == 400
    page = text(response)
    assert EXPIRED in page and 'value="yexian-hr"' in page
    assert csrf_token(page) != "old"  # a fresh token: sending it again works
    again = client.post(
        "/login", data={"username": "yexian-hr", "password": "demo1234", "csrf_token": csrf_token(page)}
    )
    assert again.status_code == 302


def test_an_expired_registration_form_loses_nothing_typed(client):
    typed = {"name": "叶县测试单位", "credit_code": "91410422MA0000000X", "csrf_token": "expired"}
    response = client.post("/register/organisation", data=typed)
    assert response.status_code == 400
    page = text(response)
    assert EXPIRED in page
    assert 'value="叶县测试单位"' in page and 'value="91410422MA0000000X"' in page


def test_an_expired_button_goes_back_to_its_page_with_the_message_and_does_nothing(
    login_as, client, session_factory
):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    response = client.post(
        f"/tasks/{task.id}/claim",
        data={"csrf_token": "expired"},
        headers={"Referer": f"http://localhost/tasks/{task.id}"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task.id}"
    assert EXPIRED in text(client.get(response.headers["Location"]))
    assert open_task(session_factory).assignee_id is None
    with session_factory() as session:
        claims = select(func.count()).where(
            AuditEvent.instance_id == task.instance_id, AuditEvent.action == "claim"
        )
        assert session.scalar(claims) == 0


def test_an_expired_button_from_another_site_goes_home_not_back_there(login_as, client, session_factory):
    task = open_task(session_factory)
    login_as("yexian-reviewer")
    response = client.post(f"/tasks/{task.id}/claim", headers={"Referer": "https://evil.example/tasks"})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_two_ceflow_run_apps_on_one_instance_folder_accept_each_others_sign_in(
    app, database_url, login_as, monkeypatch, tmp_path
):
    """`ceflow run` after a restart is a new app on the same instance folder: users stay signed in."""
    monkeypatch.delenv("CEFLOW_SECRET_KEY", raising=False)
    monkeypatch.setenv("CEFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("CEFLOW_SEED_BPMN", "false")
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    before, after = create_cli_app(), create_cli_app()
    assert (tmp_path / "secret_key").exists()
    first = login_as("yexian-hr", into=before.test_client())
    second = after.test_client()
    second.set_cookie("session", first.get_cookie("session").value)
    assert second.get("/account").status_code == 200
    form = second.get("/account/password")
    assert form.status_code == 200 and csrf_token(text(form))  # its forms take the same session
    stranger = create_app_with_another_folder(monkeypatch, tmp_path / "elsewhere")
    third = stranger.test_client()
    third.set_cookie("session", first.get_cookie("session").value)
    assert (
        third.get("/account").status_code == 302
    )  # another key: signed out, as a check that this one counts


def create_app_with_another_folder(monkeypatch, folder):
    """Build a `ceflow` app on another instance folder (so with another kept key)."""
    folder.mkdir()
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
    return create_cli_app()


def test_file_sizes_read_in_kb_and_mb_in_the_users_language(app):
    with app.test_request_context():  # Chinese by default
        assert [file_size(n) for n in (512, 12_900, 10 * 1024 * 1024)] == ["512 B", "12.6 kB", "10 MB"]
    with app.test_request_context(), force_locale("en"):
        assert file_size(12_900) == "12.6 kB" and "Bytes" not in file_size(1)


def test_an_expired_form_on_a_page_that_is_not_the_users_says_so_instead(login_as, client):
    login_as("yexian-reviewer")  # not the city HRSS: the policy calendar is not theirs to save
    response = client.post("/policy/2026", data={"csrf_token": "expired"})
    assert response.status_code == 403 and title(response) == "您无权打开此页面"
    login_as("yexian-hr", into=client)
    assert client.post("/holidays/2026", data={"csrf_token": "expired"}).status_code == 404
