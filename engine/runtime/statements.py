"""Prepared statements: Core statements compiled once per dialect, run on the driver's own cursor.

A command issues a handful of fixed statements (read the task and its instance, close the task,
insert the next one, append the audit row, save the state). Through SQLAlchemy's execute each
costs some 70 us of Python around a 10 us SQLite call; compiled once and run on the DB-API cursor
with SQLAlchemy's own type processors, the same SQL with the same values costs the driver call.
Anything else a command runs still goes through SQLAlchemy, on the same connection and transaction.
"""

import re
from collections.abc import Callable
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import DDL
from sqlalchemy import Column
from sqlalchemy import Connection
from sqlalchemy import DateTime
from sqlalchemy import Table
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

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
PLAIN, GUARDED, COUNTED = 0, 1, 2  # a statement as written, wrapped in the server's check, or RETURNING 1
COMBINED_CACHE_SIZE = 256  # combined statements kept per process: one per shape of a command's writes


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

    __slots__ = ("statement", "_forms", "_effects")

    def __init__(self, statement):
        self.statement = statement
        self._forms: dict[tuple, _Form] = {}
        self._effects: _Effects | None = None

    def form(self, dialect: Dialect, names: tuple[str, ...], shape: int = PLAIN) -> _Form:
        """Return the compiled form for the dialect and parameter names, compiling it once.

        `shape` GUARDED (an UPDATE on PostgreSQL) wraps it so the server fails it unless it changed
        exactly one row; `names` then include GUARD_PARAMETER. COUNTED adds `RETURNING 1`, so that a
        combined statement counts the rows it changed.
        """
        key = (dialect, names, shape)  # the dialect object: its engine's server version shapes the SQL
        found = self._forms.get(key)
        if found is None:
            statement = self.statement
            if shape == GUARDED:
                statement = _guarded(statement, names)
            elif shape == COUNTED:
                statement = statement.returning(literal_column("1"))
            found = self._forms[key] = _compile(statement, dialect, names)
        return found

    @property
    def effects(self) -> "_Effects":
        """Return what the statement writes and reads (a write's table; every table it reads)."""
        if self._effects is None:
            self._effects = _effects_of(self.statement)
        return self._effects


@dataclass(frozen=True)
class _Effects:
    """What a statement does to the tables: what a combined statement must know to keep its meaning."""

    kind: str  # "insert", "update", "delete"; "select" for a read
    target: str | None  # the table written
    reads: frozenset[str]  # the tables whose rows it reads: an UPDATE's or DELETE's own, an INSERT's SELECT's
    keys: frozenset[str]  # the target's columns in a primary key or unique constraint or index
    sets_key: bool  # an UPDATE whose own values (not the caller's) change a key column
    numbered: bool  # the target numbers its rows (an autoincrement key): they must keep their order

    def rekeys(self, names: tuple[str, ...]) -> bool:
        """Say whether the statement, run with these values, may change a key of its target's rows."""
        return self.kind == "update" and (self.sets_key or not self.keys.isdisjoint(names))

    def combines_after(self, written: set[str], deleted: set[str], rekeyed: set[str]) -> bool:
        """Say whether the statement means the same inside one statement with writes done before it.

        In one statement every part sees the rows as they were before it began, and the parts run
        in no set order: a part that reads a table written before it would not see those rows, an
        INSERT after a DELETE (or an UPDATE of a key) of the same table could meet the old key still
        there, and two INSERTs into a numbered table could number their rows the other way round.
        """
        if self.kind == "select" or self.reads & written:
            return False
        if self.kind != "insert":
            return True
        return (
            self.target not in deleted
            and self.target not in rekeyed
            and not (self.numbered and self.target in written)
        )


