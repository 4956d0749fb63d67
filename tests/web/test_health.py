"""/healthz and /readyz for a load balancer: public, never cached; readiness names what fails."""

from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from engine.timers.heartbeat import record_heartbeat
from webapp.app import MIGRATIONS
from webapp.extensions import db

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
OLDER = "e4a9c3b7d2f1"  # the revision before the heartbeat table


@pytest.fixture
def stamp(app):
    """Return a function: write the test database's alembic_version (it is built from the models)."""
    with app.app_context():
        engine = db.engine

    def at(revision: str) -> None:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
            connection.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})

    yield at
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def rt(app):
    return app.extensions["ceflow.runtime"]


def test_healthz_answers_ok_to_a_stranger_uncached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_when_the_schema_is_at_head_and_the_scheduler_swept_lately(client, stamp, rt):
    stamp(HEAD)
    record_heartbeat(rt, "scheduler-1")
    response = client.get("/readyz")
    body = response.get_json()
    assert (response.status_code, body["status"], body["failed"]) == (200, "ready", [])
    assert body["checks"]["scheduler"]["state"] == "running"
    assert response.headers["Cache-Control"] == "no-store"


def test_not_ready_while_the_schema_is_behind_the_migrations(client, stamp, rt):
    stamp(OLDER)
    record_heartbeat(rt, "scheduler-1")
    response = client.get("/readyz")
    body = response.get_json()
    assert (response.status_code, body["failed"]) == (503, ["schema"])
    assert body["checks"]["schema"] == {"ok": False, "revision": [OLDER], "head": [HEAD]}


def test_not_ready_on_a_database_never_migrated(client, rt):
    record_heartbeat(rt, "scheduler-1")
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()["failed"]) == (503, ["schema"])


def test_not_ready_when_the_scheduler_heartbeat_is_stale(app, client, stamp, rt, monkeypatch):
    stamp(HEAD)
    record_heartbeat(rt, "scheduler-1")
    later = rt.clock() + timedelta(seconds=3 * app.config["SCHEDULER_SWEEP_SECONDS"] + 1)
    monkeypatch.setattr(rt, "clock", lambda: later)
    response = client.get("/readyz")
    body = response.get_json()
    assert (response.status_code, body["failed"]) == (503, ["scheduler"])
    assert body["checks"]["scheduler"]["state"] == "stale"


def test_not_ready_when_no_scheduler_ever_swept(client, stamp):
    stamp(HEAD)
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()["failed"]) == (503, ["scheduler"])


def test_ready_with_the_scheduler_off_says_so(app, client, stamp, monkeypatch):
    stamp(HEAD)
    monkeypatch.setitem(app.config, "SCHEDULER_EXPECTED", False)
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["checks"]["scheduler"]["state"] == "off"


def test_each_scheduler_sweep_notes_its_heartbeat(app, client, stamp):
    from webapp.scheduler import _sweep  # the job APScheduler runs every SCHEDULER_SWEEP_SECONDS

    stamp(HEAD)
    assert client.get("/readyz").status_code == 503
    _sweep(app)
    assert client.get("/readyz").status_code == 200
