"""Health and readiness for a load balancer: public, never cached, JSON.

/healthz says the process answers. /readyz says this worker can serve: the database answers, its
schema is at the migrations' head, and a scheduler swept the timers lately (unless none is expected).
"""

from datetime import timedelta

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint
from flask import current_app
from flask import jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine.timers.heartbeat import last_heartbeat
from webapp.extensions import runtime

blueprint = Blueprint("health", __name__)
STALE_AFTER_SWEEPS = 3  # a heartbeat older than this many sweep intervals means no scheduler runs
HEADS_KEY = "ceflow.schema_heads"  # app.extensions entry: the migrations' head revisions, read once


@blueprint.get("/healthz")
def healthz():
    """Answer that the process is up."""
    return _uncached(jsonify(status="ok"), 200)


@blueprint.get("/readyz")
def readyz():
    """Answer whether this worker can serve: 200 when every check holds, 503 naming those that fail."""
    checks = readiness()
    failed = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "not ready" if failed else "ready", "failed": failed, "checks": checks}
    return _uncached(jsonify(body), 503 if failed else 200)


def readiness() -> dict[str, dict]:
    """Check the database, the schema revision and the scheduler's heartbeat."""
    rt = runtime()
    try:
        with rt.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revisions = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        unknown = {"ok": False, "reason": "database unreachable"}
        return {"database": {"ok": False, "reason": reason}, "schema": unknown, "scheduler": unknown}
    heads = _schema_heads()
    schema = {"ok": revisions == heads, "revision": sorted(revisions), "head": sorted(heads)}
    return {"database": {"ok": True}, "schema": schema, "scheduler": _scheduler_check(rt)}


def _scheduler_check(rt) -> dict:
    config = current_app.config
    if not (config["SCHEDULER_ENABLED"] or config["SCHEDULER_EXPECTED"]):
        return {"ok": True, "state": "off", "reason": "no scheduler is expected (CEFLOW_SCHEDULER_EXPECTED)"}
    max_age = timedelta(seconds=STALE_AFTER_SWEEPS * config["SCHEDULER_SWEEP_SECONDS"])
    try:
        swept = last_heartbeat(rt)
    except SQLAlchemyError:  # the table is missing: the schema check already names the cause
        return {"ok": False, "state": "unknown", "reason": "no heartbeat table"}
    check = {"max_age_seconds": int(max_age.total_seconds())}
    if swept is None:
        return {"ok": False, "state": "never swept", **check}
    age = rt.clock() - swept
    fresh = age <= max_age
    return {
        "ok": fresh,
        "state": "running" if fresh else "stale",
        "last_sweep": swept.isoformat(),
        "age_seconds": round(age.total_seconds(), 1),
        **check,
    }


def _schema_heads() -> set[str]:
    heads = current_app.extensions.get(HEADS_KEY)
    if heads is None:
        directory = current_app.extensions["migrate"].directory
        heads = current_app.extensions[HEADS_KEY] = frozenset(ScriptDirectory(directory).get_heads())
    return set(heads)


def _uncached(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
