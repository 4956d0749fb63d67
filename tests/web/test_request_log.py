"""Every request is one JSON line on `ceflow.requests`, under a request id the response echoes."""

import json
import logging

import pytest

FIELDS = {"time", "request_id", "user_id", "endpoint", "route", "method", "status", "duration_ms"}


@pytest.fixture
def request_lines(caplog):
    """Return a function: the parsed request lines logged so far."""
    caplog.set_level(logging.INFO, logger="ceflow.requests")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "ceflow.requests"]


def test_each_request_logs_one_json_line_with_its_fields(client, request_lines):
    response = client.get("/healthz")
    (line,) = request_lines()
    assert set(line) == FIELDS
    assert line["endpoint"] == "health.healthz" and line["route"] == "/healthz"
    assert (line["method"], line["status"], line["user_id"]) == ("GET", 200, None)
    assert line["duration_ms"] >= 0
    assert response.headers["X-Request-Id"] == line["request_id"] and len(line["request_id"]) == 32


def test_a_plain_request_id_from_the_proxy_is_kept_and_echoed(client, request_lines):
    response = client.get("/healthz", headers={"X-Request-Id": "lb-42.abc"})
    assert response.headers["X-Request-Id"] == "lb-42.abc"
    assert [line["request_id"] for line in request_lines()] == ["lb-42.abc"]


def test_an_odd_request_id_is_replaced(client, request_lines):
    response = client.get("/healthz", headers={"X-Request-Id": "x" * 500})
    assert response.headers["X-Request-Id"] != "x" * 500
    assert request_lines()[0]["request_id"] == response.headers["X-Request-Id"]


def test_the_line_names_the_signed_in_user_and_a_missing_route(login_as, request_lines):
    client = login_as("admin")
    before = len(request_lines())
    client.get("/no-such-page")
    line = request_lines()[before]
    assert line["status"] == 404 and line["endpoint"] is None and line["user_id"] is not None
