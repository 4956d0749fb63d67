"""Schemathesis against the API's own OpenAPI document: no server error, every answer as documented."""

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck  # noqa: E402  (hypothesis comes with schemathesis)
from hypothesis import given  # noqa: E402
from hypothesis import settings  # noqa: E402
from schemathesis.checks import content_type_conformance  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.checks import response_schema_conformance  # noqa: E402
from schemathesis.checks import status_code_conformance  # noqa: E402

from tests.web.test_inbox_api import signed_in_api  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 20  # per operation, derandomized: the same examples on every run


@pytest.fixture
def api_schema(app):
    """The API's OpenAPI document, served in-process by the test app."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture
def signed_in(app, login_as):
    """Return the session cookie and CSRF header of an approver signed in, as the API's clients send them."""
    client, headers = signed_in_api(login_as, "yexian-reviewer")
    return {"session": client.get_cookie("session").value}, headers


def _run_examples(operation, cookies: dict, headers: dict) -> int:
    """Call one operation with EXAMPLES generated cases, checking each answer; return how many ran."""
    ran = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def answers_as_documented(case):
        ran.append(case)
        case.call_and_validate(cookies=cookies, headers=headers, checks=CHECKS)

    answers_as_documented()
    return len(ran)


def test_api_answers_as_its_openapi_document_says(api_schema, signed_in):
    """Every operation of /api/openapi.json, fed generated input, answers without a 500 and as documented."""
    cookies, headers = signed_in
    counted = {}
    for found in api_schema.get_all_operations():
        operation = found.ok()
        counted[operation.label] = _run_examples(operation, cookies, headers)
    print(f"schemathesis: {len(counted)} operations, {sum(counted.values())} examples")
    assert len(counted) >= 10  # every documented operation was exercised
