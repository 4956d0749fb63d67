"""Public pages are rate-limited per address, with a page that says so; signed-in staff are not counted."""

import pytest

from tests.web.conftest import csrf_token


@pytest.fixture
def tight(app):
    app.config.update(RATELIMIT_PUBLIC="3 per minute", RATELIMIT_SUBMISSIONS="2 per hour")
    return app


def test_a_stranger_loading_the_sign_in_page_too_often_is_told_to_wait(tight, client):
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/login")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "请求过于频繁" in refused.get_data(as_text=True)
    assert client.get("/register/organisation").status_code == 429  # one count for every public page
    assert client.get("/healthz").status_code == 200  # the load balancer's checks are not limited
    api = client.get("/api/openapi.json")
    assert api.status_code == 429 and api.get_json()["error"] == "too_many_requests"


def test_registrations_are_counted_apart_from_page_loads(tight, client):
    client.application.config["RATELIMIT_PUBLIC"] = "100 per minute"
    token = csrf_token(client.get("/register/person").get_data(as_text=True))
    statuses = [client.post("/register/person", data={"csrf_token": token}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # two refused forms shown again, then no more tries this hour
    assert client.get("/register/person").status_code == 200  # looking is not submitting


def test_signed_in_staff_are_not_counted(tight, client, login_as):
    login_as("yexian-hr")
    assert {client.get("/register/person").status_code for _ in range(6)} == {200}
