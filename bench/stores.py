"""The databases the benchmark runs CE Flow on, each fresh, and the runtime bootstrapped over one."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

import schema  # noqa: F401  (registers every table on Base.metadata)
from bench.approval import CANDIDATE_RULE
from bench.approval import DIAGRAM
from bench.approval import FORM_KEY
from bench.approval import SOURCE_NAME
from bench.approval import one_group
from domain.base import Base
from engine.runtime import Runtime
from engine.runtime import bootstrap
from engine.runtime.definitions import deploy
from infra.database import make_engine

# BENCH_POSTGRES_URL (or --database-url) points a benchmark at a database of its own, away from a test run's
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POSTGRES_SCHEMA = "bench"  # the test suite uses database `test` too: keep to a schema of our own


class StoreUnavailable(Exception):
    """The store cannot be reached; the benchmark skips it and says why."""


@contextmanager
def fresh_database(
    store: str, postgres_url: str = POSTGRES_URL, synchronous_commit: str | None = None
) -> Iterator[Engine]:
    """Yield an engine over an empty database of the store with CE Flow's tables created.

    `synchronous_commit` (on, off) sets PostgreSQL's for the benchmark's connections; None keeps the server's.
    """
    with _sqlite() if store == "sqlite" else _postgres(postgres_url, synchronous_commit) as db:
        Base.metadata.create_all(db)
        try:
            yield db
        finally:
            db.dispose()


@contextmanager
def _sqlite() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="ceflow-bench-") as folder:
        yield make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")


@contextmanager
def _postgres(url: str, synchronous_commit: str | None) -> Iterator[Engine]:
    _recreate_schema(url, f"CREATE SCHEMA {POSTGRES_SCHEMA}")
    try:
        yield postgres_engine(url, synchronous_commit)
    finally:
        _recreate_schema(url, None)


def postgres_engine(url: str, synchronous_commit: str | None = None) -> Engine:
    """Return an engine over the benchmark's schema of the PostgreSQL database (another process's too)."""
    options = f"-csearch_path={POSTGRES_SCHEMA}"
    if synchronous_commit is not None:
        options += f" -csynchronous_commit={synchronous_commit}"
    return make_engine(url, connect_args={"options": options})


def _recreate_schema(url: str, create: str | None) -> None:
    """Drop the benchmark schema with everything in it, then run `create` if given."""
    admin = create_engine(url, connect_args={"connect_timeout": 3}, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
            if create:
                conn.execute(text(create))
    except OperationalError as error:
        reason = " ".join(str(error.orig).split())
        raise StoreUnavailable(f"PostgreSQL at {url} is unreachable: {reason}") from error
    finally:
        admin.dispose()


def describe(db: Engine) -> str:
    """Return the settings that matter for write throughput, for the human-readable lines."""
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            return f"SQLite file, journal_mode={mode}, synchronous={sync}"
        version = conn.exec_driver_sql("SHOW server_version").scalar()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        path = conn.exec_driver_sql("SHOW search_path").scalar()
        return f"PostgreSQL {version}, synchronous_commit={sync}, search_path={path}"


def make_runtime(db: Engine, deploy_diagram: bool = True) -> Runtime:
    """Bootstrap a runtime over the database with the benchmark's registries and deploy its diagram.

    A worker process passes `deploy_diagram=False`: the parent deployed it once, for every worker.
    """
    rt = bootstrap(
        sessionmaker(bind=db, expire_on_commit=False),
        operations={},
        form_keys={FORM_KEY},
        candidate_rules={CANDIDATE_RULE: one_group},
    )
    if deploy_diagram:
        deploy(rt, DIAGRAM, SOURCE_NAME, "bench")
    return rt


class ServerClock:
    """The CPU time of every process of a PostgreSQL server running on this machine, read from /proc.

    One connection alternates with its server (it sends, then waits for the answer), so its wall
    time is at least its own CPU time plus the server's: this reads the second. None of it is known
    for a server elsewhere (or /proc unreadable): `seconds` is then None.
    """

    def __init__(self, db: Engine):
        self.postmaster: int | None = None
        if db.dialect.name != "postgresql" or db.url.host not in ("127.0.0.1", "localhost", "::1", None):
            return
        with db.connect() as conn:
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        found = _stat(backend)
        self.postmaster = int(found[1]) if found else None

    def seconds(self) -> float | None:
        """Return the CPU seconds the server's processes (the postmaster's and its children's) used so far."""
        if self.postmaster is None:
            return None
        ticks = 0
        for entry in Path("/proc").iterdir():
            fields = _stat(int(entry.name)) if entry.name.isdigit() else None
            if fields and self.postmaster in (int(entry.name), int(fields[1])):
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """Return a process's /proc stat fields after its name (state, parent, …), or None once it is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
