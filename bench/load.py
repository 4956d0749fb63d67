"""Load-test the production server: `python bench/load.py [--size city] [--users 25,50,100] [--workers 2,4]`.

Prepares (or reuses) a province data set in its own PostgreSQL database (bench/load_data.py), starts
`ceflow serve` with N gunicorn workers on a free loopback port against it, and runs locust headless
with the virtual users of bench/load_users.py: reviewers and employer HR signing in with accounts of
their own, opening inboxes (filtered, paged) and task pages, approving, downloading supervision
notices; applicants registering. For every users x workers cell it prints requests/s, p50/p95/p99
and failures per route, then a matrix of all cells; the last line is one JSON object. The exit
status is 1 when any request failed.
"""

import argparse
import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from pathlib import Path
from urllib.error import URLError

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # run as a script: don't let bench/engine.py shadow the engine package

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.load_data import APPLICANT_SERIALS  # noqa: E402
from bench.load_data import PASSWORD  # noqa: E402
from bench.load_data import SIZES  # noqa: E402
from bench.load_data import prepare  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PAGES = ("/tasks (mine)", "/tasks (queue)", "/tasks (filtered)", "/tasks (next page)", "/tasks/[id]")
TARGET_MS = 300  # p95 of the inbox and task pages at 50 users
REDIS = ("127.0.0.1", 6379)


def ensure_database(url: str) -> None:
    """Create the database when the server does not have it yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if found.first() is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(database_url: str, workers: int, log_path: Path):
    """Run `ceflow serve` with the workers until the block ends (also on error); yield its address."""
    port = free_port()
    env = {
        **os.environ,
        "CEFLOW_DATABASE_URL": database_url,
        "CEFLOW_SECRET_KEY": secrets.token_hex(32),
        "CEFLOW_SCHEDULER_EXPECTED": "false",
        # as in production behind one reverse proxy: the rate limits count per client address (each
        # virtual user sends one of its own, see load_users.py), across workers, in Redis when it runs
        "CEFLOW_TRUSTED_PROXIES": "1",
        "CEFLOW_RATELIMIT_STORAGE_URI": rate_limit_storage(),
        "CEFLOW_RATELIMIT_KEY_PREFIX": f"ceflow-load-{secrets.token_hex(4)}",  # a fresh count each server
    }
    command = [str(Path(sys.executable).with_name("ceflow")), "serve", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}"]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    address = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(address, process)
        yield address
    finally:
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: workers finish their request
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rate_limit_storage() -> str:
    """Return Redis on this machine when it answers, else each worker's memory (and say so)."""
    try:
        with socket.create_connection(REDIS, timeout=1):
            return f"redis://{REDIS[0]}:{REDIS[1]}/0"
    except OSError:
        print(f"Redis does not answer at {REDIS[0]}:{REDIS[1]}: rate limits count per worker", flush=True)
        return "memory://"


