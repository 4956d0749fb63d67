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

# BENCH_POSTGRES_URL points the benchmark at a database of its own, away from a test run's
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POSTGRES_SCHEMA = "bench"  # the test suite uses database `test` too: keep to a schema of our own


class StoreUnavailable(Exception):
    """The store cannot be reached; the benchmark skips it and says why."""


@contextmanager
def fresh_database(store: str) -> Iterator[Engine]:
    """Yield an engine over an empty database of the store with CE Flow's tables created."""
    opener = {"sqlite": _sqlite, "postgres": _postgres}[store]
    with opener() as db:
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
def _postgres() -> Iterator[Engine]:
    _recreate_schema(f"CREATE SCHEMA {POSTGRES_SCHEMA}")
    try:
        yield make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={POSTGRES_SCHEMA}"})
    finally:
        _recreate_schema(None)


def _recreate_schema(create: str | None) -> None:
    """Drop the benchmark schema with everything in it, then run `create` if given."""
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3}, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
            if create:
                conn.execute(text(create))
    except OperationalError as error:
        reason = " ".join(str(error.orig).split())
        raise StoreUnavailable(f"PostgreSQL at {POSTGRES_URL} is unreachable: {reason}") from error
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


def make_runtime(db: Engine) -> Runtime:
    """Bootstrap a runtime over the database with the benchmark's registries and deploy its diagram."""
    rt = bootstrap(
        sessionmaker(bind=db, expire_on_commit=False),
        operations={},
        form_keys={FORM_KEY},
        candidate_rules={CANDIDATE_RULE: one_group},
    )
    deploy(rt, DIAGRAM, SOURCE_NAME, "bench")
    return rt
