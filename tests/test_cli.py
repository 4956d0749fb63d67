"""The `ceflow` console script: set-up, start, sweep; refusals exit 2 with the reason, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CEFLOW = Path(sys.executable).with_name("ceflow")


@pytest.fixture(scope="module")
def ceflow(tmp_path_factory):
    """Run the console script against its own fresh SQLite database, initialised once."""
    env = dict(os.environ, CEFLOW_DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('cli')}/cli.db")

    def run(*args):
        return subprocess.run([str(CEFLOW), *args], env=env, capture_output=True, text=True, timeout=120)

    run.env = env
    first = run("init-db")
    assert first.returncode == 0, first.stderr
    assert "demo_approval v1" in first.stdout
    return run


def test_init_db_twice_adds_nothing(ceflow):
    again = ceflow("init-db")
    assert again.returncode == 0
    assert "regions added: 0" in again.stdout and "diagrams deployed: none new" in again.stdout


def test_demo_data_loads_once(ceflow):
    loaded = ceflow("demo-data").stdout
    assert "demo data loaded" in loaded and "5 filed courses" in loaded
    assert "already loaded" in ceflow("demo-data").stdout


def test_start_an_unknown_process_exits_2_with_the_reason(ceflow):
    result = ceflow("start", "no_such_process")
    assert result.returncode == 2
    assert "没有已部署的流程使用标识“no_such_process”" in result.stderr
    assert "Traceback" not in result.stderr


def test_start_with_malformed_data_exits_2(ceflow):
    for bad in ("{not json", "[1, 2]"):
        result = ceflow("start", "demo_approval", "--data", bad)
        assert result.returncode == 2 and "refused" in result.stderr and "Traceback" not in result.stderr


def test_start_whose_first_steps_fail_exits_2(ceflow):
    # no initiator: the applicant step has nobody to go to
    result = ceflow("start", "demo_approval", "--data", '{"region_code": "410422"}')
    assert result.returncode == 2
    assert "流程无法继续" in result.stderr and "without an applicant" in result.stderr
    assert "Traceback" not in result.stderr


def _user_id(ceflow, username: str) -> int:
    import sqlite3

    database = ceflow.env["CEFLOW_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT id FROM user_account WHERE username = ?", (username,)).fetchone()[0]


def test_start_as_a_user_whose_role_may_not_start_it_exits_2(ceflow):
    reviewer = _user_id(ceflow, "henan-reviewer")  # an HRSS reviewer: the demo process is the employers'
    result = ceflow(
        "start", "demo_approval", "--as-user", str(reviewer), "--data", '{"subject": "审核员发起"}'
    )
    assert result.returncode == 2 and "您的角色不能发起此流程" in result.stderr


def test_start_and_sweep(ceflow):
    employer_hr = str(_user_id(ceflow, "yexian-hr"))
    result = ceflow("start", "demo_approval", "--as-user", employer_hr, "--data", '{"subject": "命令行发起"}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("started instance ")
    swept = ceflow("sweep")
    assert swept.returncode == 0 and swept.stdout.startswith("claimed 0, fired 0")


def test_run_serves_the_app_and_prints_the_url_and_logins(tmp_path):
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, CEFLOW_DATABASE_URL=f"sqlite:///{tmp_path}/run.db")
    server = subprocess.Popen(
        [str(CEFLOW), "run", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline, page = time.monotonic() + 120, None
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    page = response.read().decode()
            except OSError:
                time.sleep(0.5)
        assert server.poll() is None, server.stdout.read().decode()
        assert page is not None and "csrf_token" in page
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert f"http://127.0.0.1:{port}/" in output and "demo1234" in output and "yexian-reviewer" in output


def test_start_refuses_what_the_pages_refuse_and_exits_2_with_the_reason(ceflow):
    """Finding "text that lies": the CLI bypassed the form limits and gave tracebacks.

    A 120 000-character subject was stored, a 60 000-deep JSON and a huge --as-user id gave
    tracebacks, and `../../etc/passwd` was taken as a process key.
    """
    hr = str(_user_id(ceflow, "yexian-hr"))  # one whose role may start the process
    cases = [
        (["demo_approval", "--as-user", hr, "--data", '{"subject": "%s"}' % ("x" * 120_000)], "最多允许"),
        (["demo_approval", "--as-user", hr, "--data", '{"subject": "%s"}' % ("长" * 300)], "最多允许 255"),
        (
            ["demo_approval", "--as-user", hr, "--data", '{"subject": "报销\\u0000申请"}'],
            "subject: 第 3 个字符",
        ),
        (["demo_approval", "--data", "[" * 60_000 + "]" * 60_000], "最多允许"),
        (["demo_approval", "--data", '{"a": ' * 5_000 + "1" + "}" * 5_000], "嵌套层级超过"),
        (["demo_approval", "--as-user", "99999999999999999999999"], "不存在"),
        (["../../etc/passwd"], "不是有效的流程标识"),
    ]
    for args, reason in cases:
        result = ceflow("start", *args)
        assert result.returncode == 2, (args[:2], result.stderr[-300:])
        assert "Traceback" not in result.stderr and reason in result.stderr, result.stderr[-300:]


def test_an_api_token_is_made_for_institutions_only(ceflow):
    refused = ceflow("institution-token", "999999")
    assert refused.returncode == 2 and "999999" in refused.stderr and "Traceback" not in refused.stderr
