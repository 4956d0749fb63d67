"""Build the inbox data set on each store, time every page three ways, print lines, then the JSON figures."""

import argparse
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy import MetaData
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from bench.common import print_result
from bench.common import rounded
from bench.inbox_data import build
from bench.inbox_pages import PAGE
from bench.inbox_pages import PAGES
from bench.inbox_pages import BareRunner
from bench.inbox_pages import Case
from bench.inbox_pages import make_cases
from bench.inbox_world import QUICK_PLAN
from bench.inbox_world import Plan
from bench.stores import StoreUnavailable
from bench.stores import fresh_database
from domain.base import Base
from engine.inbox.queries import CAP
from engine.runtime.models import HumanTaskCandidate
from infra.database import make_engine
from webapp.app import create_app

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ceflow_bench_inbox"
POSTGRES_ENV = "CEFLOW_BENCH_INBOX_POSTGRES_URL"
FULL_REPEATS, QUICK_REPEATS = 200, 10
WARMUP = 5
LAYERS = ("app", "engine", "bare")
TARGETS_MS = {"first_page": 20.0, "queue_page": 20.0, "counts": 10.0}


def options() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description="Time the approvers' inbox over a province of open tasks.")
    parser.add_argument("--quick", action="store_true", help="20 000 tasks over 2 000 users (under 30 s)")
    parser.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--tasks", type=int, help="open tasks (default 1 000 000; --quick 20 000)")
    parser.add_argument("--repeats", type=int, help=f"timed requests per page and layer ({FULL_REPEATS})")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_ENV, POSTGRES_URL),
        help=f"a private database the run empties (default ${POSTGRES_ENV} or {POSTGRES_URL})",
    )
    found = parser.parse_args()
    found.plan = QUICK_PLAN if found.quick else Plan()
    if found.tasks:
        scale = found.tasks / found.plan.open_tasks
        found.plan = Plan(
            cities=found.plan.cities,
            users=max(2_000, int(found.plan.users * min(1, scale * 10))),
            open_tasks=found.tasks,
            done_tasks=int(found.plan.done_tasks * scale),
            copies=int(found.plan.copies * scale),
        )
    found.repeats = found.repeats or (QUICK_REPEATS if found.quick else FULL_REPEATS)
    return found


def run() -> None:
    """Run each store and print the figures, the JSON object last."""
    opts = options()
    started = time.perf_counter()
    result: dict = {"quick": opts.quick, "load_average_1m": rounded(os.getloadavg()[0])}
    for store in (s.strip() for s in opts.stores.split(",") if s.strip()):
        try:
            with open_store(store, opts.postgres_url) as (db, url):
                result[store] = measure(store, db, url, opts)
        except StoreUnavailable as error:
            print(f"{store}: skipped: {error}", flush=True)
            result[store] = {"skipped": str(error)}
    result["targets_met"] = _judge(result)
    result["wall_s"] = rounded(time.perf_counter() - started, 1)
    print_result(result)


@contextmanager
def open_store(store: str, postgres_url: str) -> Iterator[tuple[Engine, str]]:
    """Yield an engine over an empty database of the store with every table created, and its URL."""
    if store == "sqlite":
        with fresh_database("sqlite") as db:
            yield db, db.url.render_as_string(hide_password=False)
        return
    db = make_engine(postgres_url, connect_args={"connect_timeout": 3})
    try:
        _create_database_if_missing(postgres_url)
        present = MetaData()
        present.reflect(db)
        present.drop_all(db)
    except OperationalError as error:
        db.dispose()
        reason = " ".join(str(error.orig).split())
        raise StoreUnavailable(f"PostgreSQL at {postgres_url} is unreachable: {reason}") from error
    Base.metadata.create_all(db)
    try:
        yield db, postgres_url
    finally:
        db.dispose()