def _effects_of(statement) -> _Effects:
    if not getattr(statement, "is_dml", False):
        return _Effects("select", None, frozenset(), frozenset(), False, False)
    kind = "insert" if statement.is_insert else "update" if statement.is_update else "delete"
    table = statement.table
    read_from = statement.select if kind == "insert" else statement
    reads = frozenset(_tables(read_from)) if read_from is not None else frozenset()
    keys = {column.name for column in table.primary_key.columns}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.update(column.name for column in constraint.columns)
    for index in table.indexes:
        if index.unique:
            keys.update(column.name for column in index.columns)
    fixed = getattr(statement, "_values", None) or {}  # an UPDATE's .values(...), by column or name
    sets_key = any(getattr(column, "key", column) in keys for column in fixed)
    numbered = table.autoincrement_column is not None
    return _Effects(kind, table.name, reads, frozenset(keys), sets_key, numbered)


def _tables(clause) -> set[str]:
    found = set()
    for element in visitors.iterate(clause):
        if isinstance(element, Table):
            found.add(element.name)
        elif isinstance(element, Column) and isinstance(element.table, Table):
            found.add(element.table.name)
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

    Made `pipelined` (a PostgreSQL write through psycopg), reads are sent at once and writes are
    held until something needs them sent: a read (which must see them), SQLAlchemy, the commit.
    Held writes go as few statements as keep their meaning: consecutive writes are combined into
    one statement of data-modifying CTEs (`WITH m0 AS (UPDATE …), m1 AS (INSERT …) SELECT …`) unless
    a write reads what one before it wrote (`_Effects.combines_after`). The transaction is begun
    only when a write is sent (a read before it sees what it would see inside one, each statement
    taking its own snapshot under READ COMMITTED); when the unit of work owns the BEGIN and its
    writes are one statement at the commit, that statement is sent alone, atomic by itself, with
    no BEGIN or COMMIT at all. Otherwise the BEGIN, the writes and the COMMIT go together and the
    command waits once.

    A write that must change exactly one row (`unless_one`) is checked by the server
    (GUARD_FUNCTION): if it did not, the statement fails and the server skips everything after it,
    the COMMIT too; the error is raised when the answers come, before any error a later statement
    would have met. `settle` (before any SQLAlchemy statement, which reads each answer at once)
    sends what is held and waits for every answer; the next statement starts sending again.
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
        "_held",
        "_begun",
        "_owns_begin",
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
        self._held: list[tuple[Prepared, dict, int | None]] = []  # writes not sent yet, with their check
        self._begun = False  # pipelined: the transaction's BEGIN is sent (or the driver sent its own)
        # in autocommit mode the unit of work begins the transaction, if at all (engine.runtime.transaction)
        self._owns_begin = self._pipelined and bool(getattr(driver, "autocommit", False))

    @property
    def session(self) -> Session:
        """Return the ORM session of this command's transaction, creating it on first use."""
        if self._session is None:
            self._begin_now()  # the session's statements run inside the transaction
            self.settle()  # SQLAlchemy reads each answer at once: none of ours may still be on its way
            self._session = self._open_session()
            if self._pipelined:
                event.listen(self._session.connection(), "before_cursor_execute", self._before_sqlalchemy)
        return self._session

    @property
    def opened_session(self) -> Session | None:
        """Return the session if anything asked for it, else None."""
        return self._session

    def commit(self) -> None:
        """Commit: pipelined, send the held writes (with BEGIN and COMMIT unless one statement) and wait."""
        if not self._pipelined:
            self.driver.commit()
            return
        if not self._owns_begin:  # the driver began the transaction by itself
            self.settle()
            self.driver.commit()
            return
        if not self._begun:  # nothing sent in a transaction yet: reads only, so far
            groups = self._take_groups()
            if len(groups) <= 1:
                for group in groups:
                    self._send_group(group)  # one statement is atomic by itself: one round trip
                return
            self._begin_now()
            for group in groups:
                self._send_group(group)
        else:
            self._send()  # the held writes and the COMMIT go together
            self._send_held()
        self._control("COMMIT")
        self.settle()

    def execute(self, statement, parameters=None):
        """Run any Core statement through SQLAlchemy, in this command's transaction."""
        return self.connection().execute(statement, parameters)

    def connection(self) -> Connection:
        """Return the SQLAlchemy connection of this command's transaction (the session joins it)."""
        return self.session.connection()

    def run(self, prepared: Prepared, values: dict, *, unless_one: Exception | None = None) -> None:
        """Run a prepared statement; with `unless_one`, raise that error unless it changed exactly one row.

        Pipelined, the write is held and the server checks the row count: the error is raised when
        the answer comes, at the next read or at the commit, before anything is committed. The
        values are read when the write is sent: a caller hands over a dict it no longer changes.
        """
        if self._pipelined:
            guard = None
            if unless_one is not None:
                self._guards.append(unless_one)
                guard = len(self._guards) - 1
            self._held.append((prepared, values, guard))
            return
        cursor, _form = self._cursor(prepared, values)
        if unless_one is not None and cursor.rowcount != 1:
            raise unless_one

    def run_many(self, prepared: Prepared, rows: Iterable[dict]) -> None:
        """Run a prepared statement once per row of values (all rows name the same values)."""
        if self._pipelined:
            self._held.extend((prepared, row, None) for row in rows)
            return
        rows = list(rows)
        if not rows:
            return
        form = prepared.form(self.dialect, tuple(rows[0]))
        parameters = [form.parameters(row) for row in rows]
        try:
            self.driver.cursor().executemany(form.sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._failed(error, form, parameters) from error

    def first(self, prepared: Prepared, values: dict) -> tuple | None:
        """Return the first row a prepared statement finds (or returns), or None."""
        cursor, form = self._read(prepared, values)
        return form.row(self._answer(cursor.fetchone, form))

    def all(self, prepared: Prepared, values: dict) -> list[tuple]:
        """Return every row a prepared statement finds."""
        cursor, form = self._read(prepared, values)
        return [form.row(found) for found in self._answer(cursor.fetchall, form)]

    def scalar(self, prepared: Prepared, values: dict):
        """Return the first column of the one row a prepared statement returns (an inserted id)."""
        return self.first(prepared, values)[0]

    def settle(self) -> None:
        """Send the held writes, wait for the answer to every statement sent and leave pipeline mode.

        Raises what went wrong.
        """
        self._send_held()
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

    def _begin_now(self) -> None:
        """Pipelined: queue the transaction's BEGIN unless it is sent (or the driver begins by itself)."""
        if self._pipelined and not self._begun:
            self._begun = True
            if self._owns_begin:
                self._send()
                self._control("BEGIN")

    def _read(self, prepared: Prepared, values: dict):
        """Send a statement whose answer is read: after the held writes, which it must see.

        A read with nothing held before it goes on its own, outside pipeline mode: psycopg answers
        one statement sent and read at once with less work than one sent in a pipeline.
        """
        if self._pipelined and (self._held or prepared.effects.kind != "select"):
            self._begin_now()  # a write with an answer (an inserted id) belongs to the transaction
            self._send_held()
        return self._cursor(prepared, values)

    def _send_held(self) -> None:
        """Send the held writes inside the transaction, as few statements as keep their meaning."""
        if self._held:
            self._begin_now()
            groups = self._take_groups()
            if len(groups) > 1:
                self._send()
            for group in groups:
                self._send_group(group)

    def _take_groups(self) -> list[list[tuple[Prepared, dict, int | None]]]:
        """Split the held writes into runs that each keep their meaning as one statement; forget them."""
        held, self._held = self._held, []
        groups: list[list] = []
        written: set[str] = set()
        deleted: set[str] = set()
        rekeyed: set[str] = set()
        for member in held:
            effects = member[0].effects
            if not groups or not effects.combines_after(written, deleted, rekeyed):
                groups.append([])
                written, deleted, rekeyed = set(), set(), set()
            groups[-1].append(member)
            written.add(effects.target)
            if effects.kind == "delete":
                deleted.add(effects.target)
            elif effects.rekeys(tuple(member[1])):
                rekeyed.add(effects.target)
        return groups

    def _send_group(self, group: list[tuple[Prepared, dict, int | None]]) -> None:
        """Send one run of held writes: alone as it is, or combined into one statement."""
        if len(group) == 1:
            prepared, values, guard = group[0]
            if guard is None:
                self._cursor(prepared, values)
            else:
                self._cursor(prepared, {**values, GUARD_PARAMETER: guard}, GUARDED)
            return
        sql, members = _combined(self.dialect, group)
        parameters = {}
        for (prefix, form), (_prepared, values, guard) in zip(members, group, strict=True):
            for name, value in form.parameters(values).items():
                parameters[prefix + name] = value
            if guard is not None:
                parameters[prefix + GUARD_PARAMETER] = guard
        try:
            self._statement_cursor().execute(sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._failed(error, None, parameters) from error

    def abandon(self, failure: BaseException) -> None:
        """Leave pipeline mode after a failure, ignoring the answers: the transaction is rolled back."""
        self._guards.clear()
        self._held.clear()
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

    def _cursor(self, prepared: Prepared, values: dict, shape: int = PLAIN):
        form = prepared.form(self._dialect or self.dialect, tuple(values), shape)
        cursor = self._statement_cursor()
        parameters = form.parameters(values)
        try:
            cursor.execute(form.sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._failed(error, form, parameters) from error
        return cursor, form

    def _control(self, sql: str) -> None:
        """Send BEGIN or COMMIT. In pipeline mode an earlier statement's error may arrive meanwhile."""
        try:
            self.driver.cursor().execute(sql)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._failed(error, None, None) from error

    def _statement_cursor(self):
        """Return the cursor for the next statement: one of its own in pipeline mode, else the one reused."""
        if self._pipeline is not None:
            return self.driver.cursor()  # an answer may arrive while a later statement is sent: one each
        if self._reused is None:
            self._reused = self.driver.cursor()
        return self._reused

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


_COMBINED: dict[tuple, tuple[str, tuple[tuple[str, _Form], ...]]] = {}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _combined(dialect: Dialect, group) -> tuple[str, tuple[tuple[str, _Form], ...]]:
    """Return one statement doing a run of writes, and each write's parameter prefix and form.

    `WITH m0 AS (UPDATE … RETURNING 1), m1 AS (INSERT …) SELECT ceflow_one_row((SELECT count(*)
    FROM m0), %(m0_ceflow_guard)s)`: every part runs, once, whatever the final SELECT reads; a
    checked write counts its rows there. Built once per shape (which statements, with which values
    named, which checked) and kept, so psycopg prepares it like any statement it sees often.
    """
    key = (dialect, tuple((prepared, tuple(values), guard is not None) for prepared, values, guard in group))
    found = _COMBINED.get(key)
    if found is not None:
        return found
    parts, checks, members = [], [], []
    for number, (prepared, values, guard) in enumerate(group):
        prefix = f"m{number}_"
        form = prepared.form(dialect, tuple(values), shape=COUNTED if guard is not None else PLAIN)
        if form.positional:
            raise ValueError("a combined statement needs named parameters")
        renamed = _PLACEHOLDER.sub(lambda found, p=prefix: f"%({p}{found.group(1)})s", form.sql)
        parts.append(f"m{number} AS ({renamed})")
        if guard is not None:
            checks.append(f"ceflow_one_row((SELECT count(*) FROM m{number}), %({prefix}{GUARD_PARAMETER})s)")
        members.append((prefix, form))
    sql = f"WITH {', '.join(parts)} SELECT {', '.join(checks) or '1'}"
    if len(_COMBINED) >= COMBINED_CACHE_SIZE:
        _COMBINED.clear()
    found = _COMBINED[key] = (sql, tuple(members))
    return found


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
