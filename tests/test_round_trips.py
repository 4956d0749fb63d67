"""A command talks to the database in few round trips: a start and a completion are counted.

The figures are what the commands take today on the demo approval (start; the applicant's
submission, which opens the county review with its timers). A change that makes a command wait for
the database more often fails here: on PostgreSQL every wait is a round trip to the server, which
costs more than the statement itself, so writes are sent together (engine/runtime/statements.py).
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field

import pytest
from sqlalchemy import event

from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from tests.engine_helpers import only_open_task

# (statements, round trips) at most, per store: BEGIN and COMMIT count as statements
# Before statements were pipelined PostgreSQL took 6 round trips to start, 12 to complete; before
# consecutive writes were combined into one statement (and a start drew its instance id with its
# first read), 6 statements in 3 round trips to start and 13 to complete.
MOST = {
    "sqlite": {"start": (6, 6), "complete": (13, 13)},
    "postgresql": {"start": (2, 2), "complete": (10, 6)},
}


@dataclass
class Talk:
    """What the connections checked out meanwhile sent: statements, and the waits for an answer."""

    statements: list[str] = field(default_factory=list)
    round_trips: int = 0


@contextmanager
def counted(engine) -> Iterator[Talk]:
    """Count the statements and round trips of every connection the engine hands out meanwhile.

    SQLite runs each statement in a call of its own (its trace callback sees each one). On
    PostgreSQL libpq's trace of the protocol shows each statement sent (Execute, or a simple Query)
    and each time the client stopped sending and the server answered: one round trip.
    """
    talk = Talk()
    traces = {}

    def checkout(dbapi_connection, _record, _proxy):
        if engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(lambda sql: talk.statements.append(sql[:60]))
            return
        from psycopg import pq  # only on PostgreSQL

        trace = traces[id(dbapi_connection)] = tempfile.TemporaryFile()  # noqa: SIM115 (closed at checkin)
        dbapi_connection.pgconn.trace(trace.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def checkin(dbapi_connection, _record):
        if dbapi_connection is None:
            return
        if engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(None)
            talk.round_trips = len(talk.statements)
            return
        dbapi_connection.pgconn.untrace()
        with traces.pop(id(dbapi_connection)) as trace:
            trace.seek(0)
            _read_protocol(trace.read().decode(), talk)

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield talk
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


def _read_protocol(text: str, talk: Talk) -> None:
    """Count a libpq trace's statements and its turns from client (F) to server (B): the round trips.

    A statement is an Execute (its text from the Parse of the statement bound) or a simple Query.
    """
    speaker, parsed, bound = "B", {}, ""
    for line in text.splitlines():
        if not line.startswith(("F\t", "B\t")):
            continue  # the rest of a message's text that spans lines
        direction, _length, message, *rest = line.split("\t")
        if direction == "F" and message == "Parse":
            name, sql = rest[0].split(" ", 2)[1:3]
            parsed[name] = sql.strip('"')
        elif direction == "F" and message == "Bind":
            bound = parsed.get(rest[0].split(" ")[2], "?")
        elif direction == "F" and message in ("Execute", "Query"):
            talk.statements.append((bound if message == "Execute" else rest[0].strip(' "'))[:60])
        if direction == "B" and speaker == "F":
            talk.round_trips += 1
        speaker = direction


def warmed_up(rt, actor, session_factory) -> None:
    """Run the flow a few times first: psycopg prepares a statement on its fifth run, then sends less."""
    for _ in range(6):
        iid = start_instance(rt, "demo_approval", actor("applicant"), {"subject": "热身"})
        complete_task(rt, actor("applicant"), only_open_task(session_factory, iid).id, {"description": "x"})


@pytest.fixture
def most(db_engine):
    return MOST[db_engine.dialect.name]


def test_a_start_takes_few_round_trips(rt, actor, session_factory, db_engine, most):
    warmed_up(rt, actor, session_factory)
    applicant = actor("applicant")
    with counted(db_engine) as talk:
        start_instance(rt, "demo_approval", applicant, {"subject": "继续教育学时申报"})
    assert len(talk.statements) <= most["start"][0] and talk.round_trips <= most["start"][1], talk.statements


def test_a_completion_that_opens_the_next_step_takes_few_round_trips(
    rt, actor, session_factory, db_engine, most
):
    warmed_up(rt, actor, session_factory)
    applicant = actor("applicant")
    iid = start_instance(rt, "demo_approval", applicant, {"subject": "继续教育学时申报"})
    task_id = only_open_task(session_factory, iid).id
    with counted(db_engine) as talk:
        complete_task(rt, applicant, task_id, {"description": "2025 年度"})
    assert only_open_task(session_factory, iid).spec_name == "county_review"
    assert len(talk.statements) <= most["complete"][0] and talk.round_trips <= most["complete"][1], (
        talk.statements
    )
