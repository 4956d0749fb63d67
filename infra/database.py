"""Engine set-up shared by the web app, the scheduler, the CLI, the benchmarks and the tests."""

from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event


def configure_sqlite(engine: Engine) -> None:
    """Use WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for write transactions on SQLite.

    A write transaction that starts deferred and later upgrades fails at once with 'database is
    locked' when another writer committed in between; starting it IMMEDIATE makes the second
    writer wait and then read the first one's result, so a lost race is reported, not crashed.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        write = connection.get_execution_options().get("ceflow_write", False)
        begin_transaction(connection.connection.driver_connection, "sqlite", write)


def begin_transaction(driver_connection, dialect_name: str, write: bool) -> None:
    """Start a transaction on a DB-API connection unless one is open; IMMEDIATE for writes on SQLite.

    Issued on the driver itself: through SQLAlchemy the BEGIN would cost more than the database
    takes to run it. PostgreSQL's driver begins by itself at the first statement.
    """
    if dialect_name == "sqlite" and not driver_connection.in_transaction:
        driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for a URL with CE Flow's settings for its dialect."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    engine = create_engine(url, **kwargs)
    configure_sqlite(engine)
    return engine
