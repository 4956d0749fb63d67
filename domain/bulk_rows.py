"""Writing rows in bulk: one writer for every loader, primary keys handed out here, counters kept.

`write_rows` stores dicts as `insert(table)` would, only faster: COPY on PostgreSQL, executemany on
SQLite. The population generator (domain.population) and the benchmarks' loaders decide what the rows
say; this module stores them and keeps the counters (ID-number serials, certificate sequences) that
must see rows not yet written.
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
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.accounts import User
from domain.certificate_records import CertificateNumber
from domain.certificate_records import NumberRange
from domain.organisations import Organisation
from domain.persons import Person

CHUNK = 5000


class RowIds:
    """Hands out primary keys after the current maximum of each table."""

    def __init__(self, session: Session):
        self.next = {
            model: (session.scalar(select(func.max(model.id))) or 0) + 1
            for model in (Organisation, Person, User, NumberRange)
        }

    def take(self, model) -> int:
        """Return the next free primary key of the model's table."""
        value = self.next[model]
        self.next[model] += 1
        return value


class RowWriter:
    """Buffers rows per table and writes them with `write_rows` in dependency order."""

    ORDER = (Organisation, User, NumberRange, Person, CertificateNumber)

    def __init__(self, session: Session):
        self.session = session
        self.rows = {model: [] for model in self.ORDER}
        self.serials: dict[str, int] = {}
        self.sequences: dict[str, int] = {}
        self.range_next: dict[int, dict] = {}
        self.cursor: dict[str, int] = {}

    def add(self, model, **values) -> None:
        """Buffer one row of the model's table."""
        self.rows[model].append(values)
        if model is NumberRange:
            self.range_next[values["id"]] = values

    def serial(self, region: str) -> int:
        """Return the next person serial of a region, counting the persons already stored there."""
        if region not in self.serials:
            self.serials[region] = self.session.scalar(
                select(func.count()).select_from(Person).where(Person.region_code == region)
            )
        self.serials[region] += 1
        return self.serials[region]

    def reserve(self, prefix: str, size: int) -> int:
        """Reserve `size` sequences under a certificate prefix, after the stored ranges; return the first."""
        if prefix not in self.sequences:
            last = self.session.scalar(select(func.max(NumberRange.last)).where(NumberRange.prefix == prefix))
            self.sequences[prefix] = (last or 0) + 1
        first = self.sequences[prefix]
        self.sequences[prefix] += size
        self.cursor[prefix] = first
        return first

    def take_sequence(self, prefix: str) -> int:
        """Return the next sequence of the range reserved last under the prefix."""
        value = self.cursor[prefix]
        self.cursor[prefix] += 1
        return value

    def finish_range(self, range_id: int, used: int) -> None:
        """Record how many numbers of a buffered range were handed out."""
        row = self.range_next[range_id]
        row["next_value"] = row["first"] + used

    def flush_if_full(self) -> None:
        """Write the buffered rows once there are a chunk's worth."""
        if sum(len(rows) for rows in self.rows.values()) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write every buffered row, parents before children."""
        self.session.flush()  # ORM objects still pending may be parents of these rows, as insert() would see
        connection = self.session.connection()
        for model in self.ORDER:
            if self.rows[model]:
                write_rows(connection, model.__table__, self.rows[model])
                self.rows[model] = []
        self.range_next.clear()


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
    if default.is_callable:  # SQLAlchemy wraps the callable to take an execution context; there is none
        make = default.arg
        return (lambda _row: process(make(None))) if process else (lambda _row: make(None))
    raise RowsNotWritable(f"column {column} has a SQL-side default: give its value in every row")


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
