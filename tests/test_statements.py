"""Prepared statements: compiled once per dialect, run on the driver's cursor, values as SQLAlchemy's."""

import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.base import UtcDateTime
from engine.runtime import transaction
from engine.runtime.models import OPEN
from engine.runtime.models import HumanTask
from engine.runtime.statements import Database
from engine.runtime.statements import Prepared
from engine.runtime.statements import can_pipeline
from tests.test_round_trips import counted

PROBE = Table(
    "prepared_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("state", String(10), nullable=False, default="open"),
    Column("at", UtcDateTime, nullable=False),
)
AT = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
INSERT = Prepared(insert(PROBE))
BY_NAME = Prepared(select(PROBE.c.id, PROBE.c.state, PROBE.c.at).where(PROBE.c.name == bindparam("name")))
EVERY = Prepared(select(PROBE.c.name).order_by(PROBE.c.id))
CLOSE = Prepared(
    update(PROBE).where(PROBE.c.state == literal_column("'open'"), PROBE.c.at < bindparam("before"))
)
DROP = Prepared(delete(PROBE).where(PROBE.c.name == bindparam("name")))
NOTE = Table(  # a second table: a command's writes to two tables may go as one statement
    "prepared_probe_note",
    PROBE.metadata,
    Column("id", Integer, primary_key=True),
    Column("probe_id", Integer, ForeignKey("prepared_probe.id")),
    Column("text", String(40), nullable=False),
)
NOTE_ON = Prepared(insert(NOTE))
NOTE_ON_NAMED = Prepared(  # reads the probe table: it must see a probe row written just before it
    insert(NOTE).from_select(
        ["probe_id", "text"],
        select(PROBE.c.id, bindparam("text", type_=String)).where(PROBE.c.name == bindparam("name")),
    )
)
NOTES = Prepared(select(NOTE.c.probe_id, NOTE.c.text).order_by(NOTE.c.id))


class LostRace(Exception):
    """What a test expects when a write changed other than one row."""


@pytest.fixture
def db(db_engine):
    """A Database over a session of its own, on the probe table; rolled back at the end."""
    PROBE.create(db_engine)
    try:
        with Session(db_engine) as session:
            yield Database(session)
            session.rollback()
    finally:
        PROBE.drop(db_engine)


def test_a_statement_is_compiled_once_per_dialect_and_set_of_values():
    prepared = Prepared(select(PROBE.c.id).where(PROBE.c.name == bindparam("name")))
    on_sqlite, on_postgres = sqlite.dialect(), postgresql.dialect()
    first = prepared.form(on_sqlite, ("name",))
    assert prepared.form(on_sqlite, ("name",)) is first
    assert prepared.form(on_postgres, ("name",)) is not first
    assert "?" in first.sql and "%(name)s" in prepared.form(on_postgres, ("name",)).sql


def test_inserted_rows_read_back_with_their_defaults_and_aware_times(db):
    db.run(INSERT, {"name": "张三", "at": AT})
    found = db.first(BY_NAME, {"name": "张三"})
    assert found[1:] == ("open", AT) and found[2].tzinfo is not None
    assert db.first(BY_NAME, {"name": "nobody"}) is None


def test_run_many_writes_every_row_and_all_returns_them(db):
    names = [f"p{n}" for n in range(5)]
    db.run_many(INSERT, ({"name": name, "at": AT + timedelta(hours=n)} for n, name in enumerate(names)))
    db.run_many(INSERT, [])  # nothing to write is no statement
    assert [row[0] for row in db.all(EVERY, {})] == names


