"""Writing rows in bulk: one writer for every loader, and the sequences to bump afterwards.

`write_rows` stores dicts as `insert(table)` would, only faster: COPY on PostgreSQL, executemany on
SQLite. It knows no table of its own: the population generator (seed.rows) and the benchmarks'
loaders decide which tables and what the rows say.
"""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Column
from sqlalchemy import Connection
from sqlalchemy import Dialect
from sqlalchemy import Table
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

CHUNK = 5000


POPULATION_TABLES = ("organisation", "person", "user_account", "number_range")


def bump_sequences(connection, tables: Iterable[str] = POPULATION_TABLES) -> None:
    """Move PostgreSQL's id sequences past rows written with explicit ids (SQLite needs nothing)."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT max(id) FROM {table}), 1))"
            )
        )


class RowsNotWritable(ValueError):
    """Rows `write_rows` cannot store as insert() would; the message names the column or the database."""


def write_rows(connection: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Store dicts in the table as insert(table) would: COPY on PostgreSQL, executemany on SQLite.

    A column a row leaves out takes its Python-side default (scalar or callable), as insert() gives
    it; every value goes through its column type's bind processor (aware UTC datetimes, JSON, dates
    on SQLite). Consecutive rows with the same keys share one statement and rows keep their order,
    so parents listed before their children stay valid: foreign keys and triggers stay on. The rows
    join the connection's transaction (begun here if none is, as an execute would); the caller commits.
    """
    dialect = connection.dialect
    if (dialect.name, dialect.driver) != ("postgresql", "psycopg") and dialect.name != "sqlite":
        raise RowsNotWritable(f"bulk writes know psycopg and SQLite, not {dialect.name}+{dialect.driver}")
    if not connection.in_transaction():
        connection.begin()
    driver = connection.connection.driver_connection
    dbapi_error = dialect.loaded_dbapi.Error
    for keys, group in groupby(rows, key=_keys):
        names, values = _row_values(table, list(keys), dialect)
        statement = _statement(dialect, table, names)
        try:
            _send(driver, dialect, statement, map(values, group))
        except dbapi_error as error:  # raised as SQLAlchemy's own (IntegrityError...), as insert() would
            raise DBAPIError.instance(statement, None, error, dbapi_error, dialect=dialect) from error


def _keys(row: Mapping[str, Any]):
    return row.keys()  # views compare as sets: the same keys in another order make the same group


def _row_values(table: Table, keys: list[str], dialect: Dialect) -> tuple[list[str], Callable]:
    """Return the column names a group of rows fills and a function from one row to their values."""
    unknown = [key for key in keys if key not in table.c]
    if unknown:
        raise RowsNotWritable(f"table {table.name} has no column {', '.join(map(repr, unknown))}")
    given = [table.c[key] for key in keys]
    defaulted = [c for c in table.columns if c.key not in keys and c.default is not None]
    getters = [_given(c.key, _processor(c, dialect)) for c in given]
    getters += [_default(c, _processor(c, dialect)) for c in defaulted]

    def values(row: Mapping) -> list:
        return [get(row) for get in getters]

    return [c.name for c in given + defaulted], values


def _processor(column: Column, dialect: Dialect) -> Callable | None:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _given(key: str, process: Callable | None) -> Callable[[Mapping], Any]:
    if process is None:
        return itemgetter(key)
    return lambda row: process(row[key])


def _default(column: Column, process: Callable | None) -> Callable[[Mapping], Any]:
    """Return a function giving the column's Python-side default, called per row when it is a callable."""
    default = column.default
    if default.is_scalar:
        value = process(default.arg) if process else default.arg
        return lambda _row: value
    if default.is_callable:  # SQLAlchemy wraps the callable to take an execution context: the row is one
        make = default.arg
        if process is None:
            return lambda row: make(_RowContext(row))
        return lambda row: process(make(_RowContext(row)))
    raise RowsNotWritable(f"column {column} has a SQL-side default: give its value in every row")


class _RowContext:
    """What a context-sensitive default reads of insert()'s execution context: the row's given values."""

    def __init__(self, row: Mapping[str, Any]):
        self._row = row

    def get_current_parameters(self) -> Mapping[str, Any]:
        return self._row


def _statement(dialect: Dialect, table: Table, names: list[str]) -> str:
    quote = dialect.identifier_preparer
    target = f"{quote.format_table(table)} ({', '.join(quote.quote(name) for name in names)})"
    if dialect.name == "postgresql":
        return f"COPY {target} FROM STDIN"
    return f"INSERT INTO {target} VALUES ({', '.join('?' * len(names))})"


def _send(driver, dialect: Dialect, statement: str, rows: Iterable[list]) -> None:
    """Run the statement on the DB-API connection: COPY the rows in, or executemany the INSERT."""
    if dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, rows)
    finally:
        cursor.close()
