"""Writing generated rows in bulk: primary keys handed out here, Core inserts in chunks.

The population generator (domain.population) decides what the rows say; this module stores them fast
and keeps the counters (ID-number serials, certificate sequences) that must see rows not yet written.
"""

from collections.abc import Iterable

from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Session

from domain.accounts import User
from domain.certificates import CertificateNumber
from domain.certificates import NumberRange
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
    """Buffers rows per table and writes them with executemany in dependency order."""

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

    def last(self, model) -> dict:
        """Return the row of the model's table buffered last."""
        return self.rows[model][-1]

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
        for model in self.ORDER:
            if self.rows[model]:
                self.session.execute(insert(model), self.rows[model])
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
