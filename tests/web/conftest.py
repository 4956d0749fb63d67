"""Web fixtures: the app over the test database with demo data, a client, `login_as`, a real browser."""

import re
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy import text
from werkzeug.serving import make_server

from domain.base import Base
from domain.files import StoredFile
from infra.bulk_rows import bump_sequences
from seed.demo import DEMO_PASSWORD
from seed.demo import load_demo_data
from webapp.app import create_app
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


# The demo database as loaded once, per database: loading it through the engine takes a second or
# two; putting it back takes milliseconds on SQLite (a page copy) and well under a second on
# PostgreSQL (its rows), and most web tests need it.
_DEMO: dict[str, object] = {}


def _save_demo(engine):
    """Keep the loaded demo: SQLite's pages in memory, or every table's rows on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        saved = sqlite3.connect(":memory:", check_same_thread=False)
        raw = engine.raw_connection()
        try:
            raw.driver_connection.backup(saved)
        finally:
            raw.close()
        return saved
    with engine.connect() as connection:
        return {
            table.name: [dict(row._mapping) for row in connection.execute(table.select())]
            for table in Base.metadata.sorted_tables
        }


def _put_back(engine, saved) -> None:
    """Restore the saved demo into the emptied test database."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            saved.backup(raw.driver_connection)
        finally:
            raw.close()
        return
    with engine.begin() as connection:
        # organisation <-> its admin user is a cycle: no insert order satisfies the foreign keys
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in Base.metadata.sorted_tables:
            if saved[table.name]:
                connection.execute(table.insert(), saved[table.name])
        # the ids were given: move each id sequence past them
        bump_sequences(connection, [t.name for t in Base.metadata.sorted_tables if "id" in t.c])


def _load_demo(app, database_url: str) -> None:
    """Load reference data and the demo into the emptied database; after the first time, from saved rows."""
    runtime = app.extensions["ceflow.runtime"]
    with app.app_context():
        engine = db.engine
    if database_url in _DEMO:
        _put_back(engine, _DEMO[database_url])
        return
    initialise_database(runtime, app.config)
    load_demo_data(runtime)
    _DEMO[database_url] = _save_demo(engine)


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
    _load_demo(app, database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def files(session_factory):
    """Return a function listing the keys of the files the (database) file store keeps, oldest first."""

    def stored() -> list[str]:
        with session_factory() as session:
            return list(session.scalars(select(StoredFile.key).order_by(StoredFile.stored_at)))

    return stored


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


# --- a real browser against a real HTTP server -------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 5_000


@pytest.fixture
def live_server(app):
    """Serve the app over real HTTP on 127.0.0.1 and a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="ceflow-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def chromium():
    """Debian's chromium, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, request):
    """Return a function opening a page in a fresh context; screenshot every page when the test fails."""
    pages = []

    def open_page():
        context = chromium.new_context(locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(pages, start=1):
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{number}.png"), full_page=True)
    for page in pages:
        page.context.close()


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("用户名或身份证号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/tasks"))
