"""Prepared statements: compiled once per dialect, run on the driver's cursor, values as SQLAlchemy's."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import Column
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import bindparam
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
    """The probe table, committed, for units of work of the runtime; dropped at the end."""
    PROBE.create(db_engine)
    try:
        yield PROBE
    finally:
        PROBE.drop(db_engine)


def test_a_lost_race_keeps_nothing_the_unit_of_work_wrote(rt, probe_table):
    """Pipelined, the COMMIT goes with the writes: the server's own check must stop it."""
    with pytest.raises(LostRace), transaction(rt) as db:
        db.run(INSERT, {"name": "written first", "at": AT})
        db.run(CLOSE, {"before": AT - timedelta(hours=1), "state": "closed"}, unless_one=LostRace())
        db.run(INSERT, {"name": "written after", "at": AT})
    with transaction(rt, write=False) as db:
        assert db.all(EVERY, {}) == []


def test_the_second_of_two_checked_writes_is_the_one_named(rt, probe_table):
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
