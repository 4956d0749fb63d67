"""The runtime: the engine's collaborators, handed over once by the app factory (bootstrap)."""

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.runtime.statements import DRIVER_KEY
from engine.runtime.statements import Database
from engine.runtime.statements import can_pipeline
from infra.clock import Clock
from infra.clock import system_clock
from infra.database import begin_transaction


@dataclass(frozen=True)
class Candidates:
    """Who may work a task: group principals and user ids."""

    groups: tuple[str, ...] = ()
    users: tuple[int, ...] = ()

    def principals(self) -> list[str]:
        """Return every principal, users first."""
        return [f"u:{u}" for u in self.users] + list(self.groups)


CandidateRule = Callable[[Session, dict, int], tuple[tuple[str, ...], tuple[int, ...]]]
Operation = Callable[..., dict | None]


@dataclass
class Runtime:
    """What every engine command needs: the database, the registries, the clock, the spec cache."""

    session_factory: sessionmaker
    operations: Mapping[str, Operation]
    form_keys: frozenset[str]
    candidate_rules: Mapping[str, CandidateRule]
    clock: Clock = system_clock
    script_functions: Mapping[str, Callable] = field(default_factory=dict)
    end_hooks: Mapping[str, Callable] = field(default_factory=dict)
    spec_cache: dict = field(default_factory=dict)
    calendar: object | None = None
    node_name: str = "ceflow"

    @property
    def engine(self) -> Engine:
        """Return the engine the session factory is bound to."""
        return self.session_factory.kw["bind"]


def bootstrap(
    session_factory: sessionmaker,
    *,
    operations: Mapping[str, Operation],
    form_keys,
    candidate_rules: Mapping[str, CandidateRule],
    clock: Clock = system_clock,
    script_functions: Mapping[str, Callable] | None = None,
    end_hooks: Mapping[str, Callable] | None = None,
    node_name: str = "ceflow",
) -> Runtime:
    """Build the runtime from the collaborators the application chose."""
    return Runtime(
        session_factory=session_factory,
        operations=dict(operations),
        form_keys=frozenset(form_keys),
        candidate_rules=dict(candidate_rules),
        clock=clock,
        script_functions=dict(script_functions or {}),
        end_hooks=dict(end_hooks or {}),
        node_name=node_name,
    )


@contextmanager
def unit_of_work(rt: Runtime, write: bool = True) -> Iterator[Session]:
    """Open one transaction and commit it at the end; the only place the engine commits."""
    with transaction(rt, write) as db:
        yield db.session


@contextmanager
def transaction(rt: Runtime, write: bool = True) -> Iterator[Database]:
    """Open one transaction on a pooled connection and commit it at the end; the ORM joins only if asked.

    The transaction starts on the connection's driver, so a command that only runs the engine's
    prepared statements never pays for a SQLAlchemy Connection, a Session, or their bookkeeping.
    The first time anything asks for `db.session`, a Connection is made over the same pooled
    connection and a session bound to it; the session joins by beginning the transaction (the BEGIN
    is already issued) and then owns it, so it commits and runs its after_commit hooks (domain code
    sends mail there once the notices it wrote are committed) exactly as a plain session would.

    On PostgreSQL through psycopg the driver is put in autocommit mode for the unit of work, so it
    never waits for a BEGIN of its own: a write begins only when its writes are sent, with them, and
    sends no BEGIN or COMMIT at all when they are one statement (Database, pipelined); a read runs
    each statement on its own, which under READ COMMITTED sees what the same statements inside one
    transaction would (each takes its own snapshot there too).
    """
    checkout = _Checkout(rt, write)
    dialect = rt.engine.dialect
    try:
        begin_transaction(checkout.driver, dialect.name, write)
        pipelined = write and can_pipeline(dialect)
        if pipelined or (not write and dialect.driver == "psycopg"):
            checkout.own_begin()
        db = Database(
            driver=checkout.driver, dialect=dialect, open_session=checkout.open_session, pipelined=pipelined
        )
        try:
            yield db
            session = db.opened_session
            if session is not None and _session_used(session):
                db.settle()
                session.commit()
            else:
                db.commit()
        except BaseException as failure:
            db.abandon(failure)
            if db.opened_session is not None:
                db.opened_session.rollback()
            checkout.driver.rollback()
            raise
        finally:
            if db.opened_session is not None:
                db.opened_session.close()
    finally:
        checkout.give_back()


class _Checkout:
    """One unit of work's pooled connection, with a SQLAlchemy Connection and Session made on demand."""

    def __init__(self, rt: Runtime, write: bool):
        self.rt = rt
        self.write = write
        self.pooled = rt.engine.raw_connection()
        self.driver = self.pooled.driver_connection
        self.connection: Connection | None = None
        self.owns_begin = False

    def own_begin(self) -> None:
        """Put the driver in autocommit mode: it sends no BEGIN; the unit of work begins, if at all."""
        self.driver.autocommit = True
        self.owns_begin = True

    def open_session(self) -> Session:
        """Make a Connection over the pooled one and a session bound to it."""
        self.connection = Connection(self.rt.engine, self.pooled)
        self.connection.execution_options(ceflow_write=self.write)
        session = self.rt.session_factory(bind=self.connection)
        session.info[DRIVER_KEY] = (self.driver, self.connection.dialect)
        return session

    def give_back(self) -> None:
        """Return the connection to the pool, which resets it (closing the Connection does so too)."""
        try:
            if self.owns_begin:
                self.driver.rollback()  # nothing left open, whatever happened: autocommit needs it idle
                self.driver.autocommit = False
        except self.rt.engine.dialect.loaded_dbapi.Error:
            self.pooled.invalidate()  # a broken connection: the pool opens a new one next time
        (self.connection or self.pooled).close()


def _session_used(session: Session) -> bool:
    """Say whether the session took part: in the transaction, holding new objects, or awaiting the commit."""
    return session.in_transaction() or bool(session.new) or bool(session.dispatch.after_commit)
