"""bench/load.py keeps working: a few seconds of load on the tiny data set, and not one failed request.

PostgreSQL only (the load test serves production, which is PostgreSQL): the script builds the tiny
data set in a database of its own beside TEST_DATABASE_URL's, which this test drops afterwards.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql"), reason="the load test needs PostgreSQL (TEST_DATABASE_URL)"
)


@pytest.fixture
def load_database():
    """A database named after the test database's, dropped before and after."""
    url = make_url(URL)
    name = f"{url.database}_load"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop()
        admin.dispose()


def test_a_short_load_run_has_no_failures(load_database, tmp_path):
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--size", "tiny", "--database", load_database]
    command += ["--users", "8", "--workers", "1", "--spawn-rate", "8", "--run-time", "6"]
    command += ["--think", "0.2,0.5", "--out", str(tmp_path)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=150, cwd=ROOT)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    figures = json.loads(finished.stdout.strip().splitlines()[-1])
    routes = {r["route"]: r for r in figures["cells"]["8u_1w"]}
    ramp = {r["route"]: r for r in figures["ramps"]["8u_1w"]["routes"]}
    assert figures["failures"] == 0
    assert routes["Aggregated"]["failures"] == ramp["Aggregated"]["failures"] == 0
    assert ramp["POST /login"]["requests"] >= 7  # every signed-in virtual user got in (one is an applicant)
    assert routes.get("/tasks (mine)", routes.get("/tasks (queue)"))["requests"] > 0
    assert "REFUSED approve" not in routes  # every virtual user decides only its own tasks
