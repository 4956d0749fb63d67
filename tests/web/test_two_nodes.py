"""Two web nodes on one PostgreSQL database, as a province runs them: nothing a user does is kept on one.

Each node is a `ceflow serve` process with its own instance folder; they share the database, the
secret key and the rate-limit store (Redis). A user signs in on one and carries on on the other,
uploads on one and downloads on the other; a sign-in throttle and a public-page limit counted on one
apply on the other.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from seed.demo import DEMO_PASSWORD
from tests.web.conftest import csrf_token
from tests.web.test_task_page import PDF
from tests.web.test_task_page import open_task
from tests.web.test_task_page import stored_attachments

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="two nodes share a PostgreSQL database (TEST_DATABASE_URL)",
)
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the node stopped: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or busy starting
            time.sleep(0.2)
    pytest.fail(f"the node did not answer within 60 s: {log.read_text()[-2000:]}")


@pytest.fixture
def nodes(app, database_url, tmp_path):
    """Two `ceflow serve` processes on the demo database, each with its own instance folder."""
    shared = {
        **os.environ,
        "CEFLOW_DATABASE_URL": database_url,
        "CEFLOW_SECRET_KEY": "shared-by-every-node",
        "CEFLOW_SEED_BPMN": "false",
        "CEFLOW_RATELIMIT_STORAGE_URI": REDIS,
        "CEFLOW_RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",  # this run's counts only
        "CEFLOW_RATELIMIT_PUBLIC": "40 per minute",
    }
    started, bases = [], []
    ceflow = Path(sys.executable).with_name("ceflow")
    for name in ("node-a", "node-b"):
        folder = tmp_path / name
        folder.mkdir()
        port = _free_port()
        log = folder / "serve.log"
        process = subprocess.Popen(
            [str(ceflow), "serve", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
            env={**shared, "CEFLOW_INSTANCE_PATH": str(folder), "CEFLOW_NODE_NAME": name},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        bases.append((f"http://127.0.0.1:{port}", process, log))
    try:
        for base, process, log in bases:
            _wait_until_up(base, process, log)
        yield [base for base, _, _ in bases]
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def _sign_in(browser: requests.Session, base: str, username: str, password: str = DEMO_PASSWORD):
    token = csrf_token(browser.get(f"{base}/login").text)
    return browser.post(
        f"{base}/login", data={"csrf_token": token, "username": username, "password": password}
    )


def _post_from_task_page(browser, base, task_id, path, data=None, files=None):
    token = csrf_token(browser.get(f"{base}/tasks/{task_id}").text)
    return browser.post(f"{base}{path}", data={"csrf_token": token, **(data or {})}, files=files)


def test_a_user_carries_on_across_nodes_and_their_file_is_on_both(nodes, session_factory):
    a, b = nodes
    browser = requests.Session()  # cookies are per host, not per port: one browser, two nodes
    signed_in = _sign_in(browser, a, "yexian-reviewer")
    assert signed_in.status_code == 200 and signed_in.url == f"{a}/"  # the workplace

    on_b = browser.get(f"{b}/tasks?view=queue", allow_redirects=False)
    assert on_b.status_code == 200 and "/login" not in on_b.text  # B reads the session A signed

    task = open_task(session_factory)
    claimed = _post_from_task_page(browser, b, task.id, f"/tasks/{task.id}/claim")  # the form came from B
    assert claimed.status_code == 200
    uploaded = _post_from_task_page(
        browser, a, task.id, f"/tasks/{task.id}/attachments", files={"file": ("证明.pdf", PDF)}
    )
    assert uploaded.status_code == 200 and "证明.pdf" in uploaded.text
    [record] = stored_attachments(session_factory)
    download = browser.get(f"{b}/attachments/{record.id}")
    assert download.status_code == 200 and download.content == PDF


def test_throttles_counted_on_one_node_apply_on_the_other(nodes):
    a, b = nodes
    guesser = requests.Session()
    for _ in range(5):  # the account's failures from this address, all on A
        assert "用户名或密码错误" in _sign_in(guesser, a, "yexian-hr", "wrong-password").text
    locked = _sign_in(requests.Session(), b, "yexian-hr")  # the right password, on B
    assert locked.status_code == 429 and "锁定" in locked.text

    flood = requests.Session()
    answered = [flood.get(f"{a}/register/organisation").status_code for _ in range(40)]
    assert answered[-1] == 429  # A's limit of 40 a minute, counted with the sign-ins above
    refused = requests.get(f"{b}/login")
    assert refused.status_code == 429 and "请求过于频繁" in refused.text  # counted in Redis, not in A