def _create_database_if_missing(url: str) -> None:
    """Create the run's private database on a server that does not have it yet (a fresh machine)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            known = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not known:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def measure(store: str, db: Engine, url: str, opts) -> dict:
    """Build the data set, then time every page through the app, the engine and the bare SQL."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    world = build(db, opts.plan, now)
    build_s = time.perf_counter() - started
    factory = sessionmaker(bind=db)
    with factory() as session:
        queue_rows = session.scalar(select(func.count()).select_from(HumanTaskCandidate))
        cases = make_cases(session, world, opts.repeats, now)
    print(f"{store}: built {world.tasks} open tasks, {world.users} users in {build_s:.1f} s", flush=True)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "SEED_BPMN": False, "SCHEDULER_ENABLED": False}
    )
    bare = BareRunner(db)
    try:
        _check_same_rows(cases, factory, bare)
        timings = {page: _time_page(cases[page], app, factory, bare, opts.repeats) for page in PAGES}
    finally:
        bare.close()
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    figures = {
        "tasks": world.tasks,
        "users": world.users,
        "queue_rows": queue_rows,
        "build_s": rounded(build_s, 1),
    }
    for page in PAGES:
        figures |= _page_figures(page, timings[page])
        print(
            f"{store}: {page}: median {figures[f'{page}_median_ms']} ms through the app "
            f"(p95 {figures[f'{page}_p95_ms']}), {figures[f'{page}_engine_median_ms']} ms engine, "
            f"{figures[f'{page}_bare_median_ms']} ms bare SQL; ratio {figures[f'{page}_ratio']}",
            flush=True,
        )
    return figures


def _check_same_rows(cases: dict, factory, bare: BareRunner) -> None:
    """Fail loudly unless the bare SQL returns the page the engine returns."""
    now = datetime.now(UTC)
    for page, found in cases.items():
        for case in found[:3]:
            with factory() as session:
                answer = case.run_engine(session, now)
            rows = bare.run(*case.bare(now))
            if page == "counts":
                expected = tuple(answer.values())
                got = tuple(min(v, CAP + 1) for v in rows[0])
            else:
                expected = tuple(item.id for item in answer.items)
                got = tuple(row[0] for row in rows[:PAGE])
            if expected != got:
                raise RuntimeError(f"{page}: the bare SQL found {got}, the engine {expected}")


def _time_page(cases: list[Case], app, factory, bare: BareRunner, repeats: int) -> dict[str, list[float]]:
    """Time `repeats` requests of a page in each layer, round the users, layers in turn first."""
    client = app.test_client()
    runs = {
        "app": lambda case, now: _app_get(client, case),
        "engine": lambda case, now: _engine_call(factory, case, now),
        "bare": lambda case, now: bare.run(*case.bare(now)),
    }
    found: dict[str, list[float]] = {layer: [] for layer in LAYERS}
    signed_in, ident = None, _session_identifier(app, client)
    for n in range(-WARMUP, repeats):
        case = cases[n % len(cases)]
        if case.actor.id != signed_in:
            with client.session_transaction() as browser:  # what login_user leaves in the session
                browser.update(_user_id=str(case.actor.id), _fresh=True, _id=ident)
            signed_in = case.actor.id
        for k in range(len(LAYERS)):
            layer = LAYERS[(n + k) % len(LAYERS)]
            now = datetime.now(UTC)
            began = time.perf_counter()
            runs[layer](case, now)
            if n >= 0:
                found[layer].append((time.perf_counter() - began) * 1000)
    return found


def _session_identifier(app, client) -> str:
    """Return the identifier Flask-Login keeps in a session signed in from this client's address."""
    with app.test_request_context(environ_base=client.environ_base):
        return app.login_manager._session_identifier_generator()


def _app_get(client, case: Case) -> None:
    response = client.get(case.url())
    if response.status_code != 200:
        raise RuntimeError(f"{case.url()} answered {response.status_code}: {response.get_data(as_text=True)}")


def _engine_call(factory, case: Case, now: datetime) -> None:
    with factory() as session:
        case.run_engine(session, now)


def _page_figures(page: str, timings: dict[str, list[float]]) -> dict:
    figures = {}
    for layer in LAYERS:
        name = page if layer == "app" else f"{page}_{layer}"
        figures[f"{name}_median_ms"] = rounded(statistics.median(timings[layer]), 3)
        figures[f"{name}_p95_ms"] = rounded(_p95(timings[layer]), 3)
    bare = figures[f"{page}_bare_median_ms"] or 1e-9
    figures[f"{page}_ratio"] = rounded(figures[f"{page}_median_ms"] / bare, 2)
    figures[f"{page}_engine_ratio"] = rounded(figures[f"{page}_engine_median_ms"] / bare, 2)
    return figures


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _judge(result: dict) -> bool:
    """Say whether every measured store meets the issue's targets (medians through the app)."""
    checks = []
    for store in ("sqlite", "postgres"):
        figures = result.get(store, {})
        if "skipped" in figures or not figures:
            continue
        for page, limit in TARGETS_MS.items():
            met = figures[f"{page}_median_ms"] < limit
            checks.append(met)
            verdict = "met" if met else "NOT met"
            print(f"{store}: {page} median {figures[f'{page}_median_ms']} ms < {limit} ms: {verdict}")
    return bool(checks) and all(checks)
