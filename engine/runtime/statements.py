"""Prepared statements: Core statements compiled once per dialect, run on the driver's own cursor.

A command issues a handful of fixed statements (read the task and its instance, close the task,
insert the next one, append the audit row, save the state). Through SQLAlchemy's execute each
costs some 70 us of Python around a 10 us SQLite call; compiled once and run on the DB-API cursor
with SQLAlchemy's own type processors, the same SQL with the same values costs the driver call.
Anything else a command runs still goes through SQLAlchemy, on the same connection and transaction.
"""

from collections.abc import Callable
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import DDL
from sqlalchemy import Connection
from sqlalchemy import DateTime
from sqlalchemy import TypeDecorator
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

DRIVER_KEY = "ceflow.driver"  # session.info entry: the unit of work's DB-API connection and dialect
GIVEN, FIXED, CALLED = 0, 1, 2  # where a bound parameter's value comes from

# A pipelined write that must change exactly one row is checked by the server: sent as
# `WITH changed AS (UPDATE … RETURNING 1) SELECT ceflow_one_row(count(*), n) FROM changed`, it fails
# with GUARD_STATE and the message `n` (which of the command's checks) unless one row changed, so
# the statements after it, the COMMIT among them, are skipped by the server and nothing is kept.
GUARD_STATE = "CF001"
GUARD_PARAMETER = "ceflow_guard"
GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION ceflow_one_row(changed bigint, guard integer) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF changed <> 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'CF001', MESSAGE = guard::text;
    END IF;
    RETURN changed;
