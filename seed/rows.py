"""Buffered population rows: primary keys handed out ahead, counters that see rows not yet written.

The population generator adds rows here; they are written in dependency order by infra's `write_rows`.
"""

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import User
from domain.certificates.records import CertificateNumber
from domain.certificates.records import NumberRange
from domain.organisations.records import Organisation
from domain.persons.records import Person
from infra.bulk_rows import CHUNK
from infra.bulk_rows import write_rows


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
