"""Bulk rows into one connection, as a restore would: infra.bulk_rows.write_rows with the checks off.

The rows go through the domain's one bulk writer (COPY on PostgreSQL, executemany on SQLite); what
the benchmark adds is a restore's habits: no foreign-key triggers on PostgreSQL, secondary indexes
dropped for the load and built once at the end, statistics gathered after.
"""

from sqlalchemy import Engine
from sqlalchemy import Table

from infra.bulk_rows import write_rows

CHUNK = 20_000  # rows a loader gathers per table before handing them over


class BulkWriter:
    """Bulk rows into one connection: the domain's writer, no foreign-key triggers on PostgreSQL."""

    def __init__(self, conn):
        self.conn = conn
        if conn.dialect.name == "postgresql":  # no foreign-key triggers per row during the load
            conn.exec_driver_sql("SET session_replication_role = replica")

    def rows(self, table: Table, rows) -> None:
        """Insert dicts as insert(table) would, Python-side defaults and all, streamed in order."""
        write_rows(self.conn, table, rows)

    def drop_indexes(self, tables: list[Table]) -> list:
        """Drop the tables' secondary indexes for the load; return them to create again."""
        found = [index for table in tables for index in table.indexes]
        for index in found:
            index.drop(self.conn)
        return found

    def create_indexes(self, indexes: list) -> None:
        """Build indexes, each once over the loaded rows."""
        for index in indexes:
            index.create(self.conn)


def analyze(db: Engine) -> None:
    """PostgreSQL: vacuum and analyze, as autovacuum soon would. SQLite keeps no statistics in CE Flow."""
    if db.dialect.name == "postgresql":
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
