"""Bulk rows into one connection, as a restore would: executemany on SQLite, COPY on PostgreSQL."""

from sqlalchemy import Engine
from sqlalchemy import Table

CHUNK = 20_000


class BulkWriter:
    """Bulk rows into one connection: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, conn):
        self.conn = conn
        self.dialect = conn.dialect
        self.driver = conn.connection.driver_connection
        if self.dialect.name == "postgresql":  # no foreign-key triggers per row during the load
            conn.exec_driver_sql("SET session_replication_role = replica")

    def rows(self, table: Table, rows) -> None:
        """Insert dicts, chunk by chunk; each chunk's keys are those of its first row."""
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                self._write(table, chunk)
                chunk = []
        if chunk:
            self._write(table, chunk)

    def _write(self, table: Table, chunk: list[dict]) -> None:
        names = list(chunk[0])
        if self.dialect.name == "postgresql":
            with self.driver.cursor() as cursor, cursor.copy(_copy_sql(table, names)) as copy:
                for row in chunk:
                    copy.write_row([row[n] for n in names])
            return
        processors = [table.c[n].type.dialect_impl(self.dialect).bind_processor(self.dialect) for n in names]
        values = [
            [p(row[n]) if p else row[n] for n, p in zip(names, processors, strict=True)] for row in chunk
        ]
        marks = ", ".join("?" * len(names))
        self.driver.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", values)

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

    def analyze(self, db: Engine) -> None:
        """PostgreSQL: vacuum and analyze, as autovacuum soon would. SQLite keeps no statistics in CE Flow."""
        if db.dialect.name == "postgresql":
            with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")


def _copy_sql(table: Table, names: list[str]) -> str:
    return f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