END $$
"""
GUARD_FUNCTION_DDL = DDL(GUARD_FUNCTION).execute_if(dialect="postgresql")


@dataclass(frozen=True)
class _Form:
    """A statement compiled for one dialect and one set of parameter names."""

    sql: str
    positional: bool
    # (name, source, value, bind processor); source: GIVEN (the caller's), FIXED (a literal or a scalar
    # default: `value`, already converted) or CALLED (a column default computed per row by calling `value`)
    binds: tuple[tuple[str, int, Any, Callable | None], ...]
    results: tuple[Callable | None, ...] | None  # per column, None when no column needs converting
    # the caller's values as they are, in order, when every parameter is given and needs no converting
    plain: Callable | None

    def parameters(self, values: dict):
        """Return the driver's parameters for the caller's values, converted as SQLAlchemy would."""
        if self.plain is not None:
            return self.plain(values)
        converted = []
        for name, source, fixed, process in self.binds:
            value = values[name] if source == GIVEN else fixed if source == FIXED else fixed(None)
            converted.append(value if process is None else process(value))
        if self.positional:
            return tuple(converted)
        return {name: value for (name, *_), value in zip(self.binds, converted, strict=True)}

    def row(self, found: tuple | None) -> tuple | None:
        """Return a fetched row with its values converted as SQLAlchemy would (text times to datetimes)."""
        if found is None or self.results is None:
            return found
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.results, found, strict=True)
        )


class Prepared:
    """A Core statement, compiled the first time it runs on a dialect with a given set of values."""

    __slots__ = ("statement", "_forms")

    def __init__(self, statement):
        self.statement = statement
        self._forms: dict[tuple, _Form] = {}

    def form(self, dialect: Dialect, names: tuple[str, ...], guarded: bool = False) -> _Form:
        """Return the compiled form for the dialect and parameter names, compiling it once.

        `guarded` (an UPDATE on PostgreSQL) wraps it so the server fails it unless it changed exactly
        one row; `names` then include GUARD_PARAMETER.
        """
        key = (dialect, names, guarded)  # the dialect object: its engine's server version shapes the SQL
        found = self._forms.get(key)
        if found is None:
            statement = _guarded(self.statement, names) if guarded else self.statement
            found = self._forms[key] = _compile(statement, dialect, names)
        return found


def _guarded(statement, names: tuple[str, ...]):
    """Return `statement` (an UPDATE) as a SELECT that fails unless it changed exactly one row."""
    columns = statement.table.c
    setting = {name: bindparam(name) for name in names if name in columns}
    changed = statement.values(setting).returning(literal_column("1")).cte("changed")
    return select(func.ceflow_one_row(func.count(), bindparam(GUARD_PARAMETER))).select_from(changed)


def _compile(statement, dialect: Dialect, names: tuple[str, ...]) -> _Form:
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    expanded = any(bind.expanding or bind.literal_execute for bind in compiled.bind_names)
    if expanded or compiled.escaped_bind_names or getattr(compiled, "update_prefetch", None):
        # IN lists, odd parameter names and onupdate defaults are rendered at execution time
        raise ValueError(f"cannot prepare {statement}: it needs SQLAlchemy's execution to run")
    defaults = {column.key: column.default for column in getattr(compiled, "insert_prefetch", ())}
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    order = compiled.positiontup if compiled.positional else list(dict.fromkeys(by_name))
    binds = []
    for name in order:
        bind, default = by_name[name], defaults.get(name)
        if name in names:
            source, value = GIVEN, None
        elif default is not None:
            source, value = (CALLED, default.arg) if default.is_callable else (FIXED, default.arg)
        elif bind.required:
            raise ValueError(f"cannot prepare {statement}: no value for '{name}'")
        else:
            source, value = FIXED, bind.effective_value
        process = _bind_processor(bind.type, dialect)
        if source == FIXED and process is not None:
            value, process = process(value), None  # a constant: converted once, here
        binds.append((name, source, value, process))
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in statement.exported_columns
    )
    results = processors if any(p is not None for p in processors) else None
    plain = None
    if compiled.positional and all(source == GIVEN and process is None for _, source, _, process in binds):
        getter = itemgetter(*order) if order else None
        plain = (lambda v: (getter(v),)) if len(order) == 1 else getter  # noqa: E731
    return _Form(compiled.string, compiled.positional, tuple(binds), results, plain)


_SHARED_PROCESSORS: dict[tuple, Callable | None] = {}
_NOTHING = object()


def _bind_processor(type_, dialect: Dialect) -> Callable | None:
    """Return the type's bind processor; a time's remembers its last results, shared by every statement.

    A command stamps the same `ctx.now` on many rows (task, audit, queue, state): converting it to
    UTC and to the driver's form once per command instead of once per statement.
    """
    base = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    if not isinstance(base, DateTime):
        return type_.dialect_impl(dialect).bind_processor(dialect)
    key = (dialect, type(type_), repr(type_))
    if key not in _SHARED_PROCESSORS:
        process = type_.dialect_impl(dialect).bind_processor(dialect)
        _SHARED_PROCESSORS[key] = _remembering(process) if process is not None else None
    return _SHARED_PROCESSORS[key]


def _remembering(process: Callable) -> Callable:
    """Wrap a processor of immutable values so the last two values it saw are converted only once."""
    # one tuple replaced whole on each miss: a thread reads either the old pair or the new, never half
    last = [((_NOTHING, None), (_NOTHING, None))]

    def remembered(value):
        if value is None:  # not remembered: a missing time would push out the command's clock reading
            return process(value)
        recent, older = last[0]
        if value is recent[0]:
            return recent[1]
        if value is older[0]:
            return older[1]
        converted = process(value)
        last[0] = ((value, converted), recent)
        return converted

    return remembered


class Database:
    """One command's connection: prepared statements run on its driver, anything else on SQLAlchemy.

    Made over a session, or by the unit of work over its driver with `open_session`: then the ORM
    session is only created when something asks for it (most commands never do).

    Made `pipelined` (a PostgreSQL write through psycopg), the driver sends each statement without
    waiting for its answer: `begin` queues the BEGIN, a command's writes follow, and `commit` queues
    the COMMIT and waits once, so a command that reads one row and writes the rest talks to the
    server twice. A write that must change exactly one row (`unless_one`) is checked by the server
    (GUARD_FUNCTION): if it did not, the server skips everything after it, the COMMIT too, and the
    error is raised when the answers come, before any error a later statement would have met.
    `settle` (before any SQLAlchemy statement, which reads each answer at once) waits for every
    answer sent so far; the next prepared statement starts sending without waiting again.
    """

    __slots__ = (
        "_session",
        "_open_session",
        "_driver",
        "_dialect",
        "_reused",
        "_pipelined",
        "_pipeline",
        "_guards",
    )

    def __init__(
        self,
        session: Session | None = None,
        *,
        driver=None,
        dialect: Dialect | None = None,
        open_session: Callable[[], Session] | None = None,
        pipelined: bool = False,
    ):
        self._session = session
        self._open_session = open_session
        if session is not None:
            # unit_of_work leaves (driver connection, dialect); a session opened elsewhere finds them on use
            driver, dialect = session.info.get(DRIVER_KEY, (None, None))
        self._driver, self._dialect = driver, dialect
        self._reused = None  # one cursor for every statement: each is read out before the next runs
        self._guards: list[Exception] = []  # the error of each server-checked write, by its number
        self._pipelined = pipelined and session is None
        self._pipeline: ExitStack | None = None  # the driver's pipeline mode while in it

    @property
    def session(self) -> Session:
        """Return the ORM session of this command's transaction, creating it on first use."""
        if self._session is None:
            self.settle()  # SQLAlchemy reads each answer at once: none of ours may still be on its way
            self._session = self._open_session()
            if self._pipelined:
                event.listen(self._session.connection(), "before_cursor_execute", self._before_sqlalchemy)
        return self._session

    @property
    def opened_session(self) -> Session | None:
        """Return the session if anything asked for it, else None."""
        return self._session

    def begin(self) -> None:
        """Start the transaction: pipelined, queue its BEGIN to go with the first statement.

        The driver is then in autocommit mode, so it sends no BEGIN of its own: the unit of work
        turns that on before and off after (engine.runtime.transaction).
        """
        if self._pipelined:
            self._send()
            self.driver.cursor().execute("BEGIN")

    def commit(self) -> None:
        """Commit: pipelined, queue the COMMIT behind the writes and wait for every answer at once."""
        if self._pipelined:
            self._send()
            self.driver.cursor().execute("COMMIT")
            self.settle()
        else:
            self.driver.commit()

    def execute(self, statement, parameters=None):
        """Run any Core statement through SQLAlchemy, in this command's transaction."""
        return self.connection().execute(statement, parameters)

    def connection(self) -> Connection:
        """Return the SQLAlchemy connection of this command's transaction (the session joins it)."""
        return self.session.connection()

    def run(self, prepared: Prepared, values: dict, *, unless_one: Exception | None = None) -> None:
        """Run a prepared statement; with `unless_one`, raise that error unless it changed exactly one row.

        Pipelined, the server checks the row count and the error is raised when the answer comes:
        at the next read or at the commit, before anything is committed.
        """
        if not self._pipelined:
            cursor, _form = self._cursor(prepared, values)
            if unless_one is not None and cursor.rowcount != 1:
                raise unless_one
            return
        if unless_one is None:
            self._cursor(prepared, values)
            return
        self._guards.append(unless_one)
        self._cursor(prepared, {**values, GUARD_PARAMETER: len(self._guards) - 1}, guarded=True)

    def run_many(self, prepared: Prepared, rows: Iterable[dict]) -> None:
        """Run a prepared statement once per row of values (all rows name the same values)."""
        rows = list(rows)
        if not rows:
            return
        form = prepared.form(self.dialect, tuple(rows[0]))
        parameters = [form.parameters(row) for row in rows]
        self._send()
        try:
            self.driver.cursor().executemany(form.sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._failed(error, form, parameters) from error

    def first(self, prepared: Prepared, values: dict) -> tuple | None:
        """Return the first row a prepared statement finds (or returns), or None."""
        cursor, form = self._cursor(prepared, values)
        return form.row(self._answer(cursor.fetchone, form))

    def all(self, prepared: Prepared, values: dict) -> list[tuple]:
        """Return every row a prepared statement finds."""
        cursor, form = self._cursor(prepared, values)
        return [form.row(found) for found in self._answer(cursor.fetchall, form)]

    def scalar(self, prepared: Prepared, values: dict):
        """Return the first column of the one row a prepared statement returns (an inserted id)."""
        return self.first(prepared, values)[0]

    def settle(self) -> None:
        """Wait for the answer to every statement sent and leave pipeline mode; raise what went wrong."""
        if self._pipeline is None:
            return
        pipeline, self._pipeline = self._pipeline, None
        self._answer(pipeline.close, None)

    def _before_sqlalchemy(self, *_statement) -> None:
        self.settle()

    def _send(self) -> None:
        """Enter pipeline mode if this connection sends without waiting and is not in it."""
        if self._pipelined and self._pipeline is None:
            self._pipeline = ExitStack()
            self._pipeline.enter_context(self.driver.pipeline())

    def abandon(self, failure: BaseException) -> None:
        """Leave pipeline mode after a failure, ignoring the answers: the transaction is rolled back."""
        self._guards.clear()
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            pipeline.__exit__(type(failure), failure, failure.__traceback__)

    @property
    def driver(self):
        """Return the DB-API connection of this command's transaction."""
        if self._driver is None:  # a session opened outside unit_of_work: its own transaction
            self._driver = self.connection().connection.driver_connection
        return self._driver

    @property
    def dialect(self) -> Dialect:
        """Return the dialect the prepared statements compile for."""
        if self._dialect is None:
            self._dialect = self.session.get_bind().dialect
        return self._dialect

    def _cursor(self, prepared: Prepared, values: dict, guarded: bool = False):
        form = prepared.form(self._dialect or self.dialect, tuple(values), guarded)
        if self._pipelined:
            self._send()
            cursor = self.driver.cursor()  # an answer may arrive while a later statement is sent: one each
        else:
            cursor = self._reused
            if cursor is None:
                cursor = self._reused = self.driver.cursor()
        parameters = form.parameters(values)
        try:
            cursor.execute(form.sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._failed(error, form, parameters) from error
        return cursor, form

    def _answer(self, read: Callable, form: _Form | None):
        """Read answers (pipelined: every answer sent so far)."""
        try:
            return read()
        except self.dialect.loaded_dbapi.Error as error:
            raise self._failed(error, form, None) from error

    def _failed(self, error: Exception, form: _Form | None, parameters) -> Exception:
        """Return the error to raise for a driver error: a server-checked write's own, or SQLAlchemy's.

        Pipelined, the server stops at the first failing statement, so the error is that one's.
        """
        if getattr(error, "sqlstate", None) == GUARD_STATE:
            guards, self._guards = self._guards, []
            return guards[int(error.diag.message_primary)]
        return _wrapped(form, parameters, error, self.dialect)


def can_pipeline(dialect: Dialect) -> bool:
    """Say whether the dialect's driver can send statements without waiting: psycopg, libpq 14 or later."""
    return dialect.driver == "psycopg" and dialect.loaded_dbapi.Pipeline.is_supported()


def _wrapped(form: _Form | None, parameters, error: Exception, dialect: Dialect) -> DBAPIError:
    """Return a driver error as SQLAlchemy raises it (IntegrityError, OperationalError…), for callers.

    Without a form the failing statement is not known: pipelined, it was one sent earlier.
    """
    base = dialect.loaded_dbapi.Error
    sql = form.sql if form is not None else None
    return DBAPIError.instance(sql, parameters, error, base, hide_parameters=True, dialect=dialect)
