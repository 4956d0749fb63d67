"""Web fixtures: the app over the test database with the Pingdingshan demo data, a client, `login_as`."""

import re

import pytest

from webapp.app import create_app
from webapp.demo import DEMO_PASSWORD
from webapp.demo import load_demo_data
from webapp.extensions import db
from webapp.first_start import initialise_database

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')


def csrf_token(html: str) -> str:
    """Return the value of the first csrf_token hidden input on a page."""
    field = CSRF_INPUT.search(html)
    assert field, "the page has no csrf_token input"
    value = VALUE.search(field.group(0))
    assert value and value.group(1), "the csrf_token input has no value"
    return value.group(1)


@pytest.fixture
def app(database_url, session_factory):
    """The web app on the emptied test database, with reference data and the demo accounts loaded."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "SEED_BPMN": True,
            "SECRET_KEY": "web-tests-fixed-secret",
            "SCHEDULER_ENABLED": False,
        }
    )
    runtime = app.extensions["ceflow.runtime"]
    initialise_database(runtime, app.config)
    load_demo_data(runtime)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(client):
    """Return a function: sign a user in (into `client` unless another is given) and return that client."""

    def sign_in(username: str, into=None, password: str = DEMO_PASSWORD):
        browser = into or client
        token = csrf_token(browser.get("/login").get_data(as_text=True))
        response = browser.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, f"{username} could not sign in"
        return browser

    return sign_in


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failed test at teardown."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