def _wait_ready(address: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ceflow serve exited with status {process.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{address}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"ceflow serve did not answer /healthz within {seconds:.0f} s")


def run_locust(
    address: str, accounts_file: Path, options, users: int, prefix: Path
) -> tuple[dict, list[dict]]:
    """Run locust headless against the server; return the ramp's figures and the steady per-route rows."""
    ramp_file = Path(f"{prefix}_ramp.json")
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(ROOT / "bench" / "load_users.py")]
    command += ["--headless", "--host", address, "--users", str(users)]
    command += ["--spawn-rate", str(options.spawn_rate), "--stop-timeout", "10", "--loglevel", "WARNING"]
    command += ["--run-time", f"{options.run_time + options.ramp_limit:.0f}s"]  # the bound, ramp included
    command += ["--csv", str(prefix), "--only-summary"]
    env = {**os.environ, "LOAD_ACCOUNTS": str(accounts_file), "LOAD_THINK": options.think}
    env |= {"LOAD_MEASURE": str(options.run_time), "LOAD_RAMP_FILE": str(ramp_file)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    finished = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if not ramp_file.exists() or not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(
            f"locust ended before its steady phase (status {finished.returncode}; ramp limit"
            f" {options.ramp_limit:.0f} s):\n{finished.stderr[-3000:]}"
        )
    ramp = json.loads(ramp_file.read_text(encoding="utf-8"))
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    failures = Path(f"{prefix}_failures.csv")
    for line in [*ramp["errors"], *failures.read_text(encoding="utf-8").splitlines()[1:]]:
        print(f"failure: {line}", file=sys.stderr)
    return ramp, rows


def route_rows(rows: list[dict]) -> list[dict]:
    """Return one dict per route (and the aggregate) with the figures the tables show."""
    return [
        {
            "route": f"{row['Type']} {row['Name']}" if row["Type"] == "REFUSED" else row["Name"],
            "requests": int(row["Request Count"]),
            "rps": float(row["Requests/s"]),
            "p50": _ms(row["50%"]),
            "p95": _ms(row["95%"]),
            "p99": _ms(row["99%"]),
            "failures": int(row["Failure Count"]),
        }
        for row in rows
        if int(row["Request Count"]) or row["Name"] == "Aggregated"  # sign-ins are the ramp's
    ]


def seconds(given: str) -> float:
    """Read a duration: seconds, or with an s or m suffix."""
    given = given.strip().lower()
    return float(given[:-1]) * 60 if given.endswith("m") else float(given.removesuffix("s"))


def _ms(value: str) -> int:
    return int(float(value)) if value not in ("", "N/A") else 0


def print_routes(title: str, routes: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'route':<30} {'requests':>8} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'fail':>5}")
    for r in routes:
        rps = f"{r['rps']:>7.1f}" if "rps" in r else f"{'':>7}"
        print(
            f"{r['route']:<30} {r['requests']:>8} {rps} {r['p50']:>6} {r['p95']:>6} {r['p99']:>6}"
            f" {r['failures']:>5}"
        )


def pages_p95(routes: list[dict]) -> int:
    """Return the worst p95 among the inbox and task pages."""
    return max((r["p95"] for r in routes if r["route"] in PAGES), default=0)


def server_times(log_path: Path, since: datetime, until: datetime) -> list[dict]:
    """Return the server's own time per route (its JSON request log) between two instants.

    Beside locust's figures, which include the wait for a free worker, this is what a request
    costs once a worker has it.
    """
    times: dict[str, list[float]] = {}
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if since <= datetime.fromisoformat(entry["time"]) <= until:
            times.setdefault(f"{entry['method']} {entry['route']}", []).append(entry["duration_ms"])
    return [
        {"route": route, "requests": len(ms), "p50": _percentile(ms, 0.5), "p95": _percentile(ms, 0.95)}
        for route, ms in sorted(times.items())
    ]


def _percentile(values: list[float], share: float) -> int:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))])


def print_server_times(title: str, routes: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'route':<44} {'requests':>8} {'p50':>6} {'p95':>6}")
    for r in routes:
        print(f"{r['route']:<44} {r['requests']:>8} {r['p50']:>6} {r['p95']:>6}")


def print_matrix(cells: dict) -> None:
    print("\nmatrix: total req/s, p95 of inbox and task pages (ms), p95 of all (ms), failures")
    print(f"{'users':>5} {'workers':>7} {'req/s':>7} {'pages p95':>9} {'all p95':>7} {'fail':>5}")
    for (users, workers), routes in sorted(cells.items()):
        total = next(r for r in routes if r["route"] == "Aggregated")
        print(
            f"{users:>5} {workers:>7} {total['rps']:>7.1f} {pages_p95(routes):>9} {total['p95']:>7}"
            f" {total['failures']:>5}"
        )