def test_a_write_that_must_change_one_row_raises_its_error_otherwise(db):
    db.run_many(INSERT, [{"name": f"p{n}", "at": AT + timedelta(hours=n)} for n in range(4)])
    db.run(CLOSE, {"before": AT + timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
    with pytest.raises(LostRace):  # already closed: no row changed
        db.run(CLOSE, {"before": AT + timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
    with pytest.raises(LostRace):  # two rows changed
        db.run(CLOSE, {"before": AT + timedelta(hours=3), "state": "closed"}, unless_one=LostRace())


def test_a_prepared_statement_sees_the_sessions_own_writes(db):
    db.execute(insert(PROBE), {"name": "via core", "at": AT})  # the same connection and transaction
    assert db.first(BY_NAME, {"name": "via core"})[1] == "open"


def test_a_driver_error_is_raised_as_sqlalchemys(db):
    db.run(INSERT, {"name": "once", "at": AT})
    with pytest.raises(IntegrityError):
        db.run(INSERT, {"name": "once", "at": AT})


def test_a_state_in_a_partial_index_condition_stays_a_literal():
    """Partial indexes match only a condition written word for word: the state is no parameter."""
    tasks = HumanTask.__table__
    prepared = Prepared(
        select(tasks.c.id).where(tasks.c.assignee_id == bindparam("actor"), tasks.c.state == OPEN)
    )
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        form = prepared.form(dialect, ("actor",))
        assert "state = 'open'" in form.sql
        assert [name for name, *_ in form.binds] == ["actor"]


def test_a_statement_that_needs_sqlalchemys_execution_is_refused():
    expanding = Prepared(select(PROBE.c.id).where(PROBE.c.name.in_(["a", "b"])))
    with pytest.raises(ValueError, match="cannot prepare"):
        expanding.form(sqlite.dialect(), ())


@pytest.fixture
def pipelined(db_engine):
    """A Database sending without waiting (PostgreSQL through psycopg), on the probe table; rolled back."""
    if not can_pipeline(db_engine.dialect):
        pytest.skip("only psycopg sends statements without waiting for each answer")
    PROBE.create(db_engine)
    pooled = db_engine.raw_connection()
    try:
        db = Database(driver=pooled.driver_connection, dialect=db_engine.dialect, pipelined=True)
        yield db
        db.abandon(RuntimeError("the test is over"))
        pooled.driver_connection.rollback()
    finally:
        pooled.close()
        PROBE.drop(db_engine)


def test_writes_sent_without_waiting_are_read_back_in_order(pipelined):
    pipelined.run(INSERT, {"name": "a", "at": AT})
    pipelined.run_many(INSERT, [{"name": "b", "at": AT}, {"name": "c", "at": AT}])
    pipelined.run(CLOSE, {"before": AT + timedelta(hours=1), "state": "closed"})
    assert [row[0] for row in pipelined.all(EVERY, {})] == ["a", "b", "c"]
    assert pipelined.first(BY_NAME, {"name": "b"})[1] == "closed"


def test_a_lost_race_sent_without_waiting_is_raised_when_settled(pipelined):
    pipelined.run(INSERT, {"name": "a", "at": AT})
    pipelined.run(CLOSE, {"before": AT - timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
    with pytest.raises(LostRace):
        pipelined.settle()


def test_a_lost_race_comes_before_the_error_of_a_later_statement(pipelined):
    pipelined.run(INSERT, {"name": "a", "at": AT})
    pipelined.run(CLOSE, {"before": AT - timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
    pipelined.run(INSERT, {"name": "a", "at": AT})  # the unique name: fails, once the race is lost
    with pytest.raises(LostRace):
        pipelined.settle()


def test_an_error_sent_without_waiting_is_raised_as_sqlalchemys(pipelined):
    pipelined.run(INSERT, {"name": "once", "at": AT})
    pipelined.run(INSERT, {"name": "once", "at": AT})
    with pytest.raises(IntegrityError):
        pipelined.settle()


@pytest.fixture
def probe_table(db_engine):
    """The probe tables, committed, for units of work of the runtime; dropped at the end."""
    PROBE.metadata.create_all(db_engine, tables=[PROBE, NOTE])
    try:
        yield PROBE
    finally:
        PROBE.metadata.drop_all(db_engine, tables=[PROBE, NOTE])


def test_a_lost_race_keeps_nothing_the_unit_of_work_wrote(rt, probe_table):
    """Pipelined, the COMMIT goes with the writes: the server's own check must stop it."""
    with pytest.raises(LostRace), transaction(rt) as db:
        db.run(INSERT, {"name": "written first", "at": AT})
        db.run(CLOSE, {"before": AT - timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
        db.run(INSERT, {"name": "written after", "at": AT})
    with transaction(rt, write=False) as db:
        assert db.all(EVERY, {}) == []


@pytest.mark.parametrize("answered_early", [False, True], ids=["answered-at-commit", "answered-early"])
def test_the_second_of_two_checked_writes_is_the_one_named(rt, probe_table, monkeypatch, answered_early):
    """Pipelined, the failed check's answer may also come in while BEGIN or COMMIT is being sent."""
    if answered_early:
        send_group = Database._send_group

        def then_wait(self, group):
            send_group(self, group)
            time.sleep(0.05)  # the server's answer is in before the next statement is sent

        monkeypatch.setattr(Database, "_send_group", then_wait)
    with transaction(rt) as db:
        db.run(INSERT, {"name": "a", "at": AT})
    with pytest.raises(LostRace, match="second"), transaction(rt) as db:
        db.run(CLOSE, {"before": AT + timedelta(hours=1), "state": "closed"}, unless_one=LostRace("first"))
        db.run(CLOSE, {"before": AT + timedelta(hours=1), "state": "closed"}, unless_one=LostRace("second"))
    with transaction(rt, write=False) as db:
        assert db.first(BY_NAME, {"name": "a"})[1] == "open"


def test_a_unit_of_work_gives_its_connection_back_as_it_found_it(rt, probe_table):
    """On PostgreSQL the driver is in autocommit mode during a unit of work, and out of it after."""
    with pytest.raises(IntegrityError), transaction(rt) as db:
        db.run(INSERT, {"name": "once", "at": AT})
        db.run(INSERT, {"name": "once", "at": AT})
    with transaction(rt) as db:
        db.run(INSERT, {"name": "once", "at": AT})
        db.session.execute(PROBE.update().values(state="seen"))  # the ORM joins the same transaction
    with transaction(rt, write=False) as db:
        assert db.all(EVERY, {}) == [("once",)]
    pooled = rt.engine.raw_connection()
    try:
        assert getattr(pooled.driver_connection, "autocommit", False) is False
    finally:
        pooled.close()


def _sent(talk) -> list[str]:
    """Return the statements a unit of work sent, without the pool's own reset."""
    return [sql for sql in talk.statements if not sql.startswith(("ROLLBACK", "DISCARD"))]


def test_writes_to_different_tables_go_as_one_statement_with_no_begin_or_commit(rt, probe_table, db_engine):
    with transaction(rt) as db:
        db.run(INSERT, {"name": "a", "at": AT})
    with counted(db_engine) as talk, transaction(rt) as db:
        db.run(CLOSE, {"before": AT + timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
        db.run(NOTE_ON, {"text": "closed a"})
    with transaction(rt, write=False) as db:
        assert db.first(BY_NAME, {"name": "a"})[1] == "closed"
        assert db.all(NOTES, {}) == [(None, "closed a")]
    if db_engine.dialect.name == "postgresql":
        # one statement is atomic by itself: the unit of work sends it alone, in one round trip
        assert len(_sent(talk)) == 1 and _sent(talk)[0].startswith("WITH m0 AS (UPDATE"), talk.statements
        assert talk.round_trips == 1


def test_a_lost_race_in_a_combined_statement_keeps_nothing(rt, probe_table):
    with transaction(rt) as db:
        db.run(INSERT, {"name": "a", "at": AT})
    with pytest.raises(LostRace), transaction(rt) as db:
        db.run(NOTE_ON, {"text": "written before the lost race"})
        db.run(CLOSE, {"before": AT - timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
    with transaction(rt, write=False) as db:
        assert db.all(NOTES, {}) == []
        assert db.first(BY_NAME, {"name": "a"})[1] == "open"


def test_a_write_that_reads_a_row_written_before_it_sees_that_row(rt, probe_table):
    """INSERT … SELECT from the probe table after a probe row is written: two statements, in order."""
    with transaction(rt) as db:
        db.run(INSERT, {"name": "new", "at": AT})
        db.run(NOTE_ON_NAMED, {"name": "new", "text": "about the new row"})
    with transaction(rt, write=False) as db:
        probe_id = db.first(BY_NAME, {"name": "new"})[0]
        assert db.all(NOTES, {}) == [(probe_id, "about the new row")]


def test_a_key_deleted_and_written_again_in_one_unit_of_work_is_kept(rt, probe_table):
    with transaction(rt) as db:
        db.run(INSERT, {"name": "again", "at": AT})
    with transaction(rt) as db:
        db.run(DROP, {"name": "again"})
        db.run(INSERT, {"name": "again", "at": AT + timedelta(hours=1)})
    with transaction(rt, write=False) as db:
        assert db.first(BY_NAME, {"name": "again"})[2] == AT + timedelta(hours=1)


def test_rows_of_a_numbered_table_written_in_one_unit_of_work_keep_their_order(rt, probe_table):
    with transaction(rt) as db:
        db.run_many(INSERT, [{"name": f"p{n}", "at": AT} for n in range(4)])
        db.run(NOTE_ON, {"text": "first"})
        db.run(NOTE_ON, {"text": "second"})
    with transaction(rt, write=False) as db:
        assert [row[0] for row in db.all(EVERY, {})] == ["p0", "p1", "p2", "p3"]
        assert [row[1] for row in db.all(NOTES, {})] == ["first", "second"]


def test_a_session_joining_after_held_writes_commits_them_with_its_own(rt, probe_table):
    with transaction(rt) as db:
        db.run(INSERT, {"name": "held", "at": AT})
        db.session.execute(NOTE.insert().values(text="from the session"))
    with pytest.raises(LostRace), transaction(rt) as db:
        db.run(INSERT, {"name": "held too", "at": AT})
        db.session.execute(NOTE.insert().values(text="rolled back"))
        raise LostRace()
    with transaction(rt, write=False) as db:
        assert db.all(EVERY, {}) == [("held",)]
        assert [row[1] for row in db.all(NOTES, {})] == ["from the session"]