def run_cell(database: str, size, options, cell: tuple[int, int], address: str, out: Path):
    """Top the tasks up, run locust, print the cell's tables; return its ramp, steady and server figures."""
    users, workers = cell
    accounts = prepare(database, size)  # tops up the tasks the previous cell decided
    accounts_file = out / "accounts.json"
    given = {"password": PASSWORD, "applicant_serials": APPLICANT_SERIALS, "reviewers": accounts.reviewers}
    given |= {"hr": accounts.hr, "employers": accounts.employers}
    accounts_file.write_text(json.dumps(given), encoding="utf-8")
    load = os.getloadavg()
    prefix = out / f"u{users}-w{workers}"
    ramp, rows = run_locust(address, accounts_file, options, users, prefix)
    steady_from = datetime.fromtimestamp(Path(f"{prefix}_ramp.json").stat().st_mtime, UTC)
    served = server_times(out / f"server-{workers}w.log", steady_from, datetime.now(UTC))
    routes = route_rows(rows)
    title = f"{users} users, {workers} workers"
    print_routes(f"{title}: ramp ({ramp['seconds']} s)", ramp["routes"])
    print_routes(f"{title}: steady ({options.run_time:g} s)", routes)
    print_server_times(f"{title}: steady, time in the server (ms)", served)
    print(f"load average before the cell: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    return ramp, routes, served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="city", help="data set size (default city)")
    parser.add_argument("--database", help=f"PostgreSQL URL (default {SERVER}/bench_load_SIZE)")
    parser.add_argument(
        "--users", default="25,50,100", help="comma-separated user counts (default 25,50,100)"
    )
    parser.add_argument(
        "--workers", default="2,4", help="comma-separated gunicorn worker counts (default 2,4)"
    )
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument(
        "--run-time", type=seconds, default=60, help="seconds measured per cell after the ramp (default 60)"
    )
    parser.add_argument(
        "--ramp-limit",
        type=seconds,
        default=300,
        help="seconds the start and sign-ins may take (default 300)",
    )
    parser.add_argument(
        "--think", default="1,3", help="seconds between a user's actions: min,max (default 1,3)"
    )
    parser.add_argument(
        "--out", help="folder for the locust CSV files and server logs (default a temporary one)"
    )
    options = parser.parse_args()
    users_list = [int(u) for u in options.users.split(",")]
    workers_list = [int(w) for w in options.workers.split(",")]
    size = SIZES[options.size]
    if max(users_list) > size.accounts * 10 // 6:  # reviewers take 6 of every 10 users
        parser.error(f"the {options.size} data set has {size.accounts} reviewer accounts: too few users")
    database = options.database or f"{SERVER}/bench_load_{options.size}"
    ensure_database(database)
    out = Path(options.out or tempfile.mkdtemp(prefix="ceflow-load-"))
    out.mkdir(parents=True, exist_ok=True)
    cells, ramps, servers = {}, {}, {}
    for workers in workers_list:
        log_path = out / f"server-{workers}w.log"
        with server(database, workers, log_path) as address:
            for users in users_list:
                cell = (users, workers)
                figures = run_cell(database, size, options, cell, address, out)
                ramps[cell], cells[cell], servers[cell] = figures
    print_matrix(cells)
    failures = sum(r["failures"] for routes in cells.values() for r in routes if r["route"] == "Aggregated")
    failures += sum(
        r["failures"] for ramp in ramps.values() for r in ramp["routes"] if r["route"] == "Aggregated"
    )
    figures = {
        "size": options.size,
        "database": make_url(database).database,
        "files": str(out),
        "failures": failures,
        "cells": {f"{u}u_{w}w": routes for (u, w), routes in sorted(cells.items())},
        "ramps": {f"{u}u_{w}w": ramp for (u, w), ramp in sorted(ramps.items())},
        "server_ms": {f"{u}u_{w}w": served for (u, w), served in sorted(servers.items())},
    }
    print(json.dumps(figures, ensure_ascii=False))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
